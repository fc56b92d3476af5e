/**
 * `rcontainer bench kernel`: host speed of the simulated kernel under each design (DESIGN.md §6:
 * the simulator's own speed is measured apart from simulated time).
 *
 * - nullSyscallHostNs: host ns per system call of a tight getppid loop (the `bench-null` program
 *   below, the equivalent of lmbench's C loop) run as the init of a container, boot excluded: the
 *   whole path — the program's SVC, the exception, the con-shim (rcontainer), the kernel's dispatch
 *   and the return to EL0. (`lmbench null` measures the same call through the libc's generators,
 *   which add host time but no simulated time.)
 * - ctxSwitchHostNs: host ns per context switch of `lmbench ctx` (two processes passing a token
 *   through pipes on one PE: every hand-over blocks one and schedules the other).
 * - hackbenchHostSeconds: host seconds of a default `hackbench` run (10 groups, 20 fds, 100 loops,
 *   sockets, processes) in a container, boot excluded.
 * The simulated figures of the same runs are reported beside them (nullSyscallSimNs ...).
 */
import { SimSystem, type DesignName } from '../../designs/system.js';
import { Sys } from '../../kernel/uapi/syscalls.js';
import type { ProgramMain } from '../../user/program.js';

/** `bench-null N`: N getppid system calls, nothing else (argv[1] read from user memory). */
const benchNull: ProgramMain = function* (cpu, argc, argv) {
  let count = 0;
  if (argc > 1) {
    const text = cpu.readBytes(cpu.load64(argv + 8), 16);
    const end = text.indexOf(0);
    count = Number(new TextDecoder().decode(text.subarray(0, end < 0 ? 16 : end)));
  }
  const request = { nr: Sys.getppid, args: [0, 0, 0, 0, 0, 0] };
  for (let i = 0; i < count; i++) yield request;
  return 0;
};

/** A result per design. */
export type PerDesign = Readonly<Record<DesignName, number>>;

/** Results of the kernel benchmark. */
export interface KernelBenchResult {
  nullSyscallHostNs: PerDesign;
  ctxSwitchHostNs: PerDesign;
  hackbenchHostSeconds: PerDesign;
  nullSyscallSimNs: PerDesign;
  ctxSwitchSimNs: PerDesign;
  hackbenchSimSeconds: PerDesign;
  /** Host milliseconds to boot a system (machine, firmware, mini-OS, kernel, file system). */
  bootHostMs: PerDesign;
}

/** Options of the benchmark. */
export interface KernelBenchOptions {
  /** Timed runs of the null-syscall and context-switch probes (the median is reported). */
  readonly runs: number;
  readonly designs: readonly DesignName[];
  /** Iterations: null system calls, context-switch round trips; and whether to run hackbench. */
  readonly nullCalls?: number;
  readonly ctxRounds?: number;
  readonly hackbench?: boolean;
  /** Host clock in nanoseconds (injected: the model never reads a clock). */
  readonly now: () => bigint;
  /** Called before each run (progress). */
  readonly onRun?: (what: string) => void;
}

/** One run: boot, then time the program's run; counters from the kernel. */
function timedRun(
  design: DesignName,
  argv: readonly string[],
  now: () => bigint,
): { bootMs: number; runNs: number; syscalls: number; switches: number; simNs: number; output: string } {
  const t0 = now();
  const system = new SimSystem({ design, programs: { 'bench-null': benchNull } });
  const group = system.spawn({ argv });
  const t1 = now();
  const end = system.run(200_000_000);
  const t2 = now();
  if (end !== 'idle' || group.exitStatus !== 0)
    throw new Error(`bench kernel: '${argv.join(' ')}' did not complete under ${design}`);
  return {
    bootMs: Number(t1 - t0) / 1e6,
    runNs: Number(t2 - t1),
    syscalls: system.kernel.stats.syscalls,
    switches: system.kernel.stats.contextSwitches,
    simNs: system.elapsedNs,
    output: system.outputText(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Run the benchmark. */
export function runKernelBench(options: KernelBenchOptions): KernelBenchResult {
  const nullCalls = options.nullCalls ?? 200_000;
  const ctxRounds = options.ctxRounds ?? 20_000;
  const out = {
    nullSyscallHostNs: {} as Record<DesignName, number>,
    ctxSwitchHostNs: {} as Record<DesignName, number>,
    hackbenchHostSeconds: {} as Record<DesignName, number>,
    nullSyscallSimNs: {} as Record<DesignName, number>,
    ctxSwitchSimNs: {} as Record<DesignName, number>,
    hackbenchSimSeconds: {} as Record<DesignName, number>,
    bootHostMs: {} as Record<DesignName, number>,
  };
  for (const design of options.designs) {
    const nullRuns: number[] = [];
    const ctxRuns: number[] = [];
    const boots: number[] = [];
    for (let r = 0; r < options.runs; r++) {
      options.onRun?.(`${design}: null system calls (${r + 1}/${options.runs})`);
      const n = timedRun(design, ['bench-null', String(nullCalls)], options.now);
      nullRuns.push(n.runNs / n.syscalls);
      boots.push(n.bootMs);
      out.nullSyscallSimNs[design] = n.simNs / n.syscalls;
      options.onRun?.(`${design}: lmbench ctx (${r + 1}/${options.runs})`);
      const c = timedRun(design, ['lmbench', 'ctx', '-n', String(ctxRounds)], options.now);
      ctxRuns.push(c.runNs / c.switches);
      out.ctxSwitchSimNs[design] = c.simNs / c.switches;
    }
    out.nullSyscallHostNs[design] = median(nullRuns);
    out.ctxSwitchHostNs[design] = median(ctxRuns);
    out.bootHostMs[design] = median(boots);
    if (options.hackbench !== false) {
      options.onRun?.(`${design}: hackbench (10 groups, 20 fds, 100 loops)`);
      const h = timedRun(design, ['hackbench'], options.now);
      out.hackbenchHostSeconds[design] = h.runNs / 1e9;
      out.hackbenchSimSeconds[design] = h.simNs / 1e9;
    }
  }
  return out;
}
