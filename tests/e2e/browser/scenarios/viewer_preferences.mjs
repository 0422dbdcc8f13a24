// A Viewer browses without any control that changes a DAG, and picks dark mode and a timezone.
import { BASE_URL, login, param, shot, withPage } from "./browser.mjs";

const dagId = param("COUTURE_DAG_ID");
const runId = param("COUTURE_RUN_ID");
const timeZone = param("COUTURE_TIMEZONE");

await withPage(async (page, result) => {
  await login(page, param("COUTURE_USERNAME"), param("COUTURE_PASSWORD"));
  const row = page.locator(`tr[data-dag-id="${dagId}"]`);
  await row.waitFor();
  result.menus = await page.$$eval(".topbar .menu-button:not([aria-label])", (buttons) => buttons.map((b) => b.textContent.replace(" ▾", "")));
  result.triggerButtonsOnList = await page.getByRole("button", { name: /^Trigger / }).count();
  result.pauseSwitchEnabled = await row.getByRole("switch").isEnabled();

  await page.getByRole("button", { name: "Dark mode" }).click();
  await page.getByLabel("Timezone").selectOption(timeZone);
  await shot(page, "dark-dags-list");

  await page.goto(`${BASE_URL}/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(runId)}`);
  await page.getByTestId("grid").waitFor();
  result.triggerButtonsOnDag = await page.getByRole("button", { name: /Trigger/ }).count();
  const started = page.locator("dt:text-is('Started') + dd time");
  result.startedShown = await started.innerText();
  result.startedIso = await started.getAttribute("datetime");
  result.theme = await page.evaluate(() => document.documentElement.dataset.theme);

  const cell = page.locator(".grid-view .cell").first();
  await cell.click();
  const panel = page.getByTestId("task-instance-panel");
  await panel.waitFor();
  result.panelActions = await panel.getByRole("button", { name: /^(Clear|Mark success|Mark failed)$/ }).count();
  await panel.getByRole("button", { name: "Log" }).click();
  await panel.getByTestId("log").filter({ hasText: "Task finished" }).waitFor();
  await shot(page, "dark-grid");

  await page.getByRole("link", { name: "Graph", exact: true }).click();
  await page.locator(".task-node").first().waitFor();
  await shot(page, "dark-graph");

  await page.getByRole("button", { name: "Browse ▾", exact: true }).click();
  await page.getByRole("link", { name: "Audit Logs" }).click();
  await page.getByRole("cell", { name: "trigger", exact: true }).waitFor();
  result.auditEvents = await page.$$eval("tbody tr", (rows) => rows.map((r) => [r.cells[1].textContent, r.cells[2].textContent]));
  await shot(page, "dark-audit-logs");

  await page.goto(`${BASE_URL}/admin/variables`);
  result.adminPageText = await page.locator(".not-built").innerText();
  result.steps.push("viewer tour");

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await page.reload();
  result.signedOutAfterReload = await page.getByRole("button", { name: "Sign in" }).isVisible();
});
