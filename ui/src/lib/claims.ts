/**
 * What the UI knows of the session. The access and refresh tokens live in HttpOnly cookies that no
 * script can read (so an injected script cannot steal them); who is signed in comes from
 * GET /api/couture/users/me, and the only cookie the UI reads is the CSRF token it must echo.
 */

export interface Claims {
  sub: string;
  roles: string[];
}

/** Every state-changing request carries the csrf cookie's value in this header (double submit). */
export const CSRF_HEADER = "X-CSRF-Token";

/** Secure deployments name the cookie "__Host-couture_csrf"; plain-http development "couture_csrf". */
const CSRF_COOKIES = ["__Host-couture_csrf", "couture_csrf"];

/** The session's CSRF token from a `document.cookie` string; null when there is no session. */
export function csrfToken(cookies: string): string | null {
  const found = new Map<string, string>();
  for (const part of cookies.split(";")) {
    const at = part.indexOf("=");
    if (at > 0) found.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  for (const name of CSRF_COOKIES) {
    const value = found.get(name);
    if (value) return decodeURIComponent(value);
  }
  return null;
}

/**
 * Cookie assignments that delete the CSRF cookie (both names): written to `document.cookie` at
 * logout, so a page loaded before the server's answer arrives does not take itself for signed in.
 */
export function csrfCookieDeletions(): string[] {
  return [
    "__Host-couture_csrf=; Max-Age=0; Path=/; Secure; SameSite=Strict",
    "couture_csrf=; Max-Age=0; Path=/; SameSite=Strict",
  ];
}

/**
 * Where to go after signing in: `target` when it is a path of this site, else "/". The same rule
 * as the server's `safe_next`: one leading "/", not "//" or "/\" (another host to a browser), no
 * backslash, no control character or space (browsers strip some, reshaping what is left).
 */
export function safeNext(target: string | null | undefined): string {
  if (!target || !target.startsWith("/") || target.startsWith("//") || target.startsWith("/\\")) return "/";
  for (const c of target) {
    const code = c.charCodeAt(0);
    if (c === "\\" || code < 0x21 || code === 0x7f) return "/";
  }
  return target;
}
