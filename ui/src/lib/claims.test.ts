import { describe, expect, it } from "vitest";
import { csrfCookieDeletions, csrfToken, safeNext } from "./claims";

describe("the session's CSRF token", () => {
  it("is read from the csrf cookie, prefixed or not", () => {
    expect(csrfToken("couture.theme=dark; couture_csrf=abc-123; other=x")).toBe("abc-123");
    expect(csrfToken("__Host-couture_csrf=s3cure")).toBe("s3cure");
  });

  it("is deleted under both of its names, with the attributes a __Host- cookie needs", () => {
    const [secure, plain] = csrfCookieDeletions();
    expect(secure).toMatch(/^__Host-couture_csrf=; Max-Age=0; Path=\/; Secure/);
    expect(plain).toMatch(/^couture_csrf=; Max-Age=0; Path=\//);
  });

  it("is missing without a session", () => {
    expect(csrfToken("")).toBeNull();
    expect(csrfToken("couture_csrf=")).toBeNull();
    expect(csrfToken("not_couture_csrf=abc")).toBeNull();
  });
});

describe("next= after signing in", () => {
  it.each([
    ["/dags", "/dags"],
    ["/dags/etl/grid?run_id=r1#log", "/dags/etl/grid?run_id=r1#log"],
    [null, "/"],
    ["", "/"],
    ["//evil.example", "/"],
    ["/\\evil.example", "/"],
    ["/dags\\..\\evil", "/"],
    ["https://evil.example/", "/"],
    ["javascript:alert(1)", "/"],
    ["evil.example", "/"],
    ["/\t/evil.example", "/"],
    ["/\n/evil.example", "/"],
    ["/ /evil.example", "/"],
    ["/dags\u0000", "/"],
  ])("%j goes to %j", (target, expected) => {
    expect(safeNext(target)).toBe(expected);
  });
});
