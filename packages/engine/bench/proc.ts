/**
 * Process-tree memory readings from /proc (Linux): resident set of a process tree, and the
 * private memory of one process (smaps_rollup Private_Clean + Private_Dirty).
 */
import { readdirSync, readFileSync } from "node:fs";

/** Direct children of `pid` (from /proc/<pid>/task/<tid>/children; [] if gone). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (text.length > 0) out.push(...text.split(" ").map(Number));
    } catch {
      // The thread exited between readdir and read.
    }
  }
  return out;
}

/** `root` and all its descendants (walks only this tree, never all of /proc). */
export function processTree(root: number): number[] {
  const tree = [root];
  for (let index = 0; index < tree.length; index += 1) tree.push(...childrenOf(tree[index]!));
  return tree;
}

/** Resident set size of one process in KiB (0 if gone). */
export function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+)/.exec(status);
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Private (clean + dirty) memory of one process in KiB. */
export function privateKiB(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  let total = 0;
  for (const key of ["Private_Clean", "Private_Dirty"]) {
    const match = new RegExp(`${key}:\\s+(\\d+)`).exec(rollup);
    if (match !== null) total += Number(match[1]);
  }
  return total;
}

/** The command line of a process ("" if gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** Proportional set size of one process in KiB: shared pages split among their sharers (0 if gone). */
export function pssKiB(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/**
 * Samples this process's tree until stopped: the RSS sum every `intervalMs` (it counts the pages
 * processes share — the Node binary, V8's builtins — once per process), and with `pss` the PSS
 * sum (what the tree takes from the machine) every fourth time, its reading being dearer (it
 * costs this process CPU: leave it off where that is measured). Returns the peaks in KiB (PSS 0
 * when off).
 */
export function sampleTreePeak(
  options: { pss?: boolean } = {},
  intervalMs = 25,
): { stop(): { rss: number; pss: number } } {
  let rss = 0;
  let pss = 0;
  let count = 0;
  const sample = (): void => {
    const tree = processTree(process.pid);
    const sum = (read: (pid: number) => number): number =>
      tree.reduce((total, pid) => total + read(pid), 0);
    rss = Math.max(rss, sum(rssKiB));
    if (options.pss === true && count++ % 4 === 0) pss = Math.max(pss, sum(pssKiB));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      count = 0;
      sample();
      return { rss, pss };
    },
  };
}

/**
 * CPU time (user + system, ms) of the processes of this process's tree that have been reaped:
 * each live process's reaped children (cutime + cstime, proc(5)). Run processes are children of
 * the engine's spawner, which reaps them, so the spawner's count is included.
 */
export function reapedChildrenCpuMs(): number {
  let ticks = 0;
  for (const pid of processTree(process.pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // Fields 16 and 17 (cutime, cstime), in clock ticks (100 Hz on Linux).
      ticks += Number(fields[13]) + Number(fields[14]);
    } catch {
      // Exited meanwhile: its own parent has counted it.
    }
  }
  return ticks * 10;
}
