/**
 * The `promenade` process: runs `main` on this process's arguments and I/O and exits with its
 * code. `bin/promenade.js` imports this after checking the Node.js version.
 */
import { main } from "./cli.ts";
import { processIo } from "./process-io.ts";

process.exit(await main(process.argv.slice(2), processIo()));
