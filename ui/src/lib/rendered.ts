/** Rendered template fields as the task-instance panel shows them. */

/** A field's text: strings as rendered (a command, a path), anything else as indented JSON. */
export function renderedText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

/** The fields worth showing, in the operator's ``template_fields`` order; empty ones are left out. */
export function renderedEntries(fields: Record<string, unknown> | null | undefined): [string, string][] {
  if (!fields) return [];
  return Object.entries(fields)
    .map(([name, value]): [string, string] => [name, renderedText(value)])
    .filter(([, text]) => text !== "" && text !== "{}" && text !== "[]");
}
