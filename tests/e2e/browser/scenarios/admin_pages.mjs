// An admin manages variables (masked values, JSON import), connections (write-only password),
// pools, and DAG files (upload, edit with a reviewed diff, create), and meets a page still to come.
import { BASE_URL, login, param, shot, withPage } from "./browser.mjs";

const uploadPath = param("COUTURE_UPLOAD_FILE");
const uploadName = uploadPath.split("/").at(-1);

async function openMenu(page, section, item) {
  await page.getByRole("button", { name: `${section} ▾`, exact: true }).click();
  await page.getByRole("link", { name: item, exact: true }).click();
  await page.getByRole("heading", { name: item, exact: true }).waitFor();
}

async function fill(dialog, label, value) {
  await dialog.getByLabel(label, { exact: true }).fill(value);
}

await withPage(async (page, result) => {
  await login(page);

  await openMenu(page, "Admin", "Variables");
  for (const [key, value] of [["api_key", "sekret-value"], ["region", "eu-west-1"]]) {
    await page.getByRole("button", { name: "+ Add variable" }).click();
    const dialog = page.getByRole("dialog");
    await fill(dialog, "Key", key);
    await fill(dialog, "Value", value);
    await dialog.getByRole("button", { name: "Save", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
  }
  await page.getByRole("button", { name: "Import JSON" }).click();
  const importer = page.getByRole("dialog");
  await importer.getByLabel("or paste JSON").fill('{"batch_size": 500, "region": "us-east-1"}');
  await importer.getByRole("button", { name: /^Import/ }).click();
  result.importReport = await importer.getByRole("status").innerText();
  await importer.getByRole("button", { name: "Close", exact: true }).click();
  await page.getByRole("cell", { name: "us-east-1" }).waitFor();
  result.variables = await page.$$eval("tbody tr", (rows) => rows.map((r) => [...r.querySelectorAll("td")].slice(0, 2).map((c) => c.textContent)));
  await shot(page, "variables");
  result.steps.push("variables");

  await openMenu(page, "Admin", "Connections");
  await page.getByRole("button", { name: "+ Add connection" }).click();
  let dialog = page.getByRole("dialog");
  await fill(dialog, "Connection id", "warehouse");
  await fill(dialog, "Connection type", "postgres");
  await fill(dialog, "Host", "db.internal");
  await fill(dialog, "Port", "not-a-port");
  await fill(dialog, "Password", "hunter2-pw");
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  result.badPortError = await dialog.getByRole("alert").innerText();
  await fill(dialog, "Port", "5432");
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("cell", { name: "db.internal" }).waitFor();
  await page.getByRole("row", { name: /warehouse/ }).getByRole("button", { name: "Edit" }).click();
  dialog = page.getByRole("dialog");
  result.passwordShownOnEdit = await dialog.getByLabel("Password", { exact: true }).inputValue();
  await fill(dialog, "Host", "db2.internal");
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("cell", { name: "db2.internal" }).waitFor();
  result.pageShowsPassword = (await page.content()).includes("hunter2-pw");
  await shot(page, "connections");
  result.steps.push("connections");

  await openMenu(page, "Admin", "Pools");
  await page.getByRole("button", { name: "+ Add pool" }).click();
  dialog = page.getByRole("dialog");
  await fill(dialog, "Name", "etl");
  await fill(dialog, "Slots", "4");
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("cell", { name: "etl", exact: true }).waitFor();
  await shot(page, "pools");
  result.steps.push("pools");

  await openMenu(page, "Developer", "Manage DAGs");
  await page.getByLabel("Upload DAG files").setInputFiles(uploadPath);
  result.uploadMessage = await page.getByRole("status").innerText();
  const uploaded = page.getByRole("row", { name: new RegExp(uploadName) });
  await uploaded.getByText("parsed").waitFor();
  await uploaded.getByRole("button", { name: "Edit" }).click();
  dialog = page.getByRole("dialog");
  const source = dialog.getByLabel("Source");
  await source.waitFor();
  await source.fill(`${await source.inputValue()}\n# reviewed in the browser\n`);
  await dialog.getByRole("button", { name: "Review & Save" }).click();
  result.editDiff = await dialog.getByTestId("diff").innerText();
  await shot(page, "review-diff");
  await dialog.getByRole("button", { name: "Save Code" }).click();
  await dialog.waitFor({ state: "detached" });

  await page.getByRole("button", { name: "+ New DAG file" }).click();
  dialog = page.getByRole("dialog");
  await dialog.getByLabel("File name").fill("from_browser.py");
  await dialog.getByLabel("Source", { exact: true }).fill(
    'from datetime import datetime\n\nfrom airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n\nwith DAG("from_browser", start_date=datetime(2024, 1, 1), schedule=None):\n    EmptyOperator(task_id="only")\n',
  );
  // A code brick saved once is inserted at the cursor (here: the end of the file).
  await dialog.getByRole("button", { name: "+ Add a new code brick" }).click();
  await dialog.getByLabel("Code brick title").fill("Say hello");
  await dialog.getByLabel("Code brick code").fill('    EmptyOperator(task_id="hello")');
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  const newSource = dialog.getByLabel("Source");
  await newSource.evaluate((box) => box.setSelectionRange(box.value.length, box.value.length));
  await dialog.getByRole("button", { name: "Insert Say hello" }).click();
  await shot(page, "code-bricks");
  await dialog.getByRole("button", { name: "Review & Save" }).click();
  result.newDiff = await dialog.getByTestId("diff").innerText();
  await dialog.getByRole("button", { name: "Save Code" }).click();
  await page.getByRole("row", { name: /from_browser\.py/ }).getByText("parsed").waitFor();
  await shot(page, "manage-dags");
  result.steps.push("manage DAGs");

  await page.getByRole("button", { name: "Developer ▾", exact: true }).click();
  await page.getByRole("link", { name: "Jupyter Notebook" }).click();
  result.notBuiltText = await page.locator(".not-built").innerText();
  await page.goto(`${BASE_URL}/browse/dag-runs`);
  await page.getByRole("heading", { name: "DAG Runs" }).waitFor();
  result.steps.push("reload on a client-side route");

  await openMenu(page, "Admin", "LDAP Configuration");
  await page.getByLabel("AUTH_LDAP_SERVER (ldap://host:389 or ldaps://host:636)").fill("ldap://ldap.example.org:389");
  await page.getByLabel("AUTH_LDAP_SEARCH (base DN)").fill("dc=example,dc=org");
  await page.getByLabel("AUTH_LDAP_BIND_PASSWORD").fill("bind-secret-1");
  const mapping = page.getByLabel("AUTH_ROLES_MAPPING (group DN → roles)");
  await mapping.fill('{"cn=ops,dc=example,dc=org": "Op"}');
  result.badMappingError = await page.getByRole("alert").innerText();
  await mapping.fill('{"cn=ops,dc=example,dc=org": ["Op"]}');
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").waitFor();
  await page.reload();
  result.bindPasswordPlaceholder = await page.getByLabel("AUTH_LDAP_BIND_PASSWORD").getAttribute("placeholder");
  result.pageShowsBindPassword = (await page.content()).includes("bind-secret-1");
  await shot(page, "ldap");
  result.steps.push("LDAP configuration");

  await openMenu(page, "Security", "List Users");
  await page.getByRole("button", { name: "+ Add user" }).click();
  dialog = page.getByRole("dialog");
  await fill(dialog, "Username", "olga");
  await fill(dialog, "Password", "first-pass-1");
  await dialog.getByRole("checkbox", { name: "Viewer", exact: true }).uncheck();
  await dialog.getByRole("checkbox", { name: "Op", exact: true }).check();
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("cell", { name: "olga" }).waitFor();
  await shot(page, "users");
  await openMenu(page, "Security", "List Roles");
  await page.getByRole("cell", { name: "Developer", exact: true }).waitFor();
  result.roles = await page.$$eval("tbody tr", (rows) => rows.map((r) => r.cells[0].textContent));
  await shot(page, "roles");
  result.steps.push("security");

  // The new Op signs in, sees Admin but not Developer or Security, and resets her password.
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await login(page, "olga", "first-pass-1");
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("link", { name: "Reset my password" }).click();
  await page.getByLabel("Current password").fill("first-pass-1");
  await page.getByLabel("New password", { exact: true }).fill("second-pass-2");
  await page.getByLabel("Repeat new password").fill("second-pass-2");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByRole("status").waitFor();
  result.opMenus = await page.$$eval(".topbar .menu-button:not([aria-label])", (buttons) => buttons.map((b) => b.textContent.replace(" ▾", "")));
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await login(page, "olga", "second-pass-2");
  result.steps.push("password reset");
});
