/**
 * The `promenade-server` process, an alias of `promenade server` configured by `PROMENADE_*`
 * variables only (for Docker images and process managers): `--help` and `--version` print and
 * exit, any other argument is a usage error (exit 2). `bin/promenade-server.js` imports this
 * after checking the Node.js version.
 */
import { startServer } from "./commands/server.ts";
import { processIo } from "./process-io.ts";

const io = processIo();
await startServer(io, { ...io.env }, process.argv.slice(2));
