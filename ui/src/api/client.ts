/** Calls to the gateway, same origin, with the signed-in user's bearer token. */

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
  token: () => string | null;
  /** The token is no longer accepted (expired, revoked, user gone). */
  unauthorised: () => void;
  /** The user must set a new password before anything else. */
  passwordChangeRequired: () => void;
}

let hooks: ApiHooks = { token: () => null, unauthorised: () => undefined, passwordChangeRequired: () => undefined };

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

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = hooks.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const answer = await fetch(path, { method, headers, body: payload });
  if (answer.status === 401 && token) hooks.unauthorised();
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
