/**
 * `promenade-server` as a module (private): the boot sequence, configuration parsing and the
 * engine adapter, exported for the binary's own tests. The executable is `main.ts`.
 */
export { boot, VERSION } from "./boot.ts";
export type { BootIo, Booted } from "./boot.ts";
export { BootError, HELP, parseConfig, parseDotenv } from "./config.ts";
export type { ServerConfig } from "./config.ts";
export { engineApi } from "./adapter.ts";
