/**
 * Human-input requests in a few words, for `promenade inputs`: the answer form (`text`,
 * `choice: Ship | Wait (or other)`, `multiselect 1-2: a | b`) and the answer given
 * (`Ship`, `a, b + "c"`). Pure functions of the API's JSON; an unknown form prints its kind.
 */

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A gate's answer form on one line. */
export function describeForm(inputSpec: unknown): string {
  const spec = record(inputSpec);
  const kind = typeof spec["kind"] === "string" ? spec["kind"] : "unknown";
  if (kind === "text") return spec["required"] === true ? "text (required)" : "text";
  const options = Array.isArray(spec["options"]) ? spec["options"].map(String) : [];
  if (options.length === 0) return kind;
  const other = spec["allowOther"] === false ? "" : " (or other)";
  let range = "";
  if (kind === "multiselect") {
    const min = typeof spec["min"] === "number" ? spec["min"] : undefined;
    const max = typeof spec["max"] === "number" ? spec["max"] : undefined;
    if (min !== undefined || max !== undefined) range = ` ${min ?? 0}-${max ?? options.length}`;
  }
  return `${kind}${range}: ${options.join(" | ")}${other}`;
}

/** An answer (a request's normalized `response`) on one line; `""` when there is none. */
export function describeAnswer(response: unknown): string {
  if (response === null || response === undefined) return "";
  const answer = record(response);
  if (Array.isArray(answer["values"])) {
    const values = answer["values"].map(String).join(", ");
    const other = typeof answer["other"] === "string" ? JSON.stringify(answer["other"]) : "";
    return values === "" ? other : other === "" ? values : `${values} + ${other}`;
  }
  if (typeof answer["value"] === "string") {
    return answer["isOther"] === true ? JSON.stringify(answer["value"]) : answer["value"];
  }
  return JSON.stringify(response);
}
