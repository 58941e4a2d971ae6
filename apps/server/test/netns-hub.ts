/**
 * The process that runs inside a test's hub namespace (see `netns.ts`) and relays there: each IPC
 * message `{ id, listen, target }` opens a relay and is answered `{ id, address }` (or
 * `{ id, error }`). It exits when the test process goes away.
 */
import { relay } from "./relay.ts";
import type { Endpoint } from "./relay.ts";

interface Request {
  id: number;
  listen: Endpoint;
  target: Endpoint;
}

process.on("message", (message: Request) => {
  relay(message.listen, message.target).then(
    (opened) => process.send?.({ id: message.id, address: opened.address }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true });
