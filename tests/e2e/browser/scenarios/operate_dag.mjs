// Log in, turn a DAG on, trigger it with a conf, watch the graph turn green, read a task's log,
// clear that task and see it run again.
import { BASE_URL, login, param, shot, withPage } from "./browser.mjs";

const dagId = param("COUTURE_DAG_ID");
const logTask = param("COUTURE_LOG_TASK");
const slowTask = param("COUTURE_SLOW_TASK");
const slowFirstLine = param("COUTURE_SLOW_FIRST_LINE");
const slowLastLine = param("COUTURE_SLOW_LAST_LINE");
const expectedLog = param("COUTURE_EXPECTED_LOG");
const conf = param("COUTURE_CONF");

async function nodeStates(page) {
  return page.$$eval(".task-node", (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.taskId, n.dataset.state])));
}

/** Records every distinct picture of the graph's states (into ``seen``) until ``done`` holds. */
async function watchGraph(page, seen, done, what) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const states = await nodeStates(page);
    if (JSON.stringify(states) !== JSON.stringify(seen.at(-1))) seen.push(states);
    if (Object.keys(states).length > 0 && done(states)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what} did not happen; states seen: ${JSON.stringify(seen)}`);
}

const allSucceeded = (states) => Object.values(states).every((s) => s === "success");

await withPage(async (page, result) => {
  await login(page);
  result.steps.push("logged in");

  // Paused DAGs are hidden until the toggle shows them.
  const row = page.locator(`tr[data-dag-id="${dagId}"]`);
  result.hiddenWhilePaused = (await row.count()) === 0;
  await page.getByRole("switch", { name: "Show Paused DAGs" }).click();
  await row.waitFor();
  result.steps.push("paused DAG shown");

  await row.getByRole("switch", { name: `Unpause ${dagId}` }).click();
  await row.getByRole("switch", { name: `Pause ${dagId}` }).waitFor();
  result.steps.push("DAG on");
  await shot(page, "dags-list");

  await row.getByRole("button", { name: `Trigger ${dagId}` }).click();
  const confBox = page.getByLabel("Configuration JSON");
  await confBox.fill("[1, 2]");
  result.arrayConfError = await page.getByRole("dialog").getByRole("alert").innerText();
  result.triggerDisabledOnBadConf = await page.getByRole("button", { name: "Trigger", exact: true }).isDisabled();
  await confBox.fill(conf);
  await page.getByRole("button", { name: "Trigger", exact: true }).click();
  await page.waitForURL(/\/graph\?run=/);
  result.runId = new URL(page.url()).searchParams.get("run");
  result.steps.push("triggered");

  await page.locator(".task-node").first().waitFor();
  result.statesSeen = [];
  await watchGraph(page, result.statesSeen, (states) => states[slowTask] === "running", `${slowTask} running`);

  // The running task's log is tailed: its first line shows while it runs, its last when it ends.
  await page.locator(`.task-node[data-task-id="${slowTask}"]`).click();
  const panel = page.getByTestId("task-instance-panel");
  await panel.getByRole("button", { name: "Log" }).click();
  const log = panel.getByTestId("log");
  await log.filter({ hasText: slowFirstLine }).waitFor();
  result.liveWhileRunning = await panel.locator(".live-dot").isVisible();
  result.slowLogWhileRunning = await log.innerText();
  await shot(page, "live-log");
  // A whole line: the logged command itself mentions the text too.
  await log.filter({ hasText: new RegExp(`^${slowLastLine}$`, "m") }).waitFor({ timeout: 60_000 });
  result.slowLogAfter = await log.innerText();
  result.steps.push("log tailed");

  await watchGraph(page, result.statesSeen, allSucceeded, "all tasks succeeding");
  result.finalStates = await nodeStates(page);
  result.liveAfterFinish = await panel.locator(".live-dot").count();
  result.steps.push("graph green");
  await shot(page, "graph");

  await page.locator(`.task-node[data-task-id="${logTask}"]`).click();
  await panel.getByRole("button", { name: "Log" }).click();
  await log.filter({ hasText: expectedLog }).waitFor();
  result.logText = await log.innerText();
  result.steps.push("log read");
  await shot(page, "log");

  await panel.getByRole("button", { name: "Clear" }).click();
  await page.getByRole("button", { name: "Confirm clear" }).click();
  await panel.getByRole("tab", { name: "Try 2" }).waitFor({ timeout: 60_000 });
  await watchGraph(page, [], allSucceeded, "all tasks succeeding again");
  result.afterClearStates = await nodeStates(page);
  result.steps.push("cleared and ran again");

  // Marking a task instance failed, then successful again, shows on the graph at once.
  const node = page.locator(`.task-node[data-task-id="${logTask}"]`);
  await panel.getByRole("button", { name: "Mark failed" }).click();
  await page.locator(`.task-node[data-task-id="${logTask}"][data-state="failed"]`).waitFor();
  result.markedFailed = await node.getAttribute("data-state");
  await shot(page, "marked-failed");
  await panel.getByRole("button", { name: "Mark success" }).click();
  await page.locator(`.task-node[data-task-id="${logTask}"][data-state="success"]`).waitFor();
  result.steps.push("marked failed then success");

  await page.goto(`${BASE_URL}/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(result.runId)}&task=${encodeURIComponent(logTask)}`);
  await page.getByTestId("grid").waitFor();
  await page.locator(`.cell[data-task-id="${logTask}"][data-state="success"]`).first().waitFor();
  result.gridCells = await page.$$eval(".grid-view .cell", (cells) => cells.map((c) => ({ task: c.dataset.taskId, state: c.dataset.state })));
  await shot(page, "grid");

  for (const tab of ["gantt", "duration", "code", "details"]) {
    await page.getByRole("link", { name: { gantt: "Gantt", duration: "Task Duration", code: "Code", details: "Details" }[tab], exact: true }).click();
    await page.getByTestId(tab).waitFor();
    await shot(page, tab);
  }
  result.steps.push("all DAG views shown");
});
