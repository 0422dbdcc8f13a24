import { useLocation } from "react-router-dom";
import { NAV } from "../lib/nav";

/** Menu entries whose page is still to come say so, rather than disappearing. */
export function NotBuilt() {
  const { pathname } = useLocation();
  const entry = NAV.flatMap((s) => s.items.map((i) => ({ ...i, section: s.label }))).find((i) => i.path === pathname);
  const title = entry ? `${entry.section} › ${entry.label}` : "Page not found";
  return (
    <section className="card not-built">
      <h1>{title}</h1>
      <p>{entry ? "This page is not available in this version of Couture yet." : `Nothing lives at ${pathname}.`}</p>
    </section>
  );
}
