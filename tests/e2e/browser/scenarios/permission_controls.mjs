// Menus and controls from effective permissions: a custom role reading DAG perm_a and Variables, a
// custom role operating DAG perm_b only, and the built-in Viewer, each in a fresh session.
import { BASE_URL, login, param, shot, withPage } from "./browser.mjs";

const runId = param("COUTURE_RUN_ID");
const password = param("COUTURE_PASSWORD");

/** Every top-bar menu but the user's, with its entries: {"Browse": ["DAG Runs", ...], ...}. */
async function menus(page) {
  const found = {};
  const buttons = page.locator("nav.topbar .menu-button:not([aria-label='User menu'])");
  for (let i = 0; i < (await buttons.count()); i++) {
    const button = buttons.nth(i);
    const label = (await button.innerText()).replace("▾", "").trim();
    await button.click();
    found[label] = await page.locator(".menu-items a").allInnerTexts();
    await button.click();
  }
  return found;
}

/** The DAGs list: its DAG ids, which rows have a trigger button, and which pause switches are disabled. */
async function dagsList(page) {
  await page.goto(`${BASE_URL}/dags`);
  await page.locator("tr[data-dag-id]").first().waitFor();
  const rows = page.locator("tr[data-dag-id]");
  const seen = { dags: [], triggerFor: [], listPauseDisabled: [] };
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    const dagId = await row.getAttribute("data-dag-id");
    seen.dags.push(dagId);
    if ((await row.getByRole("button", { name: `Trigger ${dagId}` }).count()) > 0) seen.triggerFor.push(dagId);
    seen.listPauseDisabled.push(await row.getByRole("switch").isDisabled());
  }
  return seen;
}

/** An Admin elsewhere (a script with a token) adds pairs to a custom role. */
async function grantElsewhere(roleName, pairs) {
  const signedIn = await fetch(`${BASE_URL}/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "superadmin", password: "couture@123" }),
  });
  const headers = { Authorization: `Bearer ${(await signedIn.json()).access_token}`, "Content-Type": "application/json" };
  const roleUrl = `${BASE_URL}/api/couture/security/roles/${encodeURIComponent(roleName)}`;
  const role = await (await fetch(roleUrl, { headers })).json();
  const actions = [...role.actions, ...pairs.map(([action, resource]) => ({ action: { name: action }, resource: { name: resource } }))];
  const answer = await fetch(roleUrl, { method: "PATCH", headers, body: JSON.stringify({ name: roleName, actions }) });
  if (!answer.ok) throw new Error(`granting failed: ${answer.status} ${await answer.text()}`);
}

async function signInFresh(page, username) {
  await page.context().clearCookies();
  await login(page, username, password);
}

withPage(async (page, result) => {
  // The custom role reading perm_a (and Variables), editing nothing.
  await signInFresh(page, "cora");
  const reader = { menus: await menus(page), ...(await dagsList(page)) };
  reader.listTriggers = reader.triggerFor.length;
  await shot(page, "custom-role-dags");

  await page.goto(`${BASE_URL}/dags/perm_a/grid?run=${encodeURIComponent(runId)}&task=hello`);
  const panel = page.getByTestId("task-instance-panel");
  await panel.waitFor();
  reader.dagTrigger = await page.getByRole("button", { name: "Trigger perm_a" }).count();
  reader.dagPauseDisabled = await page.locator(".page-header").getByRole("switch").isDisabled();
  reader.panelButtons = await panel.locator(".actions button").allInnerTexts();
  reader.dagTabs = await page.locator("nav.tabs a").allInnerTexts();
  reader.panelTabs = await panel.locator("nav.tabs button").allInnerTexts();
  await shot(page, "custom-role-task-panel");

  await page.goto(`${BASE_URL}/admin/variables`);
  await page.locator("table.table tbody tr").first().waitFor();
  reader.variableRows = await page.locator("table.table tbody tr td:first-child").allInnerTexts();
  reader.variableButtons = await page.locator("section button").allInnerTexts();
  await shot(page, "custom-role-variables");

  await page.goto(`${BASE_URL}/security/users`);
  reader.usersPage = await page.getByRole("heading", { level: 1 }).innerText();
  result.reader = reader;

  // Granted triggering perm_a while the page is open: the trigger button appears once the user
  // comes back to the tab, without a reload.
  await page.getByRole("link", { name: "DAGs", exact: true }).click();
  await page.locator('tr[data-dag-id="perm_a"]').waitFor();
  await page.evaluate(() => (window.__notReloaded = true));
  await grantElsewhere("dag-a-reader", [["can_trigger", "Airflow"], ["can_dag_edit", "perm_a"]]);
  await page.evaluate(() => window.dispatchEvent(new Event("focus")));
  await page.getByRole("button", { name: "Trigger perm_a" }).waitFor({ timeout: 10_000 });
  result.grantedWithoutReload = await page.evaluate(() => window.__notReloaded === true);
  result.steps.push("custom reader");

  // The custom role operating perm_b only: trigger and pause there, not on perm_a.
  await signInFresh(page, "otto");
  result.operator = { menus: await menus(page), ...(await dagsList(page)) };
  await shot(page, "custom-operator-dags");
  result.steps.push("custom operator");

  await signInFresh(page, "vera");
  result.viewer = { menus: await menus(page), ...(await dagsList(page)) };
  result.steps.push("viewer");
});
