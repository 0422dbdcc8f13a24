/** The optional run configuration a user types when triggering a DAG. */

export type ConfResult =
  | { ok: true; conf: Record<string, unknown> }
  | { ok: false; error: string };

/** Parses ``text`` as the conf of a new run: empty means {}, anything else must be a JSON object. */
export function parseConf(text: string): ConfResult {
  if (text.trim() === "") return { ok: true, conf: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `conf is not valid JSON: ${reason}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return { ok: false, error: `conf must be a JSON object ({...}), not ${kind}` };
  }
  return { ok: true, conf: value as Record<string, unknown> };
}
