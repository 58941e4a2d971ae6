// One shared WebSocket to /api/ws; subscriptions survive reconnects.
import { token } from "./api.js";

const PROTOCOL = "promenade.events.v1";
const connBadge = document.getElementById("conn");

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** What the connection badge means, as its tooltip. */
const CONN_TITLES = {
  idle: "No live updates on this page",
  connected: "Live updates connected",
  "reconnecting…": "Connection lost; reconnecting",
};

/** One shared socket; subscriptions survive reconnects (resubscribed from their last cursor). */
export const live = {
  ws: null,
  subs: new Map(),
  backoffMs: 1000,
  timer: null,
  nextId: 1,
  state: "idle",

  setState(state) {
    this.state = state;
    connBadge.textContent = state;
    connBadge.title = CONN_TITLES[state] ?? "Live connection";
    connBadge.className = `conn ${state.replace("…", "")}`;
    for (const sub of this.subs.values()) sub.onState?.(state);
  },

  connect() {
    if (this.ws) return;
    const protocols = [PROTOCOL];
    const t = token();
    if (t) protocols.push(`promenade.bearer.${base64url(t)}`);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/ws`, protocols);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.backoffMs = 1000;
      this.setState("connected");
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
    });
    ws.addEventListener("message", (e) => this.onFrame(JSON.parse(e.data)));
    ws.addEventListener("close", () => {
      this.ws = null;
      if (this.subs.size === 0) {
        this.setState("idle");
        return;
      }
      this.setState("reconnecting…");
      const delay = Math.min(30000, this.backoffMs) * (0.75 + Math.random() * 0.5);
      this.backoffMs = Math.min(30000, this.backoffMs * 2);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, delay);
    });
  },

  restart() {
    if (this.ws) this.ws.close();
  },

  sendSubscribe(sub) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(sub.message()));
  },

  /** Register a subscription: `message()` builds the (re)subscribe message, `onFrame` gets frames. */
  add(sub) {
    sub.id = `s${this.nextId++}`;
    this.subs.set(sub.id, sub);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.sendSubscribe(sub);
    else this.connect();
    return sub.id;
  },

  remove(id) {
    if (!this.subs.delete(id)) return;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "unsubscribe", sub: id }));
    }
  },

  removeAll() {
    for (const id of [...this.subs.keys()]) this.remove(id);
  },

  onFrame(frame) {
    if (frame.type === "hello" || frame.type === "pong") return;
    const sub = this.subs.get(frame.sub);
    if (!sub) return;
    if (frame.type === "end") this.subs.delete(frame.sub);
    sub.onFrame(frame);
  },
};
