/**
 * The partition tests' namespaces must leave this host's own network as it was: a browser driven
 * by another test file, running at the same time, drops its in-flight requests
 * (ERR_NETWORK_CHANGED) whenever an interface or address comes or goes here.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createNetns } from "./netns.ts";

function hostNetwork(): string {
  return ["link", "addr"]
    .map((what) => execFileSync("ip", ["-o", what, "show"], { encoding: "utf8" }))
    .join("");
}

describe("a test's network namespaces", () => {
  it("relay both ways over their link, cut and restore it, and never touch this host's network", async () => {
    const before = hostNetwork();
    const netns = await createNetns();
    try {
      expect(hostNetwork()).toBe(before);
      // A server on this host, reached from inside the node over the link.
      const server = createServer((_req, res) => res.end("from the host"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      const viaLink = await netns.reachHost({ host: "127.0.0.1", port });
      // (Asynchronously: the relays on this side run on this process's event loop.)
      const { stdout } = await promisify(execFile)(
        netns.exec[0]!,
        [
          ...netns.exec.slice(1),
          process.execPath,
          "-e",
          `fetch("http://${viaLink.host}:${String(viaLink.port)}/").then(async (r) => process.stdout.write(await r.text()))`,
        ],
        { encoding: "utf8" },
      );
      expect(stdout).toBe("from the host");
      // A server in the node, reached from this host over the link.
      const inNode = spawn(
        netns.exec[0]!,
        [
          ...netns.exec.slice(1),
          process.execPath,
          "-e",
          `const s = require("node:http").createServer((q, r) => r.end("from the node"));
           s.listen(0, "${netns.nsIp}", () => console.log(s.address().port));`,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      try {
        const nodePort = await new Promise<string>((resolve) =>
          inNode.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())),
        );
        const base = await netns.reachNode(`http://${netns.nsIp}:${nodePort}`);
        expect(await (await fetch(`${base}/`)).text()).toBe("from the node");
      } finally {
        inNode.kill();
      }
      netns.cut();
      expect(hostNetwork()).toBe(before);
      netns.restore();
      server.close();
    } finally {
      await netns.destroy();
    }
    expect(hostNetwork()).toBe(before);
  });
});
