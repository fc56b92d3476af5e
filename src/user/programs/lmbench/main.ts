/**
 * `lmbench PROBE [-n ITERATIONS] [-f FILE] [-p PROCESSES]`: lmbench-style latency probes
 * (null, read, write, open, fork, exec, pagefault, pipe, unix, ctx, or all). Prints the average
 * simulated time per operation, e.g. "null: 0.42 us".
 */
import { parseArgs, parseCount } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { format } from '../../libc/format.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import type { Call } from '../../libc/syscall.js';
import {
  probeCtx,
  probeExec,
  probeFork,
  probeNull,
  probeOpen,
  probePagefault,
  probePipe,
  probeRead,
  probeUnix,
  probeWrite,
  type Measurement,
  type ProbeOptions,
} from './probes.js';

/** A probe and its default iteration count. */
interface Probe {
  readonly run: (p: Proc, options: ProbeOptions) => Call<Measurement>;
  readonly iterations: number;
}

/** The probes by name, in the order `all` runs them. */
export const PROBES: Readonly<Record<string, Probe>> = {
  null: { run: probeNull, iterations: 1000 },
  read: { run: probeRead, iterations: 1000 },
  write: { run: probeWrite, iterations: 1000 },
  open: { run: probeOpen, iterations: 200 },
  fork: { run: probeFork, iterations: 20 },
  exec: { run: probeExec, iterations: 20 },
  pagefault: { run: probePagefault, iterations: 256 },
  pipe: { run: probePipe, iterations: 200 },
  unix: { run: probeUnix, iterations: 200 },
  ctx: { run: probeCtx, iterations: 200 },
};

/** "name: 1.23 us" for a measurement. */
export function formatMeasurement(name: string, ns: number, operations: number): string {
  return format('%s: %.2f us', name, operations > 0 ? ns / operations / 1000 : 0);
}

/** The program `lmbench`. */
export const lmbenchMain = defineProgram(function* lmbench(p) {
  const args = parseArgs(p.argv.slice(1), { values: 'nfp' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const which = args.operands[0];
  const names = which === 'all' ? Object.keys(PROBES) : which === undefined ? [] : [which];
  if (names.length === 0 || names.some((name) => PROBES[name] === undefined)) {
    return yield* fail(
      p,
      `usage: lmbench {${Object.keys(PROBES).join('|')}|all} [-n ITERATIONS] [-f FILE] [-p PROCESSES]`,
    );
  }
  const iterationsText = args.values.get('n');
  const iterations = iterationsText === undefined ? undefined : parseCount(iterationsText);
  const processes = parseCount(args.values.get('p') ?? '2');
  if (
    (iterationsText !== undefined && (iterations === undefined || iterations === 0)) ||
    processes === undefined
  ) {
    return yield* fail(p, 'invalid number');
  }
  let status = 0;
  for (const name of names) {
    const probe = PROBES[name]!;
    const result = yield* probe.run(p, {
      iterations: iterations ?? probe.iterations,
      file: args.values.get('f') ?? '/dev/null',
      processes,
    });
    if (typeof result === 'string') {
      yield* p.stderr.print(`${p.name}: ${name}: ${result}\n`);
      status = 1;
      continue;
    }
    yield* p.stdout.print(`${formatMeasurement(name, result.ns, result.operations)}\n`);
  }
  return status;
});
