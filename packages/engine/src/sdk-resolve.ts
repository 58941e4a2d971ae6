/**
 * The run process resolves both SDK import names (`@promenade/workflow`, `@boardwalk-labs/workflow`)
 * and the subpaths bundled with its runtime straight to the bundled entries beside it
 * (`dist/run/sdk/`), without walking `node_modules` — for the program and for everything it loads
 * (the agent loop too), so each shares the runtime's one SDK instance. Where Node has no
 * synchronous resolve hooks (before 22.15) the run directory's links lead to the same files.
 */
import module from "node:module";

/**
 * The SDK subpaths compiled into the run process's bundle (with the runtime: one module instance
 * each); the build bundles exactly these. The rest forward to the installed SDK.
 */
export const BUNDLED_SDK_SUBPATHS = [
  "runtime",
  "errors",
  "records",
  "limits",
  "redact",
  "clock",
] as const;

const SDK_SPECIFIER = new RegExp(
  `^@(?:promenade|boardwalk-labs)/workflow(?:/(${BUNDLED_SDK_SUBPATHS.join("|")}))?$`,
);

interface ResolveResult {
  url: string;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: unknown) => ResolveResult;
type RegisterHooks = (hooks: {
  resolve: (specifier: string, context: unknown, next: NextResolve) => ResolveResult;
}) => unknown;

/**
 * Registers the hook; `sdkDir` is the URL of the bundled SDK's folder (ending in `/`). False
 * when this Node has no synchronous hooks (the SDK names then resolve through the run
 * directory's links only).
 */
export function resolveSdkFrom(sdkDir: URL): boolean {
  const register = (module as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof register !== "function") return false;
  register.call(module, {
    resolve(specifier, context, next) {
      const match = SDK_SPECIFIER.exec(specifier);
      if (match === null) return next(specifier, context);
      return { url: new URL(`${match[1] ?? "index"}.js`, sdkDir).href, shortCircuit: true };
    },
  });
  return true;
}
