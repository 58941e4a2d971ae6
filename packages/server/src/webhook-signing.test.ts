// The webhook signature scheme. What would break: a captured signed delivery replayed forever,
// a stale timestamp accepted, a body-only signature sneaking past strict mode, or a
// Boardwalk-compatible sender (no timestamp) refused on a webhook that never opted in.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ReplayCache } from "./internal/replay-cache.ts";
import { verifySignedDelivery } from "./webhook-signing.ts";
import type { SignedDeliveryArgs } from "./webhook-signing.ts";

const SECRET = "signing-test-secret";
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const BODY = Buffer.from('{"event":"push"}');

function sign(message: string | Buffer): string {
  return `sha256=${createHmac("sha256", SECRET).update(message).digest("hex")}`;
}

function delivery(
  headers: Record<string, string>,
  config: Record<string, unknown> = {},
  cache = new ReplayCache({ maxEntries: 100, now: () => NOW_MS }),
): SignedDeliveryArgs {
  return {
    workflow: { id: "01WORKFLOW", slug: "signed", config },
    index: 0,
    secret: SECRET,
    headers,
    rawHeaders: Object.entries(headers).flat(),
    body: BODY,
    cache,
  };
}

function outcome(args: SignedDeliveryArgs): string {
  try {
    verifySignedDelivery(args).admit();
    return "accepted";
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return `${String(status)} ${code}`;
  }
}

const strict = { webhooks: { strict: true, toleranceSeconds: 300 } };

describe("body-only signatures (Boardwalk-compatible)", () => {
  it("are accepted, replays included, unless the webhook is strict", () => {
    const cache = new ReplayCache({ maxEntries: 100, now: () => NOW_MS });
    const headers = { "x-promenade-signature": sign(BODY) };
    expect(outcome(delivery(headers, {}, cache))).toBe("accepted");
    expect(outcome(delivery(headers, {}, cache))).toBe("accepted");
    expect(outcome(delivery(headers, strict, cache))).toBe("401 UNAUTHORIZED");
  });
});

describe("timestamped signatures", () => {
  const stamped = (
    seconds: number,
    extra: Record<string, string> = {},
  ): Record<string, string> => ({
    "x-promenade-timestamp": String(seconds),
    "x-promenade-signature": sign(`${String(seconds)}.${BODY.toString()}`),
    ...extra,
  });

  it("sign <timestamp>.<body>: a body-only signature with a timestamp is refused", () => {
    expect(outcome(delivery(stamped(NOW), strict))).toBe("accepted");
    expect(
      outcome(
        delivery({ "x-promenade-timestamp": String(NOW), "x-promenade-signature": sign(BODY) }),
      ),
    ).toBe("401 UNAUTHORIZED");
  });

  it("refuse a malformed or repeated timestamp", () => {
    expect(outcome(delivery({ ...stamped(NOW), "x-promenade-timestamp": "soon" }))).toBe(
      "401 UNAUTHORIZED",
    );
    const args = delivery(stamped(NOW), strict);
    args.rawHeaders.push("X-Promenade-Timestamp", String(NOW));
    expect(outcome(args)).toBe("401 UNAUTHORIZED");
  });

  it("refuse a timestamp outside the tolerance window, either side", () => {
    expect(outcome(delivery(stamped(NOW - 300), strict))).toBe("accepted");
    expect(outcome(delivery(stamped(NOW - 301), strict))).toBe("401 UNAUTHORIZED");
    expect(outcome(delivery(stamped(NOW + 301), strict))).toBe("401 UNAUTHORIZED");
    const narrow = { webhooks: { strict: true, toleranceSeconds: 10 } };
    expect(outcome(delivery(stamped(NOW - 11), narrow))).toBe("401 UNAUTHORIZED");
    expect(() => verifySignedDelivery(delivery(stamped(NOW - 11), narrow))).toThrow(
      "Webhook timestamp is outside the 10-second tolerance window.",
    );
  });

  it("accept a delivery once within the window: same bytes or same delivery id → 409", () => {
    const cache = new ReplayCache({ maxEntries: 100, now: () => NOW_MS });
    const first = stamped(NOW, { "x-github-delivery": "d-1" });
    expect(outcome(delivery(first, strict, cache))).toBe("accepted");
    expect(outcome(delivery(first, strict, cache))).toBe("409 CONFLICT");
    // A re-signed copy with a fresh timestamp but the same delivery id is the same delivery.
    expect(outcome(delivery(stamped(NOW + 1, { "x-github-delivery": "d-1" }), strict, cache))).toBe(
      "409 CONFLICT",
    );
    expect(outcome(delivery(stamped(NOW + 1, { "x-github-delivery": "d-2" }), strict, cache))).toBe(
      "accepted",
    );
  });

  it("scope deliveries to the trigger", () => {
    const cache = new ReplayCache({ maxEntries: 100, now: () => NOW_MS });
    const args = delivery(stamped(NOW), strict, cache);
    expect(outcome(args)).toBe("accepted");
    expect(outcome({ ...args, index: 1 })).toBe("accepted");
    expect(outcome({ ...args, workflow: { ...args.workflow, id: "01OTHER" } })).toBe("accepted");
  });

  it("are verified the same way on a webhook that is not strict", () => {
    const cache = new ReplayCache({ maxEntries: 100, now: () => NOW_MS });
    expect(outcome(delivery(stamped(NOW), {}, cache))).toBe("accepted");
    expect(outcome(delivery(stamped(NOW), {}, cache))).toBe("409 CONFLICT");
    expect(outcome(delivery(stamped(NOW - 301), {}, cache))).toBe("401 UNAUTHORIZED");
  });
});

describe("deploy config", () => {
  it("fails closed on an invalid config.webhooks", () => {
    expect(
      outcome(delivery({ "x-promenade-signature": sign(BODY) }, { webhooks: { strict: 1 } })),
    ).toBe("503 WEBHOOK_UNCONFIGURED");
  });
});
