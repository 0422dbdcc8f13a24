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
