/** The frame around every signed-in page: navigation, timezone, theme and the user menu. */
import { useState } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router-dom";
import { LiveProvider, useLive } from "../lib/live";
import { visibleSections } from "../lib/nav";
import { UTC } from "../lib/time";
import { useSession } from "../session";

// Some ICU builds list only legacy names (Asia/Calcutta); the current names people search for come first.
const COMMON_ZONES = [
  "America/New_York",
  "America/Chicago",
  "America/Los_Angeles",
  "America/Sao_Paulo",
  "Europe/London",
  "Europe/Berlin",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Asia/Tokyo",
  "Australia/Sydney",
];

function timeZones(): string[] {
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return Array.from(new Set([UTC, local, ...COMMON_ZONES, ...all]));
}

function Menu({ label, ariaLabel, children }: { label: string; ariaLabel?: string; children: React.ReactNode }) {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const [openedAt, setOpenedAt] = useState(location.key);
  if (open && openedAt !== location.key) setOpen(false);
  return (
    <div className="menu" onMouseLeave={() => setOpen(false)}>
      <button
        type="button"
        className="menu-button"
        aria-label={ariaLabel}
        aria-expanded={open}
        onClick={() => {
          setOpen(!open);
          setOpenedAt(location.key);
        }}
      >
        {label} ▾
      </button>
      {open && <div className="menu-items">{children}</div>}
    </div>
  );
}

/** Whether views update as changes happen (the live stream is open) or poll while it reconnects. */
function LiveIndicator() {
  const { connected } = useLive();
  const title = connected ? "Live: views update as changes happen" : "Reconnecting the live stream: views poll meanwhile";
  return (
    <span className="live-indicator" data-live={connected ? "on" : "off"} title={title} aria-label={title} role="img">
      <span className="stream-dot" />
    </span>
  );
}

export function Layout() {
  return (
    <LiveProvider>
      <Frame />
    </LiveProvider>
  );
}

function Frame() {
  const { claims, logout, access, timeZone, setTimeZone, theme, setTheme } = useSession();
  return (
    <div className="app">
      <nav className="topbar">
        <Link to="/dags" className="brand">
          <span className="logo" /> Couture
        </Link>
        <NavLink to="/dags" className="nav-link">
          DAGs
        </NavLink>
        {visibleSections(access).map((section) => (
          <Menu key={section.label} label={section.label}>
            {section.items.map((item) => (
              <Link key={item.path} to={item.path}>
                {item.label}
              </Link>
            ))}
          </Menu>
        ))}
        <div className="spacer" />
        <LiveIndicator />
        <select aria-label="Timezone" className="tz" value={timeZone} onChange={(e) => setTimeZone(e.target.value)}>
          {timeZones().map((tz) => (
            <option key={tz}>{tz}</option>
          ))}
        </select>
        <button
          type="button"
          className="icon"
          aria-label={theme === "dark" ? "Light mode" : "Dark mode"}
          title={theme === "dark" ? "Light mode" : "Dark mode"}
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
        >
          {theme === "dark" ? "☀" : "☾"}
        </button>
        <Menu label={claims?.sub ?? "user"} ariaLabel="User menu">
          <div className="menu-note">Roles: {claims?.roles.join(", ") || "none"}</div>
          <Link to="/account/password">Reset my password</Link>
          <button type="button" onClick={logout}>
            Log out
          </button>
        </Menu>
      </nav>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
