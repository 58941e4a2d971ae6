/**
 * The dispatcher's contract with the shell: help and version on stdout with exit 0, every
 * command-line mistake on stderr as `promenade <command>: <problem>` plus a hint with exit 2,
 * and no stack traces for expected failures. If this breaks, scripts cannot tell a typo from a
 * failed run.
 */
import { describe, expect, it } from "vitest";
import { fakeIo } from "../test/fake-io.ts";
import { COMMANDS, main } from "./cli.ts";

describe("main", () => {
  it("prints the command list for --help (exit 0) and for no command (exit 2)", async () => {
    const io = fakeIo();
    expect(await main(["--help"], io)).toBe(0);
    for (const command of COMMANDS) expect(io.out()).toContain(`  ${command.spec.name} `);
    const bare = fakeIo();
    expect(await main([], bare)).toBe(2);
    expect(bare.err()).toContain("Usage: promenade <command> [options]");
  });

  it("prints each command's help with --help and with `help <command>`", async () => {
    for (const command of COMMANDS) {
      const io = fakeIo();
      expect(await main([command.spec.name, "--help"], io)).toBe(0);
      expect(io.out()).toContain(`Usage: promenade ${command.spec.name}`);
      const viaHelp = fakeIo();
      expect(await main(["help", command.spec.name], viaHelp)).toBe(0);
      expect(viaHelp.out()).toBe(io.out());
    }
  });

  it("prints the version", async () => {
    const io = fakeIo();
    expect(await main(["--version"], io)).toBe(0);
    expect(io.out()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [["deploi"], 'promenade: unknown command "deploi".'],
    [["runs", "--bogus"], "promenade runs: unknown option --bogus."],
    [["runs", "--status", "done"], 'promenade runs: unknown status "done".'],
    [["logs"], "promenade logs: missing <run>."],
    [["logs", "R", "--channels", "logs"], 'promenade logs: unknown channel "logs".'],
    [["run", "hello", "--input", "{nope"], "promenade run: --input is not valid JSON: "],
    [["run", "hello", "--data-dir", "x"], "promenade run: --data-dir applies to running a file"],
    [
      ["run", "hello.ts", "--url", "http://h"],
      "promenade run: --url applies to running a deployed",
    ],
    [["run", "no such file.ts"], "promenade run: no such file.ts is not a file."],
    [["run", "bad slug!"], 'promenade run: "bad slug!" is neither a workflow file nor a slug.'],
    [
      ["runs", "--url", "ftp://x"],
      'promenade runs: --url must be an http:// or https:// URL, got "ftp://x".',
    ],
    [
      ["server", "--port", "99999"],
      "promenade server: --port must be a whole number from 0 to 65535",
    ],
    [["deploy", "missing.ts"], "promenade deploy: missing.ts does not exist."],
    [["respond", "R"], "promenade respond: missing <key>."],
    [["respond", "R", "approve"], "promenade respond: missing --value."],
    [["respond", "R", "approve", "--value"], "promenade respond: --value needs a value."],
    [["inputs", "R"], 'promenade inputs: unexpected argument "R".'],
  ])("exits 2 for %j with the problem and a hint", async (argv, message) => {
    const io = fakeIo();
    expect(await main(argv, io)).toBe(2);
    expect(io.err()).toContain(message);
    expect(io.err()).toContain("\n  hint: ");
    expect(io.err()).not.toContain("    at ");
    expect(io.out()).toBe("");
  });
});
