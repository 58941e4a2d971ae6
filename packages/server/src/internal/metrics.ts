/**
 * In-process Prometheus counters for the server (served at `/metrics`). Counters only grow; gauges
 * that mirror engine state are read at scrape time by the caller. Label values are route templates
 * and deployed slugs only, so the series count stays bounded.
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`).join(",")}}`;
}

class Counter {
  readonly values = new Map<string, number>();
  inc(labels: Record<string, string>, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
}

/** The server's counters; `render()` produces the exposition text. */
export class Metrics {
  readonly startTimeSeconds = Date.now() / 1000;
  readonly httpRequests = new Counter();
  readonly deploys = new Counter();
  readonly runsStarted = new Counter();
  readonly runsFinished = new Counter();
  readonly runEvents = new Counter();
  readonly webhookRequests = new Counter();
  /** Frames sent by type; a plain map because it is bumped once per frame on the hot path. */
  readonly wsFramesSent = new Map<string, number>();
  readonly wsClosed = new Counter();
  wsBackpressurePauses = 0;
  private readonly durations = new Map<string, { buckets: number[]; sum: number; count: number }>();

  /** Count one HTTP request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    let h = this.durations.get(route);
    if (h === undefined) {
      h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(route, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= (BUCKETS[i] ?? 0)) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    }
    h.sum += seconds;
    h.count += 1;
  }

  /** Exposition text; `gauges` are the scrape-time values supplied by the server. */
  render(gauges: {
    version: string;
    workflows: number;
    runs: Record<string, number>;
    wsConnections: number;
    wsSubscriptions: { run: number; runs: number };
    /** The engine's retention counters, when it has a retention sweep. */
    retention?: { sweeps: number; runsDeleted: number; versionsDeleted?: number } | null;
  }): string {
    const out: string[] = [];
    const counter = (name: string, help: string, c: Counter): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of c.values) out.push(`${name}${labels} ${v}`);
    };
    out.push(
      "# HELP promenade_build_info Build information.",
      "# TYPE promenade_build_info gauge",
      `promenade_build_info${labelText({ version: gauges.version, node: process.version })} 1`,
      "# HELP promenade_process_start_time_seconds Start time of the process since unix epoch in seconds.",
      "# TYPE promenade_process_start_time_seconds gauge",
      `promenade_process_start_time_seconds ${this.startTimeSeconds}`,
    );
    counter("promenade_http_requests_total", "HTTP requests served.", this.httpRequests);
    out.push(
      "# HELP promenade_http_request_duration_seconds HTTP request duration.",
      "# TYPE promenade_http_request_duration_seconds histogram",
    );
    for (const [route, h] of this.durations) {
      BUCKETS.forEach((le, i) => {
        out.push(
          `promenade_http_request_duration_seconds_bucket${labelText({ route, le: String(le) })} ${h.buckets[i] ?? 0}`,
        );
      });
      out.push(
        `promenade_http_request_duration_seconds_bucket${labelText({ route, le: "+Inf" })} ${h.count}`,
        `promenade_http_request_duration_seconds_sum${labelText({ route })} ${h.sum}`,
        `promenade_http_request_duration_seconds_count${labelText({ route })} ${h.count}`,
      );
    }
    out.push(
      "# HELP promenade_workflows Deployed workflows.",
      "# TYPE promenade_workflows gauge",
      `promenade_workflows ${gauges.workflows}`,
    );
    counter("promenade_deploys_total", "Workflow deploys.", this.deploys);
    counter("promenade_runs_started_total", "Runs queued.", this.runsStarted);
    counter(
      "promenade_runs_finished_total",
      "Runs that reached a terminal status.",
      this.runsFinished,
    );
    out.push("# HELP promenade_runs Active runs by status.", "# TYPE promenade_runs gauge");
    for (const [status, n] of Object.entries(gauges.runs)) {
      out.push(`promenade_runs${labelText({ status })} ${n}`);
    }
    counter("promenade_run_events_total", "Run events by channel.", this.runEvents);
    counter("promenade_webhook_requests_total", "Webhook requests.", this.webhookRequests);
    out.push(
      "# HELP promenade_ws_connections Open WebSocket connections.",
      "# TYPE promenade_ws_connections gauge",
      `promenade_ws_connections ${gauges.wsConnections}`,
      "# HELP promenade_ws_subscriptions Active WebSocket subscriptions.",
      "# TYPE promenade_ws_subscriptions gauge",
      `promenade_ws_subscriptions{kind="run"} ${gauges.wsSubscriptions.run}`,
      `promenade_ws_subscriptions{kind="runs"} ${gauges.wsSubscriptions.runs}`,
    );
    out.push(
      "# HELP promenade_ws_frames_sent_total WebSocket frames sent.",
      "# TYPE promenade_ws_frames_sent_total counter",
    );
    for (const [type, n] of this.wsFramesSent) {
      out.push(`promenade_ws_frames_sent_total${labelText({ type })} ${n}`);
    }
    out.push(
      "# HELP promenade_ws_backpressure_pauses_total Subscriptions paused by backpressure.",
      "# TYPE promenade_ws_backpressure_pauses_total counter",
      `promenade_ws_backpressure_pauses_total ${this.wsBackpressurePauses}`,
    );
    counter("promenade_ws_closed_total", "WebSocket connections closed.", this.wsClosed);
    if (gauges.retention !== undefined && gauges.retention !== null) {
      out.push(
        "# HELP promenade_retention_sweeps_total Retention sweeps completed.",
        "# TYPE promenade_retention_sweeps_total counter",
        `promenade_retention_sweeps_total ${gauges.retention.sweeps}`,
        "# HELP promenade_retention_runs_deleted_total Runs deleted by the retention sweep.",
        "# TYPE promenade_retention_runs_deleted_total counter",
        `promenade_retention_runs_deleted_total ${gauges.retention.runsDeleted}`,
      );
      if (gauges.retention.versionsDeleted !== undefined) {
        out.push(
          "# HELP promenade_retention_versions_deleted_total Old workflow versions deleted by the retention sweep.",
          "# TYPE promenade_retention_versions_deleted_total counter",
          `promenade_retention_versions_deleted_total ${gauges.retention.versionsDeleted}`,
        );
      }
    }
    return out.join("\n") + "\n";
  }
}
