/**
 * The signed-in user and their preferences. The session itself is a pair of HttpOnly cookies set
 * by POST /auth/login: no token is kept where a script could read it (no localStorage or
 * sessionStorage). Who is signed in, with which roles, comes from GET /api/couture/users/me.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { configureApi, hasSession, request } from "./api/client";
import type { Claims } from "./lib/claims";
import { can, type Action } from "./lib/permissions";
import { UTC } from "./lib/time";

const TZ_KEY = "couture.timezone";
const THEME_KEY = "couture.theme";

export type Theme = "light" | "dark";

interface Session {
  /** The signed-in user; null when signed out. */
  claims: Claims | null;
  /** Still asking the server whether the browser's session cookies are good. */
  checking: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  /** The gateway refuses everything until this user sets a new password. */
  mustChangePassword: boolean;
  passwordChanged: () => void;
  allowed: (action: Action) => boolean;
  timeZone: string;
  setTimeZone: (tz: string) => void;
  theme: Theme;
  setTheme: (theme: Theme) => void;
}

const SessionContext = createContext<Session | null>(null);

interface Me {
  username: string;
  roles: string[];
}

async function whoAmI(): Promise<Claims> {
  const me = await request<Me>("GET", "/api/couture/users/me");
  return { sub: me.username, roles: me.roles };
}

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [claims, setClaims] = useState<Claims | null>(null);
  // Without a CSRF cookie there is no session to ask about (and no refused call to make).
  const [checking, setChecking] = useState(hasSession);
  const [timeZone, setTz] = useState(() => localStorage.getItem(TZ_KEY) ?? UTC);
  const [theme, setThemeState] = useState<Theme>(initialTheme);
  const [mustChangePassword, setMustChangePassword] = useState(false);

  const forget = useCallback(() => {
    setClaims(null);
    setMustChangePassword(false);
  }, []);

  const logout = useCallback(async () => {
    // The server revokes the session (every copy of its tokens stops working) and clears the
    // cookies; signed out here regardless. Waited for, so a quick new login keeps its cookies.
    await request("POST", "/api/couture/users/me/logout").catch(() => undefined);
    forget();
  }, [forget]);

  // Configured during render so the first requests of child effects already report back.
  configureApi({ unauthorised: forget, passwordChangeRequired: () => setMustChangePassword(true) });

  const login = useCallback(async (username: string, password: string) => {
    await request("POST", "/auth/login", { username, password });
    setMustChangePassword(false);
    setClaims(await whoAmI());
  }, []);

  useEffect(() => {
    if (!checking) return;
    let cancelled = false;
    whoAmI()
      .then((me) => !cancelled && setClaims(me))
      .catch(() => undefined)
      .finally(() => !cancelled && setChecking(false));
    return () => {
      cancelled = true;
    };
  }, [checking]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const value = useMemo<Session>(
    () => ({
      claims,
      checking,
      login,
      logout,
      mustChangePassword,
      passwordChanged: () => setMustChangePassword(false),
      allowed: (action) => can(claims?.roles ?? [], action),
      timeZone,
      setTimeZone: (tz) => {
        localStorage.setItem(TZ_KEY, tz);
        setTz(tz);
      },
      theme,
      setTheme: (next) => {
        localStorage.setItem(THEME_KEY, next);
        setThemeState(next);
      },
    }),
    [claims, checking, login, logout, mustChangePassword, timeZone, theme],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
