/**
 * Calls to the gateway, same origin. The session travels in HttpOnly cookies the browser attaches;
 * every state-changing call also sends the CSRF token, and a call refused because the short-lived
 * access token expired renews the session once (POST /auth/refresh) and is sent again.
 */
import { CSRF_HEADER, csrfToken } from "../lib/claims";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How the gateway refuses every call but the password change while one is required. */
export const PASSWORD_CHANGE_REQUIRED = "Password change required";

interface ApiHooks {
  /** The session is over (logged out elsewhere, expired, user gone) and could not be renewed. */
  unauthorised: () => void;
  /** The user must set a new password before anything else. */
  passwordChangeRequired: () => void;
}

let hooks: ApiHooks = { unauthorised: () => undefined, passwordChangeRequired: () => undefined };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Answers of these are about signing in itself: a 401 there is the answer, not a lapsed session. */
const SESSION_PATHS = ["/auth/login", "/auth/refresh", "/auth/token"];

/** Whether the browser holds a session (its CSRF cookie is readable; the tokens are not). */
export function hasSession(): boolean {
  return csrfToken(document.cookie) !== null;
}

let renewing: Promise<boolean> | null = null;

async function refreshOnce(): Promise<boolean> {
  const csrf = csrfToken(document.cookie);
  if (!csrf) return false;
  const answer = await fetch("/auth/refresh", {
    method: "POST",
    headers: { Accept: "application/json", [CSRF_HEADER]: csrf },
    credentials: "same-origin",
  });
  return answer.ok;
}

/**
 * Renew the session with the refresh cookie. A refresh token works once, and the server takes a
 * second use for theft and ends the session: so calls refused at the same moment share one renewal,
 * and tabs take turns (a Web Lock), each sending the refresh cookie the one before it received.
 */
export function renewSession(): Promise<boolean> {
  renewing ??= (async () => {
    try {
      if (!navigator.locks) return await refreshOnce();
      return await navigator.locks.request("couture-session-renewal", refreshOnce);
    } catch {
      return false;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

export function configureApi(next: ApiHooks): void {
  hooks = next;
}

/** FastAPI answers errors as {"detail": "..."} or {"detail": [{"loc": [...], "msg": "..."}]}. */
function describeError(body: unknown, fallback: string): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail))
      return detail
        .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg ?? ""}`)
        .join("; ");
    return JSON.stringify(detail);
  }
  return fallback;
}

/** JSON answers parsed; anything else (a proxy's HTML error page) kept as text. */
function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const csrf = csrfToken(document.cookie);
  if (csrf && !SAFE_METHODS.has(method)) headers[CSRF_HEADER] = csrf;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  return fetch(path, { method, headers, body: payload, credentials: "same-origin" });
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let answer = await send(method, path, body);
  if (answer.status === 401 && !SESSION_PATHS.includes(path)) {
    // The access token lives minutes: renew it with the refresh cookie and ask again, once.
    if (hasSession() && (await renewSession())) answer = await send(method, path, body);
    if (answer.status === 401) hooks.unauthorised();
  }
  if (answer.status === 204) return undefined as T;
  const text = await answer.text();
  const parsed = parseBody(text);
  if (!answer.ok) {
    const message = describeError(parsed, `${answer.status} ${answer.statusText}`);
    if (answer.status === 403 && message.startsWith(PASSWORD_CHANGE_REQUIRED)) hooks.passwordChangeRequired();
    throw new ApiError(answer.status, message);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, body),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, body),
  delete: (path: string) => request<void>("DELETE", path),
};

/** Builds "/api/v2/dags/a%2Fb/dagRuns?limit=5" from parts, escaping each path segment. */
export function url(segments: readonly (string | number)[], query?: Record<string, string | number | boolean | undefined>): string {
  const path = segments.map((s, i) => (i === 0 ? String(s) : encodeURIComponent(String(s)))).join("/");
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.append(key, String(value));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
