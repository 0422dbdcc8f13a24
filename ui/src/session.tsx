/** The signed-in user (token kept in sessionStorage: gone when the tab closes) and their preferences. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { configureApi, request } from "./api/client";
import { isExpired, readClaims, type Claims } from "./lib/claims";
import { can, type Action } from "./lib/permissions";
import { UTC } from "./lib/time";

const TOKEN_KEY = "couture.token";
const TZ_KEY = "couture.timezone";
const THEME_KEY = "couture.theme";

export type Theme = "light" | "dark";

interface Session {
  token: string | null;
  claims: Claims | null;
  login: (username: string, password: string) => Promise<void>;
  logout: () => void;
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

function storedToken(): string | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const claims = token ? readClaims(token) : null;
  return token && claims && !isExpired(claims, Date.now() / 1000) ? token : null;
}

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(storedToken);
  const [timeZone, setTz] = useState(() => localStorage.getItem(TZ_KEY) ?? UTC);
  const [theme, setThemeState] = useState<Theme>(initialTheme);

  const [mustChangePassword, setMustChangePassword] = useState(false);

  const forget = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setMustChangePassword(false);
  }, []);

  const logout = useCallback(() => {
    // Revoke the token on the server too, so a copy of it stops working; sign out here regardless.
    void request("POST", "/api/couture/users/me/logout").catch(() => undefined);
    forget();
  }, [forget]);

  // Configured during render so the first requests of child effects already carry the token.
  configureApi({ token: () => token, unauthorised: forget, passwordChangeRequired: () => setMustChangePassword(true) });

  const login = useCallback(async (username: string, password: string) => {
    const answer = await request<{ access_token: string }>("POST", "/auth/token", { username, password });
    sessionStorage.setItem(TOKEN_KEY, answer.access_token);
    setMustChangePassword(false);
    setToken(answer.access_token);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  // Roles can change after the token was issued (the server checks them per request): ask for them.
  const [roles, setRoles] = useState<string[] | null>(null);
  useEffect(() => {
    setRoles(null);
    if (!token) return;
    let cancelled = false;
    request<{ roles: string[] }>("GET", "/api/couture/users/me")
      .then((me) => !cancelled && setRoles(me.roles))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [token]);

  const value = useMemo<Session>(() => {
    const read = token ? readClaims(token) : null;
    const claims = read && roles ? { ...read, roles } : read;
    return {
      token,
      claims,
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
    };
  }, [token, roles, login, logout, mustChangePassword, timeZone, theme]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
