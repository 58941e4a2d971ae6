/**
 * The loop's view of the host's redactor. The run's `Redactor` (`@promenade/workflow/redact`)
 * already offers everything the loop needs; any other `{ add, redact }` port is wrapped so that
 * deep redaction delegates to it, every cached view is re-redacted (its secret set may change
 * unseen) and streamed text is held until the response ends (its longest secret is unknown).
 */
import { Redactor, redactDeep, StreamingRedactor } from "@promenade/workflow/redact";
import type { RedactorPort } from "./ports.ts";

/** The members of a redactor the loop relies on beyond {@link RedactorPort}. */
export interface LoopRedactor extends RedactorPort {
  redactDeep<T>(value: T): T;
  stream(): StreamingRedactor;
  readonly version: number;
}

/** `port` as a {@link LoopRedactor}: itself when it already is one, else a wrapper. */
export function toLoopRedactor(port: RedactorPort): LoopRedactor {
  if (port instanceof Redactor) return port;
  const candidate = port as Partial<LoopRedactor>;
  if (
    typeof candidate.redactDeep === "function" &&
    typeof candidate.stream === "function" &&
    typeof candidate.version === "number"
  ) {
    return candidate as LoopRedactor;
  }
  let version = 0;
  const redact = (text: string): string => port.redact(text);
  return {
    add: (label, value) => port.add(label, value),
    redact,
    redactDeep: <T>(value: T): T => redactDeep(value, redact),
    stream: () =>
      new StreamingRedactor({ maxLength: Number.POSITIVE_INFINITY, ranges: () => [], redact }),
    get version() {
      return ++version;
    },
  };
}
