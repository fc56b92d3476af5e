/**
 * The shell's `trap` over real signal handlers, under both designs: a trapped signal runs its
 * command between commands (after a foreground command, or at once from `wait`), EXIT runs at the
 * end, a subshell does not inherit traps, and a container whose init shell traps SIGTERM stops
 * cleanly, where a bare init would not even get the signal.
 */
import { describe, expect, it } from 'vitest';
import { SimSystem, type DesignName } from '../../../src/designs/system.js';
import { SIG, wExitStatus } from '../../../src/kernel/uapi/flags.js';
import { DESIGN_NAMES, runShell } from './helpers.js';

/** Start `sh -c script` as a container's init, send it `sig` after `ms`, and run to the end. */
function signalled(design: DesignName, script: string, sig: number, ms: number) {
  const system = new SimSystem({ design });
  const init = system.spawn({ argv: ['sh', '-c', script] });
  system.runFor(ms * 1_000_000);
  system.signalContainer(init.cid, sig);
  system.run(2_000_000);
  return { output: system.outputText(), status: init.exitStatus };
}

describe.each(DESIGN_NAMES)('trap under %s', (design) => {
  it('stops an init shell cleanly on SIGTERM while it waits', () => {
    const run = signalled(
      design,
      'trap "echo got TERM; exit 0" TERM; sleep 1000 & wait $!; echo not reached',
      SIG.TERM,
      50,
    );
    expect(run.output).toBe('got TERM\n');
    expect(wExitStatus(run.status!)).toBe(0);
  });

  it('runs a trap after the foreground command it arrived during, keeping $?', () => {
    const run = signalled(design, 'trap "echo trapped" USR1; sleep 0.2; echo "after $?"', SIG.USR1, 50);
    expect(run.output).toBe('trapped\nafter 0\n');
  });

  it('runs the EXIT trap at the end and at exit', () => {
    expect(runShell(design, 'trap "echo bye" EXIT; echo hi').output).toBe('hi\nbye\n');
    const exited = runShell(design, 'trap "echo bye" EXIT; echo hi; exit 3; echo no');
    expect(exited.output).toBe('hi\nbye\n');
    expect(exited.code).toBe(3);
  });

  it('lists, resets and refuses traps', () => {
    const run = runShell(design, `trap "echo it's" INT; trap; trap - INT; trap; trap x NOPE; echo $?`);
    expect(run.output).toBe(`trap -- 'echo it'\\''s' INT\nsh: trap: NOPE: bad trap\n1\n`);
  });

  it('does not hand traps to a subshell: there the signal takes its default action', () => {
    const run = runShell(
      design,
      'trap "echo parent trap" USR1; sleep 1 && echo never & kill -USR1 $!; wait $!; echo "child $?"',
    );
    expect(run.output).toBe(`child ${128 + SIG.USR1}\n`);
  });
});
