/** What the UI reads from the access token: who is signed in, with which roles, until when. */

export interface Claims {
  sub: string;
  roles: string[];
  exp: number | null;
}

function base64UrlDecode(segment: string): string {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The claims of a JWT, or null when ``token`` is not one. The server verifies it; we only read it. */
export function readClaims(token: string): Claims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const raw = JSON.parse(base64UrlDecode(payload)) as Record<string, unknown>;
    const roles = Array.isArray(raw.roles) ? raw.roles.filter((r): r is string => typeof r === "string") : [];
    return {
      sub: typeof raw.sub === "string" ? raw.sub : "",
      roles,
      exp: typeof raw.exp === "number" ? raw.exp : null,
    };
  } catch {
    return null;
  }
}

export function isExpired(claims: Claims, nowSeconds: number): boolean {
  return claims.exp !== null && claims.exp <= nowSeconds;
}
