/**
 * Secret resolution and the run-process environment. Allow-list first, then the
 * engine `env` map, then `processEnv`; an empty value counts as missing. Messages and hints name
 * the secret and where to set it, never its value.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { WorkflowRow } from "../ports.ts";
import { manifestOf } from "./manifest.ts";

const SECRET_REF = /^\$\{\{\s*secrets\.([A-Za-z0-9_-]+)\s*\}\}$/;

/** Where secret values come from. */
export interface SecretSource {
  env: ReadonlyMap<string, string>;
  processEnv: Readonly<Record<string, string | undefined>>;
  envLabel: string;
}

/** Names in `manifest.permissions.secrets`. */
export function allowedSecrets(workflow: WorkflowRow): ReadonlySet<string> {
  const list = manifestOf(workflow).permissions?.secrets ?? [];
  return new Set(list.map((s) => s.name));
}

/** Resolves one secret: `SECRET_UNDECLARED` / `SECRET_MISSING` with a hint, else its value. */
export function resolveSecret(name: string, workflow: WorkflowRow, source: SecretSource): string {
  if (!allowedSecrets(workflow).has(name)) {
    throw new EngineError(
      "SECRET_UNDECLARED",
      `Secret "${name}" is not declared in meta.permissions.secrets.`,
      `Add { name: "${name}" } to meta.permissions.secrets.`,
    );
  }
  const value = source.env.get(name) ?? source.processEnv[name];
  if (value === undefined || value === "") {
    throw new EngineError(
      "SECRET_MISSING",
      `Secret "${name}" has no value on this engine.`,
      `Set ${name}=… in ${source.envLabel}.`,
    );
  }
  return value;
}

/** The run process environment plus which variables were filled from secrets. */
export interface ChildEnvironment {
  env: Record<string, string>;
  /** env var → secret name */
  envSecrets: Record<string, string>;
  /** secret value → secret name (for parent-side redaction) */
  secretValues: Map<string, string>;
}

/**
 * `processEnv` (defined values) overlaid with `manifest.env`; whole-value `${{ secrets.NAME }}`
 * references are resolved like `secrets.get`. Throws the `SECRET_*` error of the first bad one.
 */
export function buildChildEnv(workflow: WorkflowRow, source: SecretSource): ChildEnvironment {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source.processEnv)) {
    if (typeof value === "string") env[key] = value;
  }
  const envSecrets: Record<string, string> = {};
  const secretValues = new Map<string, string>();
  for (const [key, value] of Object.entries(manifestOf(workflow).env ?? {})) {
    const match = SECRET_REF.exec(value);
    if (match?.[1] === undefined) {
      env[key] = value;
      continue;
    }
    const secretName = match[1];
    const secret = resolveSecret(secretName, workflow, source);
    env[key] = secret;
    envSecrets[key] = secretName;
    secretValues.set(secret, secretName);
  }
  return { env, envSecrets, secretValues };
}
