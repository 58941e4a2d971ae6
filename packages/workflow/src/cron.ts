/**
 * Deploy-time cron grammar check: 5 fields (`minute hour day-of-month month
 * day-of-week`) or 6 (`second` first); comma lists of `*`, `N`, `A-B`, each optionally `/S`;
 * month and weekday names. It only decides "is this well-formed"; evaluating fire times is the
 * scheduler's job and must accept everything accepted here. No dependencies, no zod.
 */

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const SECOND: CronField = { name: "second", min: 0, max: 59 };
const FIVE_FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  // names[i] stands for min + i: JAN = 1, SUN = 0.
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day-of-week", min: 0, max: 7, names: WEEKDAYS },
];

/** Parses one number-or-name; returns an error text or the value. */
function parseValue(text: string, field: CronField): number | string {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) {
      return `${text} is out of range ${String(field.min)}-${String(field.max)}`;
    }
    return value;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (/^[A-Za-z]{3}$/.test(text) && index >= 0) return field.min + index;
  return field.names === undefined
    ? `"${text}" is not a number`
    : `"${text}" is not a number or a ${field.name} name (${field.names[0] ?? ""}-${field.names.at(-1) ?? ""})`;
}

/** The problem with one comma-separated item, or `undefined` when it is valid. */
function itemProblem(item: string, field: CronField): string | undefined {
  if (item === "") return "empty list item";
  const parts = item.split("/");
  if (parts.length > 2) return `"${item}" has more than one "/"`;
  const [base = "", step] = parts;
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) {
    return `step "${step}" must be an integer ≥ 1`;
  }
  if (base === "*") return undefined;
  const bounds = base.split("-");
  if (bounds.length > 2) return `"${base}" is not a value or a range A-B`;
  const values: number[] = [];
  for (const bound of bounds) {
    const value = parseValue(bound, field);
    if (typeof value === "string") return value;
    values.push(value);
  }
  const [from = 0, to = from] = values;
  if (from > to) return `range "${base}" must run from low to high`;
  return undefined;
}

/**
 * The first problem with a cron expression, phrased for a validation message, or `undefined`
 * when it is well-formed. `?`, `L`, `W`, `#` and `@daily`-style macros are not supported.
 */
export function cronExpressionProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `cron expression must have 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got ${String(expr.trim() === "" ? 0 : fields.length)}`;
  }
  const grammar = fields.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  for (const [index, text] of fields.entries()) {
    const field = grammar[index];
    if (field === undefined) continue;
    for (const item of text.split(",")) {
      const problem = itemProblem(item, field);
      if (problem !== undefined) return `${field.name} field "${text}": ${problem}`;
    }
  }
  return undefined;
}

/** True when `timeZone` is an IANA zone this runtime's `Intl.DateTimeFormat` accepts. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}
