/**
 * Network partitions for the binary's tests, with nothing changed in this host's own network
 * namespace: two namespaces of the test's own — the node, where the server under test runs, and
 * the hub — joined by a veth link on a private /30, created from inside them. A relay process in
 * the hub carries connections between the link and Unix sockets (files, reachable from every
 * namespace), and relays in the test process carry them between those sockets and this host's
 * loopback. Taking the hub's end of the link down cuts the node off (its packets are dropped,
 * connections hang as across a real partition) until the link comes back up.
 *
 * Why not a veth end on this host: every address or link that comes and goes here is seen by
 * every other process — a browser of another test file drops its in-flight requests with
 * ERR_NETWORK_CHANGED when an address appears. Needs root (`ip netns`, as in CI).
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { relay } from "./relay.ts";
import type { Endpoint, Relay } from "./relay.ts";

const HUB_ENTRY = fileURLToPath(new URL("./netns-hub.ts", import.meta.url));
const HUB_IP = "10.213.0.1";
const NODE_IP = "10.213.0.2";

let created = 0;

/** A node namespace, its link to the hub, and the relays across. */
export interface Netns {
  /** The node namespace. */
  readonly name: string;
  /** The node's address on the link (where a server in the node listens). */
  readonly nsIp: string;
  /** The argv prefix that runs a command inside the node namespace. */
  readonly exec: readonly string[];
  /** The address at which processes in the node reach `target` (a TCP server of this host). */
  reachHost(target: { host: string; port: number }): Promise<{ host: string; port: number }>;
  /** An `http://127.0.0.1:<port>` base on this host that reaches `base` (a URL in the node). */
  reachNode(base: string): Promise<string>;
  /** Takes the hub's end of the link down: the node is cut off. */
  cut(): void;
  /** Brings the link back up. */
  restore(): void;
  /** Closes the relays and deletes both namespaces (and with them the link). Idempotent. */
  destroy(): Promise<void>;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Creates the namespaces, their link (up) and the hub's relay process. Throws when not root. */
export async function createNetns(): Promise<Netns> {
  created += 1;
  const tag = `${String(process.pid % 100_000)}x${String(created)}`;
  const name = `promenade-${tag}`;
  const hub = `${name}h`;
  const hubDev = `vh${tag}`.slice(0, 15);
  const nodeDev = `vn${tag}`.slice(0, 15);
  const made: string[] = [];
  const sockets = mkdtempSync(join(tmpdir(), "pn-"));
  let hubProcess: ChildProcess | undefined;
  const removeAll = (): void => {
    hubProcess?.kill("SIGKILL");
    for (const namespace of made) ip("netns", "del", namespace);
    rmSync(sockets, { recursive: true, force: true });
  };
  try {
    for (const namespace of [name, hub]) {
      ip("netns", "add", namespace);
      made.push(namespace);
    }
    // Created from inside the hub, its peer placed in the node at once: no interface of the link
    // ever exists in this host's namespace.
    ip("-n", hub, "link", "add", hubDev, "type", "veth", "peer", "name", nodeDev, "netns", name);
    ip("-n", hub, "addr", "add", `${HUB_IP}/30`, "dev", hubDev);
    ip("-n", hub, "link", "set", hubDev, "up");
    ip("-n", hub, "link", "set", "lo", "up");
    ip("-n", name, "addr", "add", `${NODE_IP}/30`, "dev", nodeDev);
    ip("-n", name, "link", "set", nodeDev, "up");
    ip("-n", name, "link", "set", "lo", "up");
    hubProcess = await startHub(hub);
  } catch (error) {
    removeAll();
    throw error;
  }
  const hubRelays = hubClient(hubProcess);
  const local: Relay[] = [];
  let sockCount = 0;
  const socketPath = (): string => join(sockets, `${String((sockCount += 1))}.sock`);
  let destroyed = false;
  return {
    name,
    nsIp: NODE_IP,
    exec: ["ip", "netns", "exec", name],
    reachHost: async (target) => {
      const path = socketPath();
      local.push(await relay({ path }, target));
      const address = await hubRelays({ host: HUB_IP, port: 0 }, { path });
      if (!("port" in address)) throw new Error("the hub relay listens on no port");
      return address;
    },
    reachNode: async (base) => {
      const url = new URL(base);
      const path = socketPath();
      await hubRelays({ path }, { host: url.hostname, port: Number(url.port) });
      const opened = await relay({ host: "127.0.0.1", port: 0 }, { path });
      local.push(opened);
      if (!("port" in opened.address)) throw new Error("the local relay listens on no port");
      return `http://127.0.0.1:${String(opened.address.port)}`;
    },
    cut: () => ip("-n", hub, "link", "set", hubDev, "down"),
    restore: () => ip("-n", hub, "link", "set", hubDev, "up"),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await Promise.all(local.map((opened) => opened.close()));
      removeAll();
    },
  };
}

/** Starts the hub's relay process inside `hub` and waits until it listens for requests. */
function startHub(hub: string): Promise<ChildProcess> {
  const child = spawn("ip", ["netns", "exec", hub, process.execPath, HUB_ENTRY], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "json",
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`the hub relay process exited (code ${String(code)}): ${stderr}`)),
    );
  });
}

/** Asks the hub's relay process to open a relay; resolves with where it listens. */
function hubClient(child: ChildProcess): (listen: Endpoint, target: Endpoint) => Promise<Endpoint> {
  let nextId = 0;
  const waiting = new Map<number, { resolve: (a: Endpoint) => void; reject: (e: Error) => void }>();
  child.on("message", (message: { id?: number; address?: Endpoint; error?: string }) => {
    if (message.id === undefined) return;
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.address !== undefined) waiter?.resolve(message.address);
    else waiter?.reject(new Error(`hub relay: ${String(message.error)}`));
  });
  return (listen, target) =>
    new Promise((resolve, reject) => {
      nextId += 1;
      waiting.set(nextId, { resolve, reject });
      child.send({ id: nextId, listen, target });
    });
}
