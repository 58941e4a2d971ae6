/**
 * The SDK as run processes load it: every subpath the run-process entry bundles, re-exported from
 * the entry itself, so the runtime and the program share one SDK instance loaded from one file.
 * `dist/run/sdk/<subpath>.js` (written by the build) re-export each subpath's own names from it.
 * No two subpaths export different values under one name (the build checks).
 */
export * from "@promenade/workflow";
export * from "@promenade/workflow/runtime";
export * from "@promenade/workflow/errors";
export * from "@promenade/workflow/records";
export * from "@promenade/workflow/limits";
export * from "@promenade/workflow/redact";
export * from "@promenade/workflow/clock";
