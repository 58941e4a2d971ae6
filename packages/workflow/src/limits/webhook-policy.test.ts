// The deploy-config switch for replay-proof webhooks. What would break: a typo such as
// `strict: "yes"` silently leaving a webhook replayable, or strict mode "enabled" on a
// token-only workflow that can never send a signed timestamp.
import { describe, expect, it } from "vitest";
import { readWebhookReplayPolicy } from "./webhook-policy.ts";

const signature = [{ kind: "webhook", auth: "signature" }];

describe("readWebhookReplayPolicy", () => {
  it("defaults to the Boardwalk-compatible scheme", () => {
    expect(readWebhookReplayPolicy({})).toEqual({
      ok: true,
      policy: { strict: false, toleranceSeconds: 300 },
    });
    expect(readWebhookReplayPolicy({ webhooks: {} }, signature)).toEqual({
      ok: true,
      policy: { strict: false, toleranceSeconds: 300 },
    });
  });

  it("reads strict mode and the tolerance window", () => {
    expect(
      readWebhookReplayPolicy({ webhooks: { strict: true, toleranceSeconds: 60 } }, signature),
    ).toEqual({ ok: true, policy: { strict: true, toleranceSeconds: 60 } });
  });

  it("names the config path of every invalid option", () => {
    const problem = (config: Record<string, unknown>): string | undefined => {
      const result = readWebhookReplayPolicy(config, signature);
      return result.ok ? undefined : result.problem;
    };
    expect(problem({ webhooks: true })).toMatch(/^config\.webhooks must be an object/);
    expect(problem({ webhooks: { strict: "yes" } })).toMatch(/^config\.webhooks\.strict must/);
    expect(problem({ webhooks: { tolerance: 5 } })).toMatch(/^config\.webhooks\.tolerance is not/);
    for (const toleranceSeconds of [0, 1.5, 3601, "300"]) {
      expect(problem({ webhooks: { toleranceSeconds } })).toMatch(
        /^config\.webhooks\.toleranceSeconds must be an integer from 1 to 3600/,
      );
    }
  });

  it("refuses strict mode without a signature webhook", () => {
    const result = readWebhookReplayPolicy({ webhooks: { strict: true } }, [
      { kind: "webhook", auth: "token" },
      { kind: "manual" },
    ]);
    expect(result).toEqual({
      ok: false,
      problem: expect.stringContaining('needs a webhook trigger with auth "signature"') as unknown,
    });
  });
});
