/**
 * The signed-in user and their preferences. The session itself is a pair of HttpOnly cookies set
 * by POST /auth/login: no token is kept where a script could read it (no localStorage or
 * sessionStorage). Who is signed in, with which roles and what those let them do, comes from
 * GET /api/couture/users/me.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, configureApi, hasSession, request } from "./api/client";
import { csrfCookieDeletions, type Claims } from "./lib/claims";
import { access, NO_PERMISSIONS, type Access, type EffectivePermissions } from "./lib/permissions";
import { UTC } from "./lib/time";

const TZ_KEY = "couture.timezone";
const THEME_KEY = "couture.theme";
const PERMISSIONS_REFRESH_MS = 60_000;

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
  /** What the user's roles let them do now: menus and controls show only what it grants. */
  access: Access;
  timeZone: string;
  setTimeZone: (tz: string) => void;
  theme: Theme;
  setTheme: (theme: Theme) => void;
}

const SessionContext = createContext<Session | null>(null);

interface Me {
  username: string;
  roles: string[];
  permissions: EffectivePermissions;
}

type SignedIn = Claims & { permissions: EffectivePermissions };

async function whoAmI(): Promise<SignedIn> {
  const me = await request<Me>("GET", "/api/couture/users/me");
  return { sub: me.username, roles: me.roles, permissions: me.permissions };
}

/** Set while this tab logs out (a flag, not a secret). */
const LOGGING_OUT = "couture.loggingOut";

/** Whether there is a session to ask the server about: none once this tab began logging out. */
function sessionToCheck(): boolean {
  if (sessionStorage.getItem(LOGGING_OUT)) {
    // The page was left mid-logout: finish forgetting here (no call is in flight any more).
    sessionStorage.removeItem(LOGGING_OUT);
    for (const deletion of csrfCookieDeletions()) document.cookie = deletion;
    return false;
  }
  return hasSession();
}

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [claims, setClaims] = useState<SignedIn | null>(null);
  // Without a CSRF cookie there is no session to ask about (and no refused call to make).
  const [checking, setChecking] = useState(sessionToCheck);
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
    // Noted first: a page this tab loads before the answer arrives starts signed out instead of
    // trying the session being revoked.
    sessionStorage.setItem(LOGGING_OUT, "1");
    const answered = await request("POST", "/api/couture/users/me/logout").then(
      () => true,
      (error: unknown) => error instanceof ApiError,
    );
    // Kept when no answer came (the page was left and the call cut short): the next page finishes.
    if (answered) sessionStorage.removeItem(LOGGING_OUT);
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

  // Roles change while a tab is open (an Admin edits a role or a user's roles): what the menus and
  // controls offer is asked again every minute and when the user comes back to the tab.
  const signedInAs = claims?.sub;
  useEffect(() => {
    if (!signedInAs) return;
    let cancelled = false;
    const refresh = () => {
      whoAmI()
        .then((me) => {
          if (cancelled || me.sub !== signedInAs) return;
          setClaims((known) => (JSON.stringify(known) === JSON.stringify(me) ? known : me));
        })
        .catch(() => undefined);
    };
    const timer = window.setInterval(refresh, PERMISSIONS_REFRESH_MS);
    window.addEventListener("focus", refresh);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
      window.removeEventListener("focus", refresh);
    };
  }, [signedInAs]);

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
      access: access(claims?.permissions ?? NO_PERMISSIONS),
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
