/**
 * `@promenade/workflow/redact`: the one implementation of secret redaction. Every path that can
 * carry a secret — agent events and model requests, a run's stdout/stderr, error messages, event
 * bodies, engine logs — replaces each known value by a `[redacted:<label>]` token (part of the
 * event wire format). One-shot (`Redactor.redact`), streamed with hold-back
 * (`StreamingRedactor`), and deep over JSON values (`redactDeep`). No dependencies, no work at
 * import time: a run process can load it at start.
 */
export { Redactor } from "./redactor.ts";
export { StreamingRedactor, type RedactionSource } from "./streaming.ts";
export { redactDeep } from "./deep.ts";
export {
  MIN_SECRET_LENGTH,
  findRanges,
  redactionToken,
  renderRanges,
  type RedactionRange,
} from "./ranges.ts";
