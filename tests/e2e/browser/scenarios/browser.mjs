// Shared by the scenarios: Debian's Chromium driven by playwright-core (no downloaded browser),
// a signed-in page, screenshots, and a JSON result on stdout for pytest to read.
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../../../../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");

export const BASE_URL = process.env.COUTURE_BASE_URL;
const SHOTS = process.env.COUTURE_SHOTS_DIR;
const CHROMIUM = process.env.COUTURE_CHROMIUM ?? "/usr/bin/chromium";

export async function withPage(run) {
  // A fresh profile per run: nothing carries over between scenarios.
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "couture-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(30_000);
  // Script errors and refused API calls, kept apart: a test may expect some refusals.
  const consoleErrors = [];
  const failedRequests = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  page.on("response", (response) => {
    if (response.status() >= 400) {
      const url = new URL(response.url());
      failedRequests.push(`${response.request().method()} ${url.pathname} ${response.status()}`);
    }
  });
  const result = { steps: [], consoleErrors, failedRequests };
  try {
    await run(page, result);
    process.stdout.write(JSON.stringify(result));
  } catch (error) {
    await shot(page, "failure").catch(() => undefined);
    process.stderr.write(`${error.stack ?? error}\nsteps done: ${result.steps.join(" > ")}\n`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

export async function login(page, username = "superadmin", password = "couture@123") {
  await page.goto(`${BASE_URL}/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "DAGs" }).waitFor();
}

export function param(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
