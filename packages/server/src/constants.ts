/**
 * The server's numeric limits and protocol names: the single source of truth, so
 * the routes, the WebSocket channel, the tests and the README never disagree.
 */

/** JSON API and webhook body limit, bytes. */
export const MAX_BODY_BYTES = 1_048_576;
/** `POST /api/workflows` body limit, bytes. */
export const MAX_DEPLOY_BODY_BYTES = 10_485_760;
/**
 * After a body passes its limit, the rest of the upload is read and discarded before the 413 is
 * sent, so closing the connection cannot reset it while the client is still sending: at most
 * this many further bytes, bytes…
 */
export const OVERSIZE_DRAIN_MAX_BYTES = 8_388_608;
/** …for at most this long, ms. Past either bound the 413 goes out at once. */
export const OVERSIZE_DRAIN_MAX_MS = 5000;
/** How long a connection answered for an HTTP parser error keeps being read before it is closed, ms. */
export const CLIENT_ERROR_LINGER_MS = 2000;
/**
 * Timestamped webhook deliveries remembered at once, server-wide (each for its tolerance window);
 * when full, the oldest is forgotten first.
 */
export const WEBHOOK_REPLAY_CACHE_MAX = 100_000;
/** Default and maximum `limit` of `GET /api/runs`. */
export const RUNS_DEFAULT_LIMIT = 100;
export const RUNS_MAX_LIMIT = 500;
/** Default and maximum `limit` of `GET /api/runs/:id/events`; rows scanned per request. */
export const EVENTS_DEFAULT_LIMIT = 1000;
export const EVENTS_MAX_LIMIT = 5000;
export const EVENTS_MAX_SCAN = 10_000;
/** Largest inbound WebSocket message, bytes (close 1009 above). */
export const WS_MAX_MESSAGE_BYTES = 65_536;
/** Subscriptions per socket (run + feed). */
export const WS_MAX_SUBSCRIPTIONS = 32;
/** Open WebSocket connections, server-wide. */
export const WS_MAX_CONNECTIONS = 1000;
/** Protocol ping interval, ms. */
export const WS_HEARTBEAT_MS = 30_000;
/** Backpressure high / low water on `bufferedAmount`, bytes. */
export const WS_HIGH_WATER = 1_048_576;
export const WS_LOW_WATER = 262_144;
/** Stored rows per catch-up read. */
export const WS_PAGE = 256;
/** Catch-up pump cadence while a subscription is behind, ms. */
export const WS_PUMP_INTERVAL_MS = 100;
/** A socket above high water this long is closed 4008, ms. */
export const WS_SLOW_CONSUMER_MS = 60_000;
/** Most runs listed in a `runs_snapshot`. */
export const WS_FEED_SNAPSHOT_MAX = 1000;
/** `/healthz` reports the database unavailable when its ping has not answered within this, ms. */
export const HEALTHZ_PING_TIMEOUT_MS = 2000;
/** Minimum `PROMENADE_API_TOKEN` length. */
export const API_TOKEN_MIN_LENGTH = 32;
/** Shutdown windows, ms. */
export const SHUTDOWN_HTTP_GRACE_MS = 5000;
export const SHUTDOWN_CHILD_GRACE_MS = 5000;
export const SHUTDOWN_DEADLINE_MS = 15_000;
/** Default bind. */
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "127.0.0.1";
/** The WebSocket subprotocol and the browser bearer-token subprotocol prefix. */
export const WS_PROTOCOL = "promenade.events.v1";
export const WS_BEARER_PREFIX = "promenade.bearer.";
