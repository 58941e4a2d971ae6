// The webhook signature scheme. What would break: a captured signed delivery replayed forever
// (its keys must name it however it is re-sent), a stale timestamp accepted, a body-only
// signature sneaking past strict mode, or a Boardwalk-compatible sender (no timestamp) refused
// on a webhook that never opted in. That the engine refuses a delivery whose keys it remembers
// is tested with the store and over HTTP.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
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
): SignedDeliveryArgs {
  return {
    workflow: { id: "01WORKFLOW", slug: "signed", config },
    index: 0,
    secret: SECRET,
    headers,
    rawHeaders: Object.entries(headers).flat(),
    body: BODY,
    now: NOW_MS,
  };
}

function outcome(args: SignedDeliveryArgs): string {
  try {
    return verifySignedDelivery(args) === null ? "accepted" : "accepted once";
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return `${String(status)} ${code}`;
  }
}

const strict = { webhooks: { strict: true, toleranceSeconds: 300 } };

describe("body-only signatures (Boardwalk-compatible)", () => {
  it("are accepted with no keys (replays included) unless the webhook is strict", () => {
    const headers = { "x-promenade-signature": sign(BODY), "x-github-delivery": "d-1" };
    expect(outcome(delivery(headers))).toBe("accepted");
    expect(outcome(delivery(headers, strict))).toBe("401 UNAUTHORIZED");
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
    expect(outcome(delivery(stamped(NOW), strict))).toBe("accepted once");
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
    expect(outcome(delivery(stamped(NOW - 300), strict))).toBe("accepted once");
    expect(outcome(delivery(stamped(NOW - 301), strict))).toBe("401 UNAUTHORIZED");
    expect(outcome(delivery(stamped(NOW + 301), strict))).toBe("401 UNAUTHORIZED");
    const narrow = { webhooks: { strict: true, toleranceSeconds: 10 } };
    expect(outcome(delivery(stamped(NOW - 11), narrow))).toBe("401 UNAUTHORIZED");
    expect(() => verifySignedDelivery(delivery(stamped(NOW - 11), narrow))).toThrow(
      "Webhook timestamp is outside the 10-second tolerance window.",
    );
  });

  it("name a delivery by its signature and its delivery id, for the trigger, until the window ends", () => {
    const keysOf = (headers: Record<string, string>, index = 0): string[] =>
      verifySignedDelivery({ ...delivery(headers, strict), index })?.keys ?? [];
    const first = verifySignedDelivery(
      delivery(stamped(NOW, { "x-github-delivery": "d-1" }), strict),
    );
    expect(first).toEqual({
      hookIndex: 0,
      keys: [expect.stringMatching(/^[0-9a-f]{64}$/), expect.stringMatching(/^[0-9a-f]{64}$/)],
      deliveryId: "d-1",
      // The signed second plus the window plus one: no copy can pass the window after it.
      expiresAt: (NOW + 300 + 1) * 1000,
    });
    const [signature, id] = first?.keys ?? [];
    // The same bytes again: the same keys.
    expect(keysOf(stamped(NOW, { "x-github-delivery": "d-1" }))).toEqual([signature, id]);
    // Re-signed with a fresh timestamp, the same id (either header): the id key is shared.
    const resent = keysOf(stamped(NOW + 1, { "x-promenade-delivery": "d-1" }));
    expect(resent[1]).toBe(id);
    expect(resent[0]).not.toBe(signature);
    // The same bytes without the id: the signature key is shared.
    expect(keysOf(stamped(NOW))).toEqual([signature]);
    // X-Promenade-Delivery wins over X-GitHub-Delivery.
    expect(
      verifySignedDelivery(
        delivery(stamped(NOW, { "x-promenade-delivery": "p-1", "x-github-delivery": "g-1" })),
      )?.deliveryId,
    ).toBe("p-1");
    // The trigger is part of what the engine scopes the keys by.
    expect(verifySignedDelivery({ ...delivery(stamped(NOW)), index: 2 })?.hookIndex).toBe(2);
    // A delivery stamped ahead of the server clock is remembered until its own window ends.
    expect(verifySignedDelivery(delivery(stamped(NOW + 10), strict))?.expiresAt).toBe(
      (NOW + 10 + 300 + 1) * 1000,
    );
  });

  it("are verified the same way on a webhook that is not strict", () => {
    expect(outcome(delivery(stamped(NOW)))).toBe("accepted once");
    expect(outcome(delivery(stamped(NOW - 301)))).toBe("401 UNAUTHORIZED");
  });
});

describe("deploy config", () => {
  it("fails closed on an invalid config.webhooks", () => {
    expect(
      outcome(delivery({ "x-promenade-signature": sign(BODY) }, { webhooks: { strict: 1 } })),
    ).toBe("503 WEBHOOK_UNCONFIGURED");
  });
});
