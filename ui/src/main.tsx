import { StrictMode, type ReactElement } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Layout } from "./components/Layout";
import { safeNext } from "./lib/claims";
import type { Action } from "./lib/permissions";
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

function Needs({ action, children }: { action: Action; children: ReactElement }) {
  return useSession().allowed(action) ? children : <Forbidden />;
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
        <Route path="/browse/dag-runs" element={<DagRuns />} />
        <Route path="/browse/task-instances" element={<TaskInstances />} />
        <Route path="/browse/sla-misses" element={<SlaMisses />} />
        <Route path="/browse/audit-logs" element={<AuditLogs />} />
        <Route path="/admin/variables" element={<Needs action="admin"><Variables /></Needs>} />
        <Route path="/admin/connections" element={<Needs action="admin"><Connections /></Needs>} />
        <Route path="/admin/pools" element={<Needs action="admin"><Pools /></Needs>} />
        <Route path="/admin/ldap" element={<Needs action="security"><LdapConfig /></Needs>} />
        <Route path="/admin/*" element={<Needs action="admin"><NotBuilt /></Needs>} />
        <Route path="/developer/dags" element={<Needs action="develop"><ManageDags /></Needs>} />
        <Route path="/developer/*" element={<Needs action="develop"><NotBuilt /></Needs>} />
        <Route path="/security/users" element={<Needs action="security"><Users /></Needs>} />
        <Route path="/security/roles" element={<Needs action="security"><Roles /></Needs>} />
        <Route path="/security/*" element={<Needs action="security"><NotBuilt /></Needs>} />
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
