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

/** Samples the RSS of this process's tree every `intervalMs` until stopped; returns the peak KiB. */
export function sampleTreePeak(intervalMs = 25): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    const total = processTree(process.pid).reduce((sum, pid) => sum + rssKiB(pid), 0);
    if (total > peak) peak = total;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
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
