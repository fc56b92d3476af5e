/**
 * The same workloads under both designs: the console output must be byte-identical (the designs
 * differ in how the machine is protected, never in what programs compute), while simulated time
 * and the event counters show the cost of rcontainer (slower, with rc_* calls and SMCs; native has
 * neither).
 */
import { describe, expect, it } from 'vitest';
import type { DesignName } from '../../../src/designs/system.js';
import { collectStats, type SimStats } from '../../../src/eval/sim/report.js';
import { MAP, PROT } from '../../../src/kernel/uapi/flags.js';
import { encodeUtf8 } from '../../../src/user/libc/cstring.js';
import { fork } from '../../../src/user/libc/fork.js';
import { pipe, readToEnd, writeString } from '../../../src/user/libc/io.js';
import { defineProgram } from '../../../src/user/libc/program.js';
import { close } from '../../../src/user/libc/sys-fs.js';
import { mmap } from '../../../src/user/libc/sys-proc.js';
import { waitpid } from '../../../src/user/libc/wait.js';
import type { ProgramMain } from '../../../src/user/program.js';
import { runSystem, type RunResult } from './helpers.js';

/** A test program mixing fork, a pipe, copy on write and a shared mapping. */
const mixedMain: ProgramMain = defineProgram(function* (p) {
  const shared = yield* mmap(0, 4096, PROT.READ | PROT.WRITE, MAP.SHARED | MAP.ANONYMOUS, -1, 0);
  const heap = yield* p.heap.malloc(32);
  p.cpu.writeBytes(heap, encodeUtf8('parent-data'));
  const fds = yield* pipe(p);
  if (typeof fds === 'number') return 1;
  const child = yield* fork(p, function* (cp) {
    yield* close(fds[0]);
    cp.cpu.writeBytes(heap, encodeUtf8('child-data!'));
    cp.cpu.store32(shared, 0xc0ffee);
    yield* writeString(cp, fds[1], 'from the child\n');
    return 7;
  });
  yield* close(fds[1]);
  const message = yield* readToEnd(p, fds[0]);
  const status = yield* waitpid(p, child);
  const text = typeof message === 'number' ? String(message) : new TextDecoder().decode(message);
  yield* p.stdout.print(text);
  yield* p.stdout.print(`heap ${new TextDecoder().decode(p.cpu.readBytes(heap, 11))}\n`);
  yield* p.stdout.print(`shared ${p.cpu.load32(shared).toString(16)}\n`);
  yield* p.stdout.print(`status ${typeof status === 'number' ? status : status.code}\n`);
  return 0;
});

/** Simulated times printed by the timing programs (they differ by design by construction). */
function withoutTimes(output: string): string {
  return output.replace(/\d+\.\d+/g, '<t>');
}

interface Workload {
  readonly argv: readonly string[];
  /** Make output comparable (default: compare it as is). */
  readonly normalize?: (output: string) => string;
}

const sh = (script: string): Workload => ({ argv: ['sh', '-c', script] });

const WORKLOADS: readonly Workload[] = [
  sh('echo hello world'),
  sh('echo a > /tmp/f; cat /tmp/f | wc -c'),
  sh('echo one two three | wc -w; ls /bin | wc -l'),
  sh('ps; cat /proc/self/status; cat /proc/mounts'),
  sh('cat /proc/self/maps'),
  sh('grep root /etc/passwd; head -n 1 /etc/group; hostname; id; env'),
  sh('false || echo recovered; nosuch; echo $?'),
  sh('cp /etc/passwd /tmp/p; mv /tmp/p /tmp/q; ln -s /tmp/q /tmp/r; wc -l /tmp/r; rm /tmp/q; cat /tmp/r'),
  sh('mkdir -p /tmp/a/b; echo x > /tmp/a/b/c; ls -l /tmp/a; ls -la /'),
  sh('sleep 0.01; echo slept; exit 4'),
  sh("echo 'echo in script; exit 2' > /tmp/s; sh /tmp/s; echo $?"),
  { argv: ['mixed'] },
  { argv: ['lmbench', 'null', '-n', '200'], normalize: withoutTimes },
  { argv: ['lmbench', 'pipe', '-n', '20'], normalize: withoutTimes },
  { argv: ['hackbench', '-g', '1', '-l', '5'], normalize: withoutTimes },
  { argv: ['build', '3'], normalize: withoutTimes },
];

function run(design: DesignName, workload: Workload): RunResult & { stats: SimStats } {
  const r = runSystem(design, { argv: workload.argv, programs: { mixed: mixedMain }, hostname: 'box' });
  return { ...r, stats: collectStats(r.system) };
}

describe('native and rcontainer run the same programs', () => {
  it.each(WORKLOADS.map((w) => [w.argv.join(' '), w] as const))('%s', (_name, workload) => {
    const native = run('native', workload);
    const rc = run('rcontainer', workload);
    expect(native.finished && rc.finished).toBe(true);
    const normalize = workload.normalize ?? ((s: string): string => s);
    expect(normalize(rc.output)).toBe(normalize(native.output));
    expect(native.output.length).toBeGreaterThan(0);
    expect(rc.status).toBe(native.status);
    // Same program, different machine protection: rcontainer pays for its gates and GPT switches.
    expect(rc.system.elapsedNs).toBeGreaterThan(native.system.elapsedNs);
    expect(rc.stats.smcs).toBeGreaterThan(0);
    expect(Object.keys(rc.stats.rcCalls).length).toBeGreaterThan(0);
    expect(rc.stats.rcCalls.rc_task_exec).toBeGreaterThan(0);
    expect(native.stats.smcs).toBe(0);
    expect(native.stats.rcCalls).toEqual({});
    expect(native.stats.gptSwitches).toBe(0);
  });

  it('prints the exact expected output for the mixed program', () => {
    const r = run('rcontainer', { argv: ['mixed'] });
    expect(r.output).toBe('from the child\nheap parent-data\nshared c0ffee\nstatus 7\n');
  });
});
