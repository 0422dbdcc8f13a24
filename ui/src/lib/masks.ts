/** PATCH bodies that only change what the user touched, so masked and write-only values survive an edit. */

/** The query string naming the fields a PATCH changes, e.g. "?update_mask=host&update_mask=port". */
export function updateMask(fields: readonly string[]): string {
  return fields.length ? `?${fields.map((f) => `update_mask=${encodeURIComponent(f)}`).join("&")}` : "";
}

/** Values the API never shows in clear text: a sensitive variable reads back as this. */
export const MASK = "***";

/**
 * Variables to import from a JSON document: an object mapping keys to values, where a value that
 * is not a string is stored as its JSON text (as Airflow's "variables import" does).
 */
export function parseVariablesImport(text: string): { ok: true; variables: [string, string][] } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, error: 'expected a JSON object of variables, like {"key": "value"}' };
  }
  const variables = Object.entries(value as Record<string, unknown>).map(
    ([key, v]): [string, string] => [key, typeof v === "string" ? v : JSON.stringify(v)],
  );
  if (variables.length === 0) return { ok: false, error: "the file holds no variables" };
  return { ok: true, variables };
}
