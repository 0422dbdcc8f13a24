// The session lives in HttpOnly cookies (no token a script can read), a lapsed access token is
// renewed without the user noticing, and ?next= after signing in stays on this site.
import { BASE_URL, shot, withPage } from "./browser.mjs";

async function signIn(page) {
  await page.getByLabel("Username").fill("superadmin");
  await page.getByLabel("Password").fill("couture@123");
  await page.getByRole("button", { name: "Sign in" }).click();
}

await withPage(async (page, result) => {
  // Signed out on a page: to the login with that page as next=, and back to it after signing in.
  await page.goto(`${BASE_URL}/admin/variables`);
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  result.loginUrl = new URL(page.url()).pathname + new URL(page.url()).search;
  await signIn(page);
  await page.getByRole("heading", { name: "Variables" }).waitFor();
  result.afterLogin = new URL(page.url()).pathname;
  await shot(page, "back-to-next-page");

  const cookies = await page.context().cookies();
  result.cookies = cookies
    .filter((c) => c.name.includes("couture_"))
    .map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path }))
    .sort((a, b) => a.name.localeCompare(b.name));
  result.scriptSeesCookies = await page.evaluate(() => document.cookie);
  result.storedValues = await page.evaluate(() =>
    [localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => s.getItem(k) ?? "")),
  );
  result.steps.push("signed in with cookies");

  // The access cookie lapses (as after 15 minutes): the next call is renewed, not signed out.
  await page.context().clearCookies({ name: "couture_access" });
  const renewal = page.waitForResponse((r) => new URL(r.url()).pathname === "/auth/refresh");
  await page.getByRole("button", { name: "Browse ▾", exact: true }).click();
  await page.getByRole("link", { name: "DAG Runs" }).click();
  result.renewStatus = (await renewal).status();
  await page.getByRole("heading", { name: "DAG Runs" }).waitFor();
  result.stillSignedIn = await page.getByRole("button", { name: "User menu" }).isVisible();
  result.renewedAccess = (await page.context().cookies()).some((c) => c.name === "couture_access");
  result.steps.push("renewed transparently");

  // Two tabs find the access cookie lapsed at the same moment: they renew in turn, each with the
  // refresh cookie the other just received (sending the same one twice would end the session).
  const other = await page.context().newPage();
  await other.goto(`${BASE_URL}/dags`);
  await other.getByRole("heading", { name: "DAGs" }).waitFor();
  await page.context().clearCookies({ name: "couture_access" });
  const refreshes = [];
  page.context().on("response", (r) => {
    if (new URL(r.url()).pathname === "/auth/refresh") refreshes.push(r.status());
  });
  await Promise.all([page.reload(), other.reload()]);
  // Both still signed in: without an access cookie that took a renewal, and no tab ended the session.
  await page.getByRole("button", { name: "User menu" }).waitFor();
  await other.getByRole("button", { name: "User menu" }).waitFor();
  result.twoTabRefreshes = refreshes;
  await other.close();
  result.steps.push("two tabs renewed in turn");

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  result.cookiesAfterLogout = (await page.context().cookies()).map((c) => c.name).filter((n) => n.includes("couture_"));

  // A next= pointing elsewhere is not followed: the user lands on this site's DAGs.
  await page.goto(`${BASE_URL}/login?next=${encodeURIComponent("//evil.example/steal")}`);
  await signIn(page);
  await page.getByRole("heading", { name: "DAGs" }).waitFor();
  result.afterEvilNext = page.url();
  await shot(page, "evil-next-ignored");

  // The page is left while the logout is on its way (held here until the reload): the reloaded
  // page starts signed out, without trying the session it was revoking.
  const logoutPath = "**/api/couture/users/me/logout";
  await page.route(logoutPath, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await route.continue().catch(() => undefined);
  });
  const refusedBefore = result.failedRequests.length;
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.reload();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await page.unroute(logoutPath);
  result.refusedAfterInterruptedLogout = result.failedRequests.slice(refusedBefore);
  result.steps.push("left mid-logout");
});
