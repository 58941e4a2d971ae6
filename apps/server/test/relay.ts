/**
 * A byte relay for the network-partition tests: it listens on one endpoint (TCP or a Unix socket)
 * and pipes every connection to a new connection to a target endpoint. Unix sockets are files,
 * so they are reached from any network namespace: that is how the tests cross from this host's
 * namespace into a test's namespaces without adding a network interface or an address here.
 */
import { createConnection, createServer } from "node:net";
import type { Socket } from "node:net";

/** A TCP address, or the path of a Unix socket. */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

/** A listening relay. */
export interface Relay {
  /** Where it listens (a TCP port of 0 resolved to the one given). */
  readonly address: Endpoint;
  /** Stops listening and destroys every relayed connection. */
  close(): Promise<void>;
}

/** Listens on `listen`; each connection is piped both ways to a new connection to `target`. */
export function relay(listen: Endpoint, target: Endpoint): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = "path" in target ? createConnection(target.path) : createConnection(target);
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
  return new Promise<Relay>((resolve, reject) => {
    server.once("error", reject);
    const listening = (): void => {
      const bound = server.address();
      const address: Endpoint =
        bound !== null && typeof bound === "object"
          ? { host: bound.address, port: bound.port }
          : { path: "path" in listen ? listen.path : String(bound) };
      resolve({
        address,
        close: () => {
          for (const socket of sockets) socket.destroy();
          return new Promise<void>((done) => server.close(() => done()));
        },
      });
    };
    if ("path" in listen) server.listen(listen.path, listening);
    else server.listen(listen.port, listen.host, listening);
  });
}
