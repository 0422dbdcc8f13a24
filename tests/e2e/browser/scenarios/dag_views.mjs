// A try's rendered template (every try), the Gantt chart's tries, and zooming from a master DAG's
// DagOperator task into the child DAG's graph and back by the breadcrumb.
import { BASE_URL, login, param, shot, withPage } from "./browser.mjs";

const templatedRun = param("COUTURE_TEMPLATED_RUN");
const masterRun = param("COUTURE_MASTER_RUN");

const enc = encodeURIComponent;

async function renderedFields(panel) {
  const fields = panel.getByTestId("rendered").locator(".rendered-field");
  await fields.first().waitFor();
  return Object.fromEntries(
    await fields.evaluateAll((nodes) => nodes.map((n) => [n.dataset.field, n.querySelector("pre").textContent])),
  );
}

async function nodeStates(page) {
  return page.$$eval(".task-node", (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.taskId, n.dataset.state])));
}

await withPage(async (page, result) => {
  await login(page);
  result.steps.push("logged in");

  // Rendered template: the latest try first, then an earlier one.
  await page.goto(`${BASE_URL}/dags/templated/graph?run=${enc(templatedRun)}&task=call`);
  const panel = page.getByTestId("task-instance-panel");
  await panel.getByRole("button", { name: "Rendered", exact: true }).click();
  result.renderedLatest = await renderedFields(panel);
  await shot(page, "rendered-template");
  await panel.getByLabel("Rendered try").selectOption("1");
  await panel.getByTestId("rendered").locator('[data-field="bash_command"] pre', { hasText: "try 1 on" }).waitFor();
  result.renderedFirst = await renderedFields(panel);
  result.steps.push("rendered tab read");

  // Gantt: both tries of the retried task on its row.
  await page.goto(`${BASE_URL}/dags/templated/gantt?run=${enc(templatedRun)}`);
  await page.locator('.gantt-row[data-task-id="call"][data-tries="2"]').waitFor();
  result.ganttBars = await page.$$eval('.gantt-row[data-task-id="call"] .bar', (bars) => bars.map((b) => [Number(b.dataset.try), b.dataset.state]));
  await shot(page, "gantt-tries");
  result.steps.push("gantt tries seen");

  // Zoom into the sub-DAG from the master's graph.
  await page.goto(`${BASE_URL}/dags/MasterDag/graph?run=${enc(masterRun)}`);
  await page.locator('.task-node[data-task-id="SchemaGeneration"][data-state="success"]').waitFor();
  result.zoomControls = await page.getByRole("button", { name: /^Zoom into DAG / }).count();
  await shot(page, "master-graph");
  // Hovering the control previews where it leads: the triggered run and its tasks' states.
  const zoomButton = page.getByRole("button", { name: "Zoom into DAG ExampleSchemaGeneration" });
  await zoomButton.hover();
  const preview = page.getByTestId("zoom-preview");
  await preview.locator(".mono").waitFor();
  result.preview = await preview.innerText();
  await shot(page, "zoom-preview");
  await zoomButton.click();
  await page.waitForURL(/\/dags\/ExampleSchemaGeneration\/graph\?/);
  result.childRun = new URL(page.url()).searchParams.get("run");
  await page.locator(".task-node").first().waitFor();
  const deadline = Date.now() + 60_000;
  let states = await nodeStates(page);
  while (!Object.values(states).every((s) => s === "success") && Date.now() < deadline) {
    await page.waitForTimeout(200);
    states = await nodeStates(page);
  }
  result.childStates = states;
  result.breadcrumb = await page.getByRole("navigation", { name: "Zoom breadcrumb" }).innerText();
  result.childRunSelected = await page.getByLabel("Run", { exact: true }).inputValue();
  await shot(page, "zoomed-child");
  result.steps.push("zoomed in");

  await page.getByRole("navigation", { name: "Zoom breadcrumb" }).getByRole("link", { name: "MasterDag" }).click();
  await page.waitForURL(/\/dags\/MasterDag\/graph\?/);
  const back = new URL(page.url()).searchParams;
  result.backRun = back.get("run");
  result.backTask = back.get("task");
  await page.getByTestId("task-instance-panel").waitFor();
  result.breadcrumbAfterBack = await page.getByRole("navigation", { name: "Zoom breadcrumb" }).count();
  await shot(page, "zoomed-back");
  result.steps.push("back to master");
});
