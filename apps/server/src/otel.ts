/**
 * OpenTelemetry export switch: when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, load the exporter (and with it the OpenTelemetry SDK) and
 * export every finished run's trace over OTLP/HTTP; otherwise load nothing at all.
 */
import type { Engine } from "@promenade/engine";

/** A running export; `close` flushes what is queued. */
export interface TraceExport {
  /** The OTLP/HTTP traces URL spans are sent to. */
  readonly url: string;
  close(): Promise<void>;
}

/** The traces URL the OTLP variables name, or null when neither is set. */
export function otlpTracesUrl(env: Readonly<Record<string, string | undefined>>): string | null {
  const traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
  if (traces !== undefined && traces !== "") return traces;
  const base = env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  if (base === undefined || base === "") return null;
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

/** Start exporting when configured; resolves to null (and imports nothing) otherwise. */
export async function startTraceExportIfConfigured(
  env: Readonly<Record<string, string | undefined>>,
  engine: Engine,
  log: (line: string) => void,
): Promise<TraceExport | null> {
  const url = otlpTracesUrl(env);
  if (url === null) return null;
  const serviceName = env["OTEL_SERVICE_NAME"];
  const { startTraceExport } = await import("./otel-export.ts");
  return startTraceExport({
    engine,
    url,
    log,
    ...(serviceName === undefined || serviceName === "" ? {} : { serviceName }),
  });
}
