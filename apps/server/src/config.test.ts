/**
 * `PROMENADE_*` parsing. If this breaks, a typo in the environment boots a server with
 * surprising settings, or an error message leaks a value.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BootError, parseConfig, parseDotenv } from "./config.ts";

const cwd = "/srv/app";

function errorOf(env: Record<string, string>): BootError {
  try {
    parseConfig(env, cwd);
  } catch (err) {
    if (err instanceof BootError) return err;
    throw err;
  }
  throw new Error("expected a BootError");
}

describe("PROMENADE_RATES_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "promenade-rates-"));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("reads an operator rate table into inference.rate_table, relative to the working dir", () => {
    const table = {
      version: "acme-7",
      models: [
        {
          match: "llama",
          in_usd_per_mtok: 0.1,
          out_usd_per_mtok: 0.2,
          cache_read_usd_per_mtok: 0.01,
        },
      ],
    };
    file("good.json", JSON.stringify(table));
    const c = parseConfig({ PROMENADE_RATES_FILE: "good.json" }, dir);
    expect(c.inference.rate_table).toEqual(table);
  });

  it("names the file and the bad row in every error", () => {
    const cases: [string, string, string][] = [
      [
        "missing.json",
        "",
        `PROMENADE_RATES_FILE points at ${join(dir, "missing.json")}, which cannot be read (ENOENT).`,
      ],
      ["broken.json", "{", `PROMENADE_RATES_FILE: ${join(dir, "broken.json")} is not valid JSON`],
      [
        "noversion.json",
        JSON.stringify({ models: [] }),
        `PROMENADE_RATES_FILE: ${join(dir, "noversion.json")}: "version" must be a non-empty string`,
      ],
      [
        "badrow.json",
        JSON.stringify({
          version: "1",
          models: [
            { match: "ok", in_usd_per_mtok: 1, out_usd_per_mtok: 1 },
            { match: "llama", in_usd_per_mtok: -2, out_usd_per_mtok: 1 },
          ],
        }),
        `PROMENADE_RATES_FILE: ${join(dir, "badrow.json")}: models[1] (match "llama").in_usd_per_mtok must be a non-negative number.`,
      ],
    ];
    for (const [name, text, message] of cases) {
      if (text !== "") file(name, text);
      const err = errorOf({ PROMENADE_RATES_FILE: join(dir, name) });
      expect(err.message.startsWith(message)).toBe(true);
      expect(err.hint).toBeTruthy();
    }
  });

  it("accepts cache rates in PROMENADE_RATES and rejects unknown keys", () => {
    const c = parseConfig(
      {
        PROMENADE_RATES: JSON.stringify([
          { match: "x", in_usd_per_mtok: 1, out_usd_per_mtok: 2, cache_write_usd_per_mtok: 1.25 },
        ]),
      },
      cwd,
    );
    expect(c.inference.rates?.[0]).toMatchObject({ cache_write_usd_per_mtok: 1.25 });
    expect(
      errorOf({
        PROMENADE_RATES: JSON.stringify([
          { match: "x", in_usd_per_mtok: 1, out_usd_per_mtok: 2, per_call: 1 },
        ]),
      }).message,
    ).toContain("PROMENADE_RATES: [0] must be");
  });
});

describe("parseConfig", () => {
  it("applies the defaults on an empty environment", () => {
    const c = parseConfig({}, cwd);
    expect(c).toMatchObject({
      dataDir: "/srv/app/promenade-data",
      workDir: "/srv/app/promenade-data",
      databaseUrl: undefined,
      workflowsDir: "/srv/app/promenade-data/workflows",
      workflowsDirExplicit: false,
      host: "127.0.0.1",
      port: 8080,
      apiToken: undefined,
      deployApi: true,
      envFile: null,
      inference: {},
      notices: [],
    });
  });

  it("treats empty strings as unset and honours legacy names with a notice", () => {
    const c = parseConfig(
      { PROMENADE_PORT: "", BOARDWALK_PORT: "0", BOARDWALK_DATA_DIR: "d" },
      cwd,
    );
    expect(c.port).toBe(0);
    expect(c.dataDir).toBe("/srv/app/d");
    expect(c.notices).toEqual([
      "config: using legacy BOARDWALK_DATA_DIR (set PROMENADE_DATA_DIR instead)",
      "config: using legacy BOARDWALK_PORT (set PROMENADE_PORT instead)",
    ]);
    expect(parseConfig({ PROMENADE_PORT: "1", BOARDWALK_PORT: "2" }, cwd).port).toBe(1);
  });

  it("takes PROMENADE_RETENTION as written and refuses a bad policy naming the variable and an example", () => {
    expect(parseConfig({}, cwd).retention).toBeUndefined();
    expect(parseConfig({ PROMENADE_RETENTION: "30d, last 1000" }, cwd).retention).toBe(
      "30d, last 1000",
    );
    const err = errorOf({ PROMENADE_RETENTION: "30 days" });
    expect(err.message).toContain('PROMENADE_RETENTION "30 days" is not a retention policy');
    expect(err.hint).toContain('"30d"');
  });

  it("rejects bad ports naming the variable and the raw value", () => {
    for (const raw of ["abc", "-1", "65536", "8080.5"]) {
      const err = errorOf({ PROMENADE_PORT: raw });
      expect(err.message).toBe(
        `PROMENADE_PORT must be an integer between 0 and 65535, got "${raw}".`,
      );
      expect(err.hint).toContain("8080");
    }
  });

  it("refuses a non-loopback bind without a token and short tokens", () => {
    expect(errorOf({ PROMENADE_HOST: "0.0.0.0" }).message).toContain("without PROMENADE_API_TOKEN");
    expect(errorOf({ PROMENADE_API_TOKEN: "x".repeat(31) }).message).toBe(
      "PROMENADE_API_TOKEN must be at least 32 characters.",
    );
    expect(
      parseConfig({ PROMENADE_HOST: "0.0.0.0", PROMENADE_API_TOKEN: "y".repeat(32) }, cwd).host,
    ).toBe("0.0.0.0");
  });

  it("validates the provider table by JSON path without echoing values", () => {
    expect(errorOf({ PROMENADE_PROVIDERS: "{nope" }).message).toContain("PROMENADE_PROVIDERS");
    expect(errorOf({ PROMENADE_PROVIDERS: "{nope" }).message).not.toContain("nope");
    expect(errorOf({ PROMENADE_PROVIDERS: "[1,2]" }).message).toBe(
      "PROMENADE_PROVIDERS must be an object of named provider configs.",
    );
    const missing = errorOf({ PROMENADE_PROVIDERS: '{"groq":{"api_key_env":"SECRET_NAME_X"}}' });
    expect(missing.message).toContain("PROMENADE_PROVIDERS.groq.base_url");
    const unknown = errorOf({
      PROMENADE_PROVIDERS: '{"x":{"base_url":"http://h","color":"sekrit-value"}}',
    });
    expect(unknown.message).toContain('PROMENADE_PROVIDERS.x has an unknown key "color"');
    expect(unknown.message).not.toContain("sekrit-value");
    const badUrl = errorOf({
      PROMENADE_PROVIDERS: '{"x":{"base_url":"sekrit-host/v1"}}',
    });
    expect(badUrl.message).toBe("PROMENADE_PROVIDERS.x.base_url must be an absolute URL.");
    const ok = parseConfig(
      {
        PROMENADE_PROVIDERS:
          '{"local":{"base_url":"http://127.0.0.1:11434/v1","protocol":"openai"}}',
      },
      cwd,
    );
    expect(ok.inference.providers).toEqual({
      local: { base_url: "http://127.0.0.1:11434/v1", protocol: "openai" },
    });
  });

  it("accepts every protocol the agent supports, gemini included, as the engine does", () => {
    const providers = {
      gem: { base_url: "https://generativelanguage.googleapis.com", protocol: "gemini" },
      claude: { base_url: "https://api.anthropic.com", protocol: "anthropic" },
    };
    const config = parseConfig({ PROMENADE_PROVIDERS: JSON.stringify(providers) }, cwd);
    expect(config.inference.providers).toEqual(providers);
  });

  it("refuses an unknown protocol with a message naming the entry and the accepted values", () => {
    const err = errorOf({
      PROMENADE_PROVIDERS: '{"grpc-box":{"base_url":"http://h","protocol":"grpc"}}',
    });
    expect(err.message).toBe(
      'PROMENADE_PROVIDERS.grpc-box.protocol must be "openai", "anthropic" or "gemini".',
    );
    expect(err.hint).toContain("base_url");
  });

  it("requires an explicit env file to exist and picks <data-dir>/.env by default", () => {
    expect(errorOf({ PROMENADE_ENV_FILE: "/nope/.env" }).message).toContain("PROMENADE_ENV_FILE");
    const dir = mkdtempSync(join(tmpdir(), "promenade-config-"));
    writeFileSync(join(dir, ".env"), "A=1\n");
    expect(parseConfig({ PROMENADE_DATA_DIR: dir }, cwd).envFile).toBe(join(dir, ".env"));
  });

  it("takes a postgres:// database URL and refuses any other scheme on one line, without echoing it", () => {
    const url = "postgresql://promenade:s3cret@db.internal:5432/promenade";
    expect(parseConfig({ PROMENADE_DATABASE_URL: url }, cwd).databaseUrl).toBe(url);
    expect(parseConfig({ PROMENADE_DATABASE_URL: "" }, cwd).databaseUrl).toBeUndefined();
    const err = errorOf({ PROMENADE_DATABASE_URL: "mysql://root:s3cret@db/x" });
    expect(err.message).toContain("PROMENADE_DATABASE_URL must start with postgres://");
    expect(err.message).toContain("unset it to keep SQLite");
    expect(err.message).not.toContain("s3cret");
    expect(err.message).not.toContain("\n");
    expect(err.hint).toBeUndefined();
  });

  it("reads cluster mode: PostgreSQL only, node id, lease and drain grace with their floors", () => {
    const url = "postgres://promenade:pw@db:5432/promenade";
    expect(parseConfig({ PROMENADE_DATABASE_URL: url }, cwd).cluster).toBeNull();
    expect(
      parseConfig({ PROMENADE_DATABASE_URL: url, PROMENADE_CLUSTER: "1" }, cwd).cluster,
    ).toEqual({ nodeId: undefined, leaseMs: 30_000, drainGraceMs: 30_000 });
    expect(
      parseConfig(
        {
          PROMENADE_DATABASE_URL: url,
          PROMENADE_CLUSTER: "true",
          PROMENADE_NODE_ID: "web-1",
          PROMENADE_LEASE_MS: "2000",
          PROMENADE_DRAIN_GRACE_MS: "0",
        },
        cwd,
      ).cluster,
    ).toEqual({ nodeId: "web-1", leaseMs: 2000, drainGraceMs: 0 });
    expect(errorOf({ PROMENADE_CLUSTER: "1" }).message).toContain(
      "PROMENADE_CLUSTER=1 needs PostgreSQL",
    );
    expect(errorOf({ PROMENADE_CLUSTER: "yes" }).message).toContain(
      "PROMENADE_CLUSTER must be 1, 0, true or false",
    );
    expect(
      errorOf({ PROMENADE_DATABASE_URL: url, PROMENADE_CLUSTER: "1", PROMENADE_LEASE_MS: "999" })
        .message,
    ).toContain("PROMENADE_LEASE_MS must be an integer of at least 1000");
  });

  it("parses the agent built-in tools ceiling", () => {
    expect(parseConfig({}, cwd).agentBuiltins).toBe("all");
    expect(parseConfig({ PROMENADE_AGENT_BUILTINS: "read-only" }, cwd).agentBuiltins).toBe(
      "read-only",
    );
    expect(parseConfig({ PROMENADE_AGENT_BUILTINS: "none" }, cwd).agentBuiltins).toBe("none");
    expect(errorOf({ PROMENADE_AGENT_BUILTINS: "some" }).message).toContain(
      "PROMENADE_AGENT_BUILTINS",
    );
  });

  it("parses the workflows-dir watch switch (off by default)", () => {
    expect(parseConfig({}, cwd).watch).toBe(false);
    expect(parseConfig({ PROMENADE_WATCH: "1" }, cwd).watch).toBe(true);
    expect(parseConfig({ PROMENADE_WATCH: "false" }, cwd).watch).toBe(false);
    expect(errorOf({ PROMENADE_WATCH: "yes" }).message).toContain("PROMENADE_WATCH");
  });

  it("parses the web search backend URL", () => {
    expect(parseConfig({}, cwd).webSearchUrl).toBeUndefined();
    expect(
      parseConfig({ PROMENADE_WEB_SEARCH_URL: "http://127.0.0.1:9/search" }, cwd).webSearchUrl,
    ).toBe("http://127.0.0.1:9/search");
    expect(errorOf({ PROMENADE_WEB_SEARCH_URL: "ftp://x" }).message).toContain(
      "PROMENADE_WEB_SEARCH_URL",
    );
  });

  it("parses deploy switch and allowed origins", () => {
    expect(parseConfig({ PROMENADE_API_DEPLOY: "0" }, cwd).deployApi).toBe(false);
    expect(errorOf({ PROMENADE_API_DEPLOY: "maybe" }).message).toContain("PROMENADE_API_DEPLOY");
    expect(
      parseConfig({ PROMENADE_ALLOWED_ORIGINS: "https://a.example, http://b.example:8080" }, cwd)
        .allowedOrigins,
    ).toEqual(["https://a.example", "http://b.example:8080"]);
    expect(errorOf({ PROMENADE_ALLOWED_ORIGINS: "https://a.example/path" }).message).toContain(
      "malformed",
    );
  });
});

describe("parseDotenv", () => {
  it("reads KEY=value lines with comments, export and quotes", () => {
    expect(
      parseDotenv("# c\nexport A=1\nB=\"two words\"\nC='x#y'\nD=v # trailing\n\nbad line\n"),
    ).toEqual({
      A: "1",
      B: "two words",
      C: "x#y",
      D: "v",
    });
  });
});
