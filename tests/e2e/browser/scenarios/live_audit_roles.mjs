// Live updates, the access log, SLA misses and custom roles: a run triggered elsewhere shows up and
// turns green on Browse → DAG Runs without a reload (the live stream, not polling), the admin finds
// their login in Browse → Audit Logs, reads an SLA miss the scheduler recorded, creates, edits and
// deletes a custom role; a Viewer sees only the DAG event log.
import { BASE_URL, login, param, shot, withPage } from "./browser.mjs";

const dagId = param("COUTURE_DAG_ID");
const slaDag = param("COUTURE_SLA_DAG");
const viewer = param("COUTURE_VIEWER");
const viewerPassword = param("COUTURE_VIEWER_PASSWORD");

async function openMenu(page, section, item, heading = item) {
  await page.getByRole("button", { name: `${section} ▾`, exact: true }).click();
  await page.getByRole("link", { name: item, exact: true }).click();
  await page.getByRole("heading", { name: heading, exact: true }).waitFor();
}

/** A run triggered by another client (a script with a token), not by this page. */
async function triggerElsewhere() {
  const signedIn = await fetch(`${BASE_URL}/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "superadmin", password: "couture@123" }),
  });
  const headers = { Authorization: `Bearer ${(await signedIn.json()).access_token}`, "Content-Type": "application/json" };
  const dagUrl = `${BASE_URL}/api/v2/dags/${encodeURIComponent(dagId)}`;
  await fetch(dagUrl, { method: "PATCH", headers, body: JSON.stringify({ is_paused: false }) });
  const answer = await fetch(`${dagUrl}/dagRuns`, { method: "POST", headers, body: JSON.stringify({ conf: {} }) });
  if (!answer.ok) throw new Error(`trigger failed: ${answer.status} ${await answer.text()}`);
  return (await answer.json()).dag_run_id;
}

await withPage(async (page, result) => {
  await login(page);
  await page.locator('.live-indicator[data-live="on"]').waitFor();
  result.steps.push("live stream on");

  await openMenu(page, "Browse", "DAG Runs");
  await page.locator("table.table").waitFor();
  let listFetches = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/v2/dags/~/dagRuns") listFetches += 1;
  });
  const started = Date.now();
  result.runId = await triggerElsewhere();
  const row = page.getByRole("row").filter({ hasText: result.runId });
  await row.waitFor();
  result.rowShownAfterMs = Date.now() - started;
  result.runStates = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await row.locator(".state-badge").getAttribute("data-state");
    if (state !== result.runStates.at(-1)) result.runStates.push(state);
    if (state === "success" || state === "failed") break;
    if (Date.now() > deadline) throw new Error(`run never finished; states ${result.runStates}`);
    await page.waitForTimeout(100);
  }
  result.finishedShownAfterMs = Date.now() - started;
  result.listFetches = listFetches;
  result.liveStillOn = (await page.locator('.live-indicator[data-live="on"]').count()) === 1;
  await shot(page, "live-dag-runs");
  result.steps.push("run followed live");

  await openMenu(page, "Browse", "SLA Misses");
  const miss = page.locator(`tr[data-dag-id="${slaDag}"]`).first();
  await miss.waitFor({ timeout: 60_000 });
  result.slaTask = await miss.getAttribute("data-task-id");
  await shot(page, "sla-misses");
  result.steps.push("SLA miss shown");

  await openMenu(page, "Browse", "Audit Logs");
  result.auditTabs = await page.getByRole("tab").allInnerTexts();
  const access = page.getByTestId("access-log");
  await access.getByLabel("User", { exact: true }).fill("superadmin");
  await access.getByLabel("Action", { exact: true }).fill("login");
  // Only logins once the typed filters apply (the table reloads meanwhile).
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="access-log"] tbody tr')];
    return rows.length > 0 && rows.every((r) => r.dataset.action === "login");
  });
  result.loginRow = await access.locator('tr[data-action="login"]').first().locator("td").allInnerTexts();
  await shot(page, "audit-log");
  await access.getByLabel("Action", { exact: true }).fill("trigger_dag_run");
  await access.locator('tr[data-action="trigger_dag_run"]').first().waitFor();
  result.steps.push("audit log read");

  await openMenu(page, "Security", "List Roles");
  result.builtInEditButtons = await page.locator('tr[data-role="Viewer"], tr[data-role="Admin"]').getByRole("button", { name: /^(Edit|Delete)/ }).count();
  await page.getByRole("button", { name: "+ Add role" }).click();
  let dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("team-live");
  await dialog.getByLabel("Copy permissions from").selectOption("Viewer");
  await dialog.getByLabel("Read all DAGs").uncheck();
  await dialog.getByLabel(`Read ${dagId}`, { exact: true }).check();
  await shot(page, "role-form");
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  const team = page.locator('tr[data-role="team-live"]');
  await team.waitFor();
  result.teamAccess = await team.locator("td").nth(3).innerText();

  await team.getByRole("button", { name: "Edit team-live" }).click();
  dialog = page.getByRole("dialog");
  await dialog.getByLabel(`Edit ${dagId}`, { exact: true }).check();
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  await team.locator("td").nth(3).filter({ hasText: `edit: ${dagId}` }).waitFor();
  result.teamAccessEdited = await team.locator("td").nth(3).innerText();
  await shot(page, "roles-custom");

  await page.getByRole("button", { name: "+ Add role" }).click();
  dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("short-lived");
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  page.once("dialog", (confirm) => confirm.accept());
  await page.getByRole("button", { name: "Delete short-lived" }).click();
  await page.locator('tr[data-role="short-lived"]').waitFor({ state: "detached" });
  result.rolesAfter = await page.$$eval("tbody tr", (rows) => rows.map((r) => r.dataset.role));
  result.steps.push("custom roles");

  // A Viewer in a fresh session (logging out is covered by the other browser tests).
  await page.context().clearCookies();
  await login(page, viewer, viewerPassword);
  await openMenu(page, "Browse", "Audit Logs");
  await page.getByTestId("dag-event-log").waitFor();
  result.viewerTabs = await page.getByRole("tab").count();
  result.viewerSeesAccessLog = (await page.getByTestId("access-log").count()) > 0;
  await page.getByRole("button", { name: "Browse ▾", exact: true }).click();
  result.viewerBrowse = await page.locator(".menu-items a").allInnerTexts();
  result.steps.push("viewer");
});
