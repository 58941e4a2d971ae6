/**
 * Network partitions for the binary's tests: a network namespace of the test's own, joined to
 * this (the host) namespace by a veth pair on a private /30, and a TCP relay on the host end of
 * the link to a server that listens on loopback only (the test's PostgreSQL). A process started
 * in the namespace reaches the relay — and through it the server — only over the link; taking the
 * link down cuts it off (its packets are dropped, connections hang as across a real partition)
 * until the link comes back up. Needs root (`ip netns`, as in CI).
 */
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { createConnection, createServer } from "node:net";
import type { Server, Socket } from "node:net";

let created = 0;

/** A namespace, its link, and the relays into it. */
export interface Netns {
  readonly name: string;
  /** This namespace's address on the link (where the namespace reaches the host). */
  readonly hostIp: string;
  /** The namespace's address on the link. */
  readonly nsIp: string;
  /** The argv prefix that runs a command inside the namespace. */
  readonly exec: readonly string[];
  /**
   * Relays `hostIp:<returned port>` to `target` on this namespace's loopback: how a process in
   * the namespace reaches a loopback-only server.
   */
  relay(target: { host: string; port: number }): Promise<number>;
  /** Takes the host end of the link down: the namespace is cut off. */
  cut(): void;
  /** Brings the link back up. */
  restore(): void;
  /** Closes the relays and deletes the namespace (and with it the link). Idempotent. */
  destroy(): Promise<void>;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Creates a namespace and its link, both up. Throws when `ip netns` is not allowed (not root). */
export function createNetns(): Netns {
  created += 1;
  const tag = `${String(process.pid % 100_000)}x${String(created)}`;
  const name = `promenade-${tag}`;
  const hostDev = `vh${tag}`.slice(0, 15);
  const nsDev = `vn${tag}`.slice(0, 15);
  // A /30 in 10.213.0.0/16 picked at random, so namespaces of parallel test files do not clash.
  const block = randomInt(0, 16_384) * 4;
  const third = Math.floor(block / 256);
  const fourth = block % 256;
  const hostIp = `10.213.${String(third)}.${String(fourth + 1)}`;
  const nsIp = `10.213.${String(third)}.${String(fourth + 2)}`;
  ip("netns", "add", name);
  try {
    ip("link", "add", hostDev, "type", "veth", "peer", "name", nsDev);
    ip("link", "set", nsDev, "netns", name);
    ip("addr", "add", `${hostIp}/30`, "dev", hostDev);
    ip("link", "set", hostDev, "up");
    ip("-n", name, "addr", "add", `${nsIp}/30`, "dev", nsDev);
    ip("-n", name, "link", "set", nsDev, "up");
    ip("-n", name, "link", "set", "lo", "up");
  } catch (error) {
    ip("netns", "del", name);
    throw error;
  }
  const relays: Server[] = [];
  const sockets = new Set<Socket>();
  let destroyed = false;
  return {
    name,
    hostIp,
    nsIp,
    exec: ["ip", "netns", "exec", name],
    relay: (target) =>
      new Promise<number>((resolve, reject) => {
        const server = createServer((inbound) => {
          const outbound = createConnection(target);
          sockets.add(inbound);
          sockets.add(outbound);
          const drop = (): void => {
            inbound.destroy();
            outbound.destroy();
            sockets.delete(inbound);
            sockets.delete(outbound);
          };
          inbound.on("error", drop).on("close", drop);
          outbound.on("error", drop).on("close", drop);
          inbound.pipe(outbound);
          outbound.pipe(inbound);
        });
        relays.push(server);
        server.once("error", reject);
        server.listen(0, hostIp, () => {
          const address = server.address();
          if (address === null || typeof address === "string") reject(new Error("no port"));
          else resolve(address.port);
        });
      }),
    cut: () => ip("link", "set", hostDev, "down"),
    restore: () => ip("link", "set", hostDev, "up"),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        relays.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
      ip("netns", "del", name);
    },
  };
}
