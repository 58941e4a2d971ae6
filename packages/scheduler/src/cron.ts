/**
 * Cron evaluation: parses 5- and 6-field expressions with an IANA time zone and
 * finds the next fire instant. cron-parser proposes candidate wall-clock times; this module owns
 * the grammar and what cron-parser gets wrong (4-field expressions, unknown zones, DST gaps and
 * overlaps, the Vixie day-of-month/day-of-week rule). Knows nothing about workflows or stores.
 * Invariants: every returned instant's wall-clock fields, read back in the schedule's zone with
 * Intl, match the expression; a nonexistent wall time never fires; a repeated one fires once, at
 * its earlier UTC occurrence.
 */
import { CronExpressionParser, type CronExpression } from "cron-parser";
import { EngineError } from "@promenade/workflow/errors";

/** A parsed, validated cron schedule. Build it with {@link parseSchedule}; treat it as opaque. */
export interface Schedule {
  /** The expression as given (trimmed). */
  readonly expr: string;
  /** The canonical IANA zone the wall-clock fields are read in (`"UTC"` by default). */
  readonly timezone: string;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTH_NAMES: Readonly<Record<string, number>> = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};
const DAY_NAMES: Readonly<Record<string, number>> = {
  SUN: 0,
  MON: 1,
  TUE: 2,
  WED: 3,
  THU: 4,
  FRI: 5,
  SAT: 6,
};

const SECOND: FieldSpec = { name: "second", min: 0, max: 59 };
const MINUTE: FieldSpec = { name: "minute", min: 0, max: 59 };
const HOUR: FieldSpec = { name: "hour", min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: "day-of-month", min: 1, max: 31 };
const MONTH: FieldSpec = { name: "month", min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldSpec = { name: "day-of-week", min: 0, max: 7, names: DAY_NAMES };

/** Days in each month of a leap year (index 1..12): the widest calendar a month can have. */
const MAX_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** How far {@link nextFire} looks before answering `null`: five years and a day. */
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const HORIZON_MS = (5 * 366 + 1) * DAY_MS;
/** How many consecutive rejected candidates we accept before giving up (a safety net only). */
const MAX_CANDIDATES = 200_000;

const GRAMMAR_HINT =
  "Use 5 fields (minute hour day-of-month month day-of-week) or 6 (second first); each field is " +
  "a comma list of *, N or A-B, optionally /step, with JAN-DEC and SUN-SAT names.";

interface Compiled {
  readonly schedule: Schedule;
  readonly daysOfMonth: readonly boolean[];
  readonly months: readonly boolean[];
  readonly daysOfWeek: readonly boolean[];
  /** Vixie rule: `true` when a day must match both day fields, `false` when either suffices. */
  readonly bothDaysMustMatch: boolean;
  readonly utc: boolean;
  /** Reused cron-parser iterator over wall-clock time in UTC (reset per call; all synchronous). */
  readonly iterator: CronExpression;
}

const compiledBySchedule = new WeakMap<Schedule, Compiled>();
const scheduleCache = new Map<string, Schedule>();
const SCHEDULE_CACHE_MAX = 10_000;

/**
 * Parse and validate a cron expression (a workflow's `cron` trigger).
 *
 * @param expr 5 fields (`min hour dom month dow`, seconds fixed at 0) or 6 (`sec` first).
 * @param timezone IANA zone the fields are read in; default `"UTC"`.
 * @returns a cached {@link Schedule} (same `expr` + zone ⇒ same object).
 * @throws EngineError `VALIDATION` naming the field count, the offending field, an unknown time
 *   zone (`cron: unknown timezone "<tz>"`), or a calendar-impossible schedule (`0 0 30 2 *`).
 */
export function parseSchedule(expr: string, timezone?: string): Schedule {
  const key = `${String(expr)} ${timezone ?? "UTC"}`;
  const cached = scheduleCache.get(key);
  if (cached !== undefined) return cached;
  const compiled = compile(expr, timezone);
  if (scheduleCache.size >= SCHEDULE_CACHE_MAX) scheduleCache.clear();
  scheduleCache.set(key, compiled.schedule);
  compiledBySchedule.set(compiled.schedule, compiled);
  return compiled.schedule;
}

/**
 * The first fire instant **strictly after** `afterMs` (epoch ms), or `null` when there is none
 * within about five years. Nonexistent wall times (DST gap) are skipped; a repeated wall time
 * (DST overlap) fires only at its first occurrence.
 */
export function nextFire(schedule: Schedule, afterMs: number): number | null {
  const compiled = compiledOf(schedule);
  const iterator = compiled.iterator;
  // cron-parser walks wall-clock time (as if it were UTC); each wall time is then mapped to its
  // earliest real instant. Its own zone handling drops valid times next to some transitions
  // (e.g. 02:30 on Lord Howe's spring-forward day), so it is never asked to do that part.
  const startWall = afterMs + offsetAt(compiled, afterMs);
  const limit = startWall + HORIZON_MS;
  iterator.reset(new Date(startWall));
  for (let tries = 0; tries < MAX_CANDIDATES; tries++) {
    let wall: number;
    try {
      wall = iterator.next().getTime();
    } catch {
      return null; // cron-parser ran out of candidates
    }
    if (wall > limit) return null;
    if (!dayMatches(compiled, wall)) {
      // Proposed only because cron-parser ORs restricted day fields: skip the whole day.
      iterator.reset(new Date(Math.floor(wall / DAY_MS) * DAY_MS + DAY_MS - 1));
      continue;
    }
    const instant = firstInstantOfWall(compiled, wall);
    if (instant !== null && instant > afterMs) return instant;
  }
  return null;
}

/**
 * The latest fire instant `≤ atOrBeforeMs` and `> notBeforeMs`, or `null`. Used by catch-up to
 * find the last missed instant without walking every missed fire.
 * @internal
 */
export function latestFireAtOrBefore(
  schedule: Schedule,
  atOrBeforeMs: number,
  notBeforeMs: number,
): number | null {
  const compiled = compiledOf(schedule);
  const iterator = compiled.iterator;
  // Just after a fall-back, first occurrences of the repeated hour carry wall times later than
  // the current wall clock: start that much later.
  const offset = offsetAt(compiled, atOrBeforeMs);
  const dropped = Math.max(0, offsetAt(compiled, atOrBeforeMs - 3 * HOUR_MS) - offset);
  const floorWall = notBeforeMs + offsetAt(compiled, notBeforeMs) - 3 * HOUR_MS;
  iterator.reset(new Date(atOrBeforeMs + offset + dropped + 1));
  for (let tries = 0; tries < MAX_CANDIDATES; tries++) {
    let wall: number;
    try {
      wall = iterator.prev().getTime();
    } catch {
      return null;
    }
    if (wall <= floorWall) return null;
    if (!dayMatches(compiled, wall)) continue;
    const instant = firstInstantOfWall(compiled, wall);
    if (instant === null || instant > atOrBeforeMs) continue;
    return instant > notBeforeMs ? instant : null;
  }
  return null;
}

function compiledOf(schedule: Schedule): Compiled {
  const known = compiledBySchedule.get(schedule);
  if (known !== undefined) return known;
  // A structurally built Schedule (not from parseSchedule): validate it the same way.
  const parsed = parseSchedule(schedule.expr, schedule.timezone);
  const compiled = compiledBySchedule.get(parsed);
  if (compiled === undefined) throw new EngineError("INTERNAL", "cron: schedule cache corrupt");
  return compiled;
}

function validation(message: string, hint: string = GRAMMAR_HINT): EngineError {
  return new EngineError("VALIDATION", message, hint);
}

function canonicalZone(timezone: string | undefined): string {
  if (timezone === undefined) return "UTC";
  if (typeof timezone !== "string" || timezone.trim() === "") {
    throw validation(
      `cron: unknown timezone "${String(timezone)}"`,
      'Use an IANA zone name such as "Europe/London" or "America/New_York", or omit it for UTC.',
    );
  }
  // Offsets like "+05:00" are accepted by Intl but are not IANA names (and do not move with DST).
  if (/^[+-]/.test(timezone)) {
    throw validation(
      `cron: unknown timezone "${timezone}"`,
      'Use an IANA zone name such as "Europe/London", not a fixed UTC offset.',
    );
  }
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw validation(
      `cron: unknown timezone "${timezone}"`,
      'Use an IANA zone name such as "Europe/London" or "America/New_York", or omit it for UTC.',
    );
  }
}

interface ParsedField {
  readonly values: readonly boolean[];
  readonly count: number;
  readonly startsWithStar: boolean;
}

function parseField(text: string, spec: FieldSpec, expr: string): ParsedField {
  const fail = (problem: string): EngineError =>
    validation(`cron: ${spec.name} field "${text}" in "${expr}": ${problem}`);
  const values: boolean[] = new Array<boolean>(spec.max + 1).fill(false);
  const value = (token: string): number => {
    if (/^\d+$/.test(token)) {
      const n = Number(token);
      if (n < spec.min || n > spec.max) {
        throw fail(`${n} is out of range ${spec.min}-${spec.max}`);
      }
      return n;
    }
    const named = spec.names?.[token.toUpperCase()];
    if (named === undefined) {
      throw fail(
        spec.names === undefined ? `"${token}" is not a number` : `unknown name "${token}"`,
      );
    }
    return named;
  };
  for (const item of text.split(",")) {
    if (item === "") throw fail("empty list item");
    const slash = item.split("/");
    if (slash.length > 2) throw fail(`"${item}" has more than one "/"`);
    const [base = "", stepText] = slash;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) throw fail(`step "${stepText}" is not a positive integer`);
      step = Number(stepText);
      if (step === 0) throw fail("step 0 never advances");
    }
    let low: number;
    let high: number;
    if (base === "*") {
      low = spec.min;
      high = spec.max;
    } else if (base.includes("-")) {
      const bounds = base.split("-");
      if (bounds.length !== 2 || bounds[0] === "" || bounds[1] === "") {
        throw fail(`"${base}" is not a range A-B`);
      }
      low = value(bounds[0] ?? "");
      high = value(bounds[1] ?? "");
      if (low > high) throw fail(`range ${base} is reversed`);
    } else if (base === "") {
      throw fail(`"${item}" has no value before "/"`);
    } else {
      low = value(base);
      high = stepText === undefined ? low : spec.max;
    }
    for (let n = low; n <= high; n += step) values[n] = true;
  }
  if (spec === DAY_OF_WEEK && values[7] === true) {
    values[0] = true; // 0 and 7 are both Sunday
  }
  const trimmed = spec === DAY_OF_WEEK ? values.slice(0, 7) : values;
  const count = trimmed.filter(Boolean).length;
  return { values: trimmed, count, startsWithStar: text.startsWith("*") };
}

function fieldText(field: ParsedField, spec: FieldSpec): string {
  const full = spec === DAY_OF_WEEK ? 7 : spec.max - spec.min + 1;
  if (field.count === full) return "*";
  const list: number[] = [];
  field.values.forEach((on, n) => {
    if (on) list.push(n);
  });
  return list.join(",");
}

function compile(rawExpr: string, timezone: string | undefined): Compiled {
  if (typeof rawExpr !== "string") throw validation("cron: expression must be a string");
  const expr = rawExpr.trim();
  const parts = expr === "" ? [] : expr.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw validation(`cron: expected 5 or 6 fields, got ${parts.length} in "${expr}"`);
  }
  const fields = parts.length === 5 ? ["0", ...parts] : parts;
  const zone = canonicalZone(timezone);
  const [second, minute, hour, dom, month, dow] = [
    parseField(fields[0] ?? "", SECOND, expr),
    parseField(fields[1] ?? "", MINUTE, expr),
    parseField(fields[2] ?? "", HOUR, expr),
    parseField(fields[3] ?? "", DAY_OF_MONTH, expr),
    parseField(fields[4] ?? "", MONTH, expr),
    parseField(fields[5] ?? "", DAY_OF_WEEK, expr),
  ];
  const bothDaysMustMatch = dom.startsWithStar || dow.startsWithStar;
  // Calendar-impossible schedules (`0 0 30 2 *`): when the day-of-month must match, some chosen
  // month has to have some chosen day (every such date falls on every weekday over the years).
  const domMustMatch = bothDaysMustMatch || dow.count === 0;
  if (domMustMatch) {
    let possible = false;
    for (let m = 1; m <= 12 && !possible; m++) {
      if (month.values[m] !== true) continue;
      for (let d = 1; d <= (MAX_DAYS[m] ?? 31); d++) {
        if (dom.values[d] === true) {
          possible = true;
          break;
        }
      }
    }
    if (!possible) {
      throw validation(
        `cron: "${expr}" never fires (no chosen month has the chosen day-of-month)`,
        "Pick a day-of-month that exists in the chosen months (February has at most 29 days).",
      );
    }
  }
  // The candidate expression handed to cron-parser must yield a superset of our fires. It ORs
  // two restricted day fields and ANDs when one is a wildcard; under "either suffices" a full
  // field means every day, so pass wildcards there.
  let domText = fieldText(dom, DAY_OF_MONTH);
  let dowText = fieldText(dow, DAY_OF_WEEK);
  if (!bothDaysMustMatch && (domText === "*" || dowText === "*")) {
    domText = "*";
    dowText = "*";
  }
  const candidateExpr = [
    fieldText(second, SECOND),
    fieldText(minute, MINUTE),
    fieldText(hour, HOUR),
    domText,
    fieldText(month, MONTH),
    dowText,
  ].join(" ");
  let iterator: CronExpression;
  try {
    iterator = CronExpressionParser.parse(candidateExpr, { tz: "UTC", currentDate: 0 });
    iterator.next();
  } catch (error) {
    throw validation(
      `cron: "${expr}" cannot be evaluated: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const schedule: Schedule = Object.freeze({ expr, timezone: zone });
  return {
    schedule,
    daysOfMonth: dom.values,
    months: month.values,
    daysOfWeek: dow.values,
    bothDaysMustMatch,
    utc: zone === "UTC",
    iterator,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Wall clock minus UTC at instant `t`, in ms, read with Intl (whole seconds). */
function offsetAt(compiled: Compiled, t: number): number {
  if (compiled.utc) return 0;
  const whole = Math.floor(t / 1000) * 1000;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(compiled.schedule.timezone).formatToParts(whole)) {
    const n = Number(part.value);
    switch (part.type) {
      case "year":
        year = n;
        break;
      case "month":
        month = n;
        break;
      case "day":
        day = n;
        break;
      case "hour":
        hour = n;
        break;
      case "minute":
        minute = n;
        break;
      case "second":
        second = n;
        break;
      default:
        break;
    }
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - whole;
}

/**
 * The earliest instant whose wall clock reads `wall` (a wall time encoded as if it were UTC), or
 * `null` when that wall time does not exist (DST gap). Taking the earliest is what makes a
 * repeated wall time (DST overlap) fire once, at its first occurrence.
 */
function firstInstantOfWall(compiled: Compiled, wall: number): number | null {
  if (compiled.utc) return wall;
  const approx = wall - offsetAt(compiled, wall);
  // The true instant lies within a DST delta (≤ 2 h) of `approx`: the offsets 3 h either side
  // are the ones in force before and after any transition near it.
  const offsets = new Set([
    offsetAt(compiled, approx - 3 * HOUR_MS),
    offsetAt(compiled, approx),
    offsetAt(compiled, approx + 3 * HOUR_MS),
  ]);
  let best: number | null = null;
  for (const offset of offsets) {
    const instant = wall - offset;
    if (offsetAt(compiled, instant) === offset && (best === null || instant < best)) {
      best = instant;
    }
  }
  return best;
}

/** Month and the day-of-month/day-of-week rule, read from a wall time encoded as UTC. */
function dayMatches(compiled: Compiled, wall: number): boolean {
  const date = new Date(wall);
  if (compiled.months[date.getUTCMonth() + 1] !== true) return false;
  const dom = compiled.daysOfMonth[date.getUTCDate()] === true;
  const dow = compiled.daysOfWeek[date.getUTCDay()] === true;
  return compiled.bothDaysMustMatch ? dom && dow : dom || dow;
}
