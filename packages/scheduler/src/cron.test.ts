/**
 * Cron evaluation across DST: if the wrapper around cron-parser loses one of its filters, a job
 * fires at 03:30 on spring-forward day, twice on fall-back day, or on the wrong weekday. The
 * expected fire times are computed independently of the code under test, from Intl wall-clock
 * math only.
 */
import { describe, expect, it } from "vitest";
import { isEngineError } from "@promenade/workflow/errors";
import { latestFireAtOrBefore, nextFire, parseSchedule } from "./cron.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** Wall clock of `t` in `zone` as a "UTC-shaped" number (what the clock on the wall reads). */
const formats = new Map<string, Intl.DateTimeFormat>();
function wallAsUtc(zone: string, t: number): number {
  const format =
    formats.get(zone) ??
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  formats.set(zone, format);
  const parts = format.formatToParts(t);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
}

/**
 * Every instant whose wall clock in `zone` reads `wall`, earliest first: none in a DST gap, two in
 * an overlap. Candidates use the zone's offsets a day either side, then are checked with Intl.
 */
function instantsOfWall(zone: string, wall: number): number[] {
  const offsets = new Set([wall - DAY, wall, wall + DAY].map((t) => wallAsUtc(zone, t) - t));
  return [...offsets]
    .map((offset) => wall - offset)
    .filter((t) => wallAsUtc(zone, t) === wall)
    .sort((a, b) => a - b);
}

interface Row {
  zone: string;
  expr: string;
  /** Wall times of day (hour, minute) the expression selects. */
  times: readonly (readonly [number, number])[];
  /** Which local days it selects (by ISO weekday 0 = Sunday); all when absent. */
  weekdays?: readonly number[];
}

const everyHalfHour: [number, number][] = [];
for (let h = 0; h < 24; h++) everyHalfHour.push([h, 0], [h, 30]);
const everyHour = everyHalfHour.filter(([, m]) => m === 0);

const TABLE: readonly Row[] = [
  { zone: "America/New_York", expr: "30 2 * * *", times: [[2, 30]] },
  { zone: "America/New_York", expr: "30 1 * * *", times: [[1, 30]] },
  { zone: "America/New_York", expr: "0 * * * *", times: everyHour },
  { zone: "America/New_York", expr: "0 9 * * MON-FRI", times: [[9, 0]], weekdays: [1, 2, 3, 4, 5] },
  { zone: "Europe/London", expr: "30 1 * * *", times: [[1, 30]] },
  { zone: "Europe/London", expr: "0 * * * *", times: everyHour },
  { zone: "Europe/London", expr: "15 0 * * sun", times: [[0, 15]], weekdays: [0] },
  { zone: "Australia/Lord_Howe", expr: "*/30 * * * *", times: everyHalfHour },
  { zone: "Australia/Lord_Howe", expr: "15 2 * * *", times: [[2, 15]] },
  { zone: "Australia/Lord_Howe", expr: "45 1 * * *", times: [[1, 45]] },
];

const START = Date.UTC(2026, 0, 1) - DAY; // covers local 2026-01-01 in every zone
const END = Date.UTC(2027, 0, 1) + DAY;

function expectedFires(row: Row): number[] {
  const out: number[] = [];
  for (let day = Date.UTC(2025, 11, 29); day <= Date.UTC(2027, 0, 3); day += DAY) {
    if (row.weekdays !== undefined && !row.weekdays.includes(new Date(day).getUTCDay())) continue;
    for (const [h, m] of row.times) {
      const first = instantsOfWall(row.zone, day + h * HOUR + m * 60_000)[0];
      if (first !== undefined && first > START && first <= END) out.push(first);
    }
  }
  return out.sort((a, b) => a - b);
}

function actualFires(row: Row): number[] {
  const schedule = parseSchedule(row.expr, row.zone);
  const out: number[] = [];
  for (let t = nextFire(schedule, START); t !== null && t <= END; t = nextFire(schedule, t)) {
    out.push(t);
  }
  return out;
}

describe("nextFire across a full year of DST transitions", () => {
  it.each(TABLE.map((row) => [row.zone, row.expr, row] as const))(
    "%s %s matches Intl wall-clock math",
    (_zone, _expr, row) => {
      const expected = expectedFires(row);
      expect(expected.length).toBeGreaterThan(50);
      expect(actualFires(row).map(iso)).toEqual(expected.map(iso));
    },
    // A year of half-hourly fires is ~17,500 nextFire calls plus the Intl oracle: seconds of CPU,
    // many more when the machine is shared, so this table gets a budget of its own.
    60_000,
  );

  it("skips the spring-forward gap and fires a repeated wall time once (New York)", () => {
    const gap = parseSchedule("30 2 * * *", "America/New_York");
    expect(iso(nextFire(gap, Date.parse("2026-03-07T08:00:00Z")))).toBe("2026-03-09T06:30:00.000Z");
    const overlap = parseSchedule("30 1 * * *", "America/New_York");
    expect(iso(nextFire(overlap, Date.parse("2026-11-01T05:30:00Z")))).toBe(
      "2026-11-02T06:30:00.000Z",
    );
    // Starting between the two occurrences of 01:30 never yields the second one.
    expect(iso(nextFire(overlap, Date.parse("2026-11-01T06:00:00Z")))).toBe(
      "2026-11-02T06:30:00.000Z",
    );
  });

  it("handles Lord Howe's 30-minute shift", () => {
    const gap = parseSchedule("15 2 * * *", "Australia/Lord_Howe");
    // 2026-10-04 02:15 does not exist (02:00 → 02:30); the next fire is 10-05 02:15 (+11:00).
    expect(iso(nextFire(gap, Date.parse("2026-10-03T12:00:00Z")))).toBe("2026-10-04T15:15:00.000Z");
    const overlap = parseSchedule("45 1 * * *", "Australia/Lord_Howe");
    // 2026-04-05 01:45 happens twice (+11:00 then +10:30); only the first fires.
    expect(iso(nextFire(overlap, Date.parse("2026-04-04T12:00:00Z")))).toBe(
      "2026-04-04T14:45:00.000Z",
    );
    expect(iso(nextFire(overlap, Date.parse("2026-04-04T14:45:00Z")))).toBe(
      "2026-04-05T15:15:00.000Z",
    );
  });
});

describe("nextFire", () => {
  const after = (expr: string, zone: string | undefined, from: string): string | null =>
    iso(nextFire(parseSchedule(expr, zone), Date.parse(from)));

  it("reads fields in the trigger's zone", () => {
    expect(after("0 9 * * *", "America/New_York", "2026-06-10T00:00:00Z")).toBe(
      "2026-06-10T13:00:00.000Z",
    );
  });

  it("skips a date whose wall time falls in the gap that year", () => {
    expect(after("30 2 8 3 *", "America/New_York", "2026-02-01T00:00:00Z")).toBe(
      "2027-03-08T07:30:00.000Z",
    );
  });

  it("fires a yearly overlap time once, at the earlier instant", () => {
    const first = after("30 1 1 11 *", "America/New_York", "2026-02-01T00:00:00Z");
    expect(first).toBe("2026-11-01T05:30:00.000Z");
    expect(after("30 1 1 11 *", "America/New_York", first ?? "")).toBe("2027-11-01T05:30:00.000Z");
  });

  it("requires both day fields when one starts with *, either otherwise (Vixie rule)", () => {
    expect(after("0 0 */2 * 5", undefined, "2026-06-10T00:00:00Z")).toBe(
      "2026-06-19T00:00:00.000Z",
    );
    expect(after("0 0 13 * 5", "UTC", "2026-06-10T00:00:00Z")).toBe("2026-06-12T00:00:00.000Z");
    expect(after("0 0 13 * 5", "UTC", "2026-06-12T00:00:00Z")).toBe("2026-06-13T00:00:00.000Z");
    // A full day-of-month range is not a wildcard: every day matches.
    expect(after("0 0 1-31 * 1", "UTC", "2026-06-10T00:00:00Z")).toBe("2026-06-11T00:00:00.000Z");
    // Per-second with both rules: Fridays that are odd days of the month.
    expect(after("* * * */2 * 5", "UTC", "2026-06-10T00:00:00Z")).toBe("2026-06-19T00:00:00.000Z");
  });

  it("returns the first fire strictly after the given instant", () => {
    const minute = parseSchedule("* * * * *");
    expect(nextFire(minute, Date.UTC(2026, 0, 1))).toBe(Date.UTC(2026, 0, 1, 0, 1));
    const second = parseSchedule("* * * * * *");
    expect(nextFire(second, Date.UTC(2026, 0, 1) + 500)).toBe(Date.UTC(2026, 0, 1, 0, 0, 1));
  });

  it("returns null when nothing fires within about five years", () => {
    // 29 February on a Sunday: 2032, more than five years after mid-2026.
    const rare = parseSchedule("0 0 29 2 */7");
    expect(nextFire(rare, Date.UTC(2026, 5, 10))).toBeNull();
    const expected = Date.UTC(2032, 1, 29);
    expect(new Date(expected).getUTCDay()).toBe(0);
    expect(nextFire(rare, Date.UTC(2030, 0, 1))).toBe(expected);
  });
});

describe("parseSchedule", () => {
  const problem = (expr: string, zone?: string): string => {
    try {
      parseSchedule(expr, zone);
    } catch (error) {
      if (!isEngineError(error)) throw error;
      expect(error.code).toBe("VALIDATION");
      expect(error.hint).toBeTruthy();
      return error.message;
    }
    throw new Error(`"${expr}" was accepted`);
  };

  it("rejects field counts other than 5 or 6, naming the count", () => {
    expect(problem("* * * *")).toContain("got 4");
    expect(problem("* * * * * * *")).toContain("got 7");
    expect(problem("   ")).toContain("got 0");
  });

  it("rejects bad fields, naming the field", () => {
    expect(problem("60 * * * *")).toMatch(/minute field "60".*out of range 0-59/);
    expect(problem("0 24 * * *")).toContain("hour field");
    expect(problem("0 0 0 * *")).toContain("day-of-month field");
    expect(problem("0 0 * 13 *")).toContain("month field");
    expect(problem("0 0 * * 8")).toContain("day-of-week field");
    expect(problem("60 * * * * *")).toContain("second field");
    expect(problem("*/0 * * * *")).toContain("step 0");
    expect(problem("5-1 * * * *")).toContain("reversed");
    expect(problem("1,,2 * * * *")).toContain("empty list item");
    expect(problem("0 0 * * FOO")).toContain('unknown name "FOO"');
    expect(problem("0 0 L * *")).toContain("day-of-month field");
    expect(problem("0 0 ? * *")).toContain("day-of-month field");
    expect(problem("0 0 * * 5#2")).toContain("day-of-week field");
    expect(problem("@daily 0 0 0 0")).toContain("minute field");
  });

  it("rejects an unknown time zone naming it (cron-parser would fail later, unrelatedly)", () => {
    expect(problem("* * * * *", "Not/A_Zone")).toBe('cron: unknown timezone "Not/A_Zone"');
    expect(problem("* * * * *", "+05:00")).toContain('"+05:00"');
  });

  it("rejects calendar-impossible schedules", () => {
    expect(problem("0 0 30 2 *")).toContain("never fires");
    expect(problem("0 0 31 4,6,9,11 *")).toContain("never fires");
  });

  it("accepts names case-insensitively, N/step and 7 as Sunday", () => {
    const at = (expr: string, from: number): string | null =>
      iso(nextFire(parseSchedule(expr), from));
    const wed = Date.UTC(2026, 5, 10); // a Wednesday
    expect(at("0 0 * * sun", wed)).toBe("2026-06-14T00:00:00.000Z");
    expect(at("0 0 * * 7", wed)).toBe("2026-06-14T00:00:00.000Z");
    expect(at("0 0 * * fri-SAT", wed)).toBe("2026-06-12T00:00:00.000Z");
    expect(at("0 0 1 jan *", wed)).toBe("2027-01-01T00:00:00.000Z");
    expect(at("50/5 * * * *", wed)).toBe("2026-06-10T00:50:00.000Z");
    expect(at("50/5 * * * *", Date.UTC(2026, 5, 10, 0, 55))).toBe("2026-06-10T01:50:00.000Z");
  });

  it("caches by expression and zone, defaulting to UTC", () => {
    expect(parseSchedule("0 9 * * *")).toBe(parseSchedule(" 0 9 * * * ".trim()));
    expect(parseSchedule("0 9 * * *").timezone).toBe("UTC");
    expect(parseSchedule("0 9 * * *", "Europe/London").timezone).toBe("Europe/London");
  });
});

describe("latestFireAtOrBefore", () => {
  it("agrees with walking forward, across an overlap", () => {
    const schedule = parseSchedule("*/20 1 * * *", "America/New_York");
    const from = Date.parse("2026-10-30T00:00:00Z");
    const to = Date.parse("2026-11-01T07:00:00Z"); // after both 01:xx hours of fall-back day
    let last: number | null = null;
    for (let t = nextFire(schedule, from); t !== null && t <= to; t = nextFire(schedule, t))
      last = t;
    expect(iso(latestFireAtOrBefore(schedule, to, from))).toBe(iso(last));
    expect(iso(last)).toBe("2026-11-01T05:40:00.000Z");
    expect(latestFireAtOrBefore(schedule, from + HOUR, from)).toBeNull();
  });
});
