import { StrictMode, type ReactElement } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Layout } from "./components/Layout";
import { safeNext } from "./lib/claims";
import { PAGE_NEEDS } from "./lib/nav";
import type { Need } from "./lib/permissions";
import { Connections } from "./pages/admin/Connections";
import { LdapConfig } from "./pages/admin/LdapConfig";
import { Pools } from "./pages/admin/Pools";
import { Variables } from "./pages/admin/Variables";
import { AuditLogs } from "./pages/browse/AuditLogs";
import { DagRuns } from "./pages/browse/DagRuns";
import { SlaMisses } from "./pages/browse/SlaMisses";
import { TaskInstances } from "./pages/browse/TaskInstances";
import { DagPage } from "./pages/dag/DagPage";
import { DagsList } from "./pages/DagsList";
import { ManageDags } from "./pages/developer/ManageDags";
import { Login } from "./pages/Login";
import { NotBuilt } from "./pages/NotBuilt";
import { ResetPassword } from "./pages/account/ResetPassword";
import { Roles } from "./pages/security/Roles";
import { Users } from "./pages/security/Users";
import { SessionProvider, useSession } from "./session";
import "./styles.css";

function Forbidden() {
  return (
    <section className="card not-built">
      <h1>Not allowed</h1>
      <p>Your role does not give access to this page.</p>
    </section>
  );
}

/** The page when the user's roles grant one of `any` (the rules of the endpoints it lists from). */
function Needs({ any, children }: { any: readonly Need[]; children: ReactElement }) {
  return useSession().access.mayAny(any) ? children : <Forbidden />;
}

function App() {
  const { claims, checking, mustChangePassword } = useSession();
  const location = useLocation();
  if (checking) return null;
  if (!claims) {
    if (location.pathname === "/login") return <Login key={location.key} />;
    // Signed out on a page: sign in first, then come back to it.
    const here = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to={`/login?next=${encodeURIComponent(here)}`} replace />;
  }
  if (mustChangePassword)
    return (
      <div className="login-page">
        <ResetPassword forced />
      </div>
    );
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/dags" replace />} />
        <Route path="/login" element={<Navigate to={safeNext(new URLSearchParams(location.search).get("next"))} replace />} />
        <Route path="/dags" element={<DagsList />} />
        <Route path="/dags/:dagId" element={<Navigate to="grid" replace />} />
        <Route path="/dags/:dagId/:tab" element={<DagPage />} />
        <Route path="/browse/dag-runs" element={<Needs any={PAGE_NEEDS.dagRuns}><DagRuns /></Needs>} />
        <Route path="/browse/task-instances" element={<Needs any={PAGE_NEEDS.taskInstances}><TaskInstances /></Needs>} />
        <Route path="/browse/sla-misses" element={<Needs any={PAGE_NEEDS.slaMisses}><SlaMisses /></Needs>} />
        <Route path="/browse/audit-logs" element={<Needs any={PAGE_NEEDS.auditLogs}><AuditLogs /></Needs>} />
        <Route path="/admin/variables" element={<Needs any={PAGE_NEEDS.variables}><Variables /></Needs>} />
        <Route path="/admin/connections" element={<Needs any={PAGE_NEEDS.connections}><Connections /></Needs>} />
        <Route path="/admin/pools" element={<Needs any={PAGE_NEEDS.pools}><Pools /></Needs>} />
        <Route path="/admin/ldap" element={<Needs any={PAGE_NEEDS.ldap}><LdapConfig /></Needs>} />
        <Route path="/admin/*" element={<Needs any={PAGE_NEEDS.admin}><NotBuilt /></Needs>} />
        <Route path="/developer/dags" element={<Needs any={PAGE_NEEDS.manageDags}><ManageDags /></Needs>} />
        <Route path="/developer/*" element={<Needs any={PAGE_NEEDS.developer}><NotBuilt /></Needs>} />
        <Route path="/security/users" element={<Needs any={PAGE_NEEDS.users}><Users /></Needs>} />
        <Route path="/security/roles" element={<Needs any={PAGE_NEEDS.roles}><Roles /></Needs>} />
        <Route path="/security/*" element={<Needs any={[...PAGE_NEEDS.users, ...PAGE_NEEDS.roles]}><NotBuilt /></Needs>} />
        <Route path="/account/password" element={<ResetPassword />} />
        <Route path="*" element={<NotBuilt />} />
      </Route>
    </Routes>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <SessionProvider>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </SessionProvider>
  </StrictMode>,
);
