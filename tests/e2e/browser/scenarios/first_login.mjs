// The superadmin signs in with the manual's default password, must choose a new one first, and
// then reaches the DAGs; the old password no longer works.
import { login, param, shot, withPage } from "./browser.mjs";

const first = param("COUTURE_FIRST_PASSWORD");
const chosen = param("COUTURE_NEW_PASSWORD");

await withPage(async (page, result) => {
  await page.goto(`${process.env.COUTURE_BASE_URL}/`);
  await page.getByLabel("Username").fill("superadmin");
  await page.getByLabel("Password").fill(first);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
  await shot(page, "forced-password-change");
  await page.getByLabel("Current password").fill(first);
  await page.getByLabel("New password", { exact: true }).fill(chosen);
  await page.getByLabel("Repeat new password").fill(chosen);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByRole("heading", { name: "DAGs" }).waitFor();
  result.steps.push("password changed");

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByLabel("Username").fill("superadmin");
  await page.getByLabel("Password").fill(first);
  await page.getByRole("button", { name: "Sign in" }).click();
  result.oldPasswordError = await page.getByRole("alert").innerText();
  await login(page, "superadmin", chosen);
  result.steps.push("signed in with the new password");
});
