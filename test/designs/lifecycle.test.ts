// Container lifecycle on a simulated system: a process entering a running container (exec), the
// measured-only exec policy, stopping, destroying (everything the container had goes back), and
// attestation evidence for a container.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RcontainerPlatform } from '../../src/designs/rcontainer.js';
import { SimSystem, SpawnError } from '../../src/designs/system.js';
import { Errno } from '../../src/kernel/uapi/errno.js';
import { SIG, wTermSig } from '../../src/kernel/uapi/flags.js';
import { ATTEST_TRAILER_BYTES } from '../../src/minios/abi.js';
import { verifyReport } from '../../src/minios/crypto/attestation.js';
import { ARG_BLOCK_VA } from '../../src/kernel/hooks.js';
import { AT_FDCWD, O } from '../../src/kernel/uapi/flags.js';
import { Sys } from '../../src/kernel/uapi/syscalls.js';
import type { ProgramMain } from '../../src/user/program.js';

/** Scratch in the argument page (mapped writable in every new image). */
const BUF = ARG_BLOCK_VA + 1024;

describe.each(['native', 'rcontainer'] as const)('container lifecycle under %s', (design) => {
  it('lets a process enter a running container: same pid namespace and file system', () => {
    const system = new SimSystem({ design });
    const cid = system.createContainer({ hostname: 'box' });
    const init = system.startProcess(cid, { argv: ['sh', '-c', 'echo ready > /tmp/flag; sleep 1'] });
    expect(system.runFor(10_000_000)).toBe('time-limit'); // init wrote its flag and sleeps
    const exec = system.startProcess(cid, { argv: ['sh', '-c', 'cat /tmp/flag; hostname; ps'] });
    expect(system.run(5_000_000)).toBe('idle');
    expect(exec.exitStatus).toBe(0);
    expect(init.exitStatus).toBe(0);
    const lines = system.outputText().split('\n');
    expect(lines[0]).toBe('ready');
    expect(lines[1]).toBe('box');
    // ps inside the container lists its init as pid 1 and nothing of the host.
    expect(lines.some((line) => /^\s*1\s+sh$/.test(line))).toBe(true);
  });

  it('stops a container by signalling its init (which gets SIGKILL, not an unhandled SIGTERM), then destroys it', () => {
    const system = new SimSystem({ design });
    const cid = system.createContainer();
    const init = system.startProcess(cid, { argv: ['sleep', '100'] });
    const other = system.startProcess(cid, { argv: ['sleep', '100'] });
    expect(system.runFor(10_000_000)).toBe('time-limit');
    expect(system.containerRunning(cid)).toBe(true);
    expect(() => system.destroyContainer(cid)).toThrow(/still has processes/);
    // A namespace's init without a handler does not get SIGTERM (pid_namespaces(7)).
    system.signalContainer(cid, SIG.TERM);
    expect(system.runFor(10_000_000)).toBe('time-limit');
    expect(init.exitStatus).toBeUndefined();
    // SIGKILL from the host is forced; the rest of its pid namespace goes with it.
    system.signalContainer(cid, SIG.KILL);
    expect(system.run(100_000)).toBe('idle');
    expect(wTermSig(init.exitStatus!)).toBe(SIG.KILL);
    expect(wTermSig(other.exitStatus!)).toBe(SIG.KILL);
    system.destroyContainer(cid);
    expect(() => system.startProcess(cid, { argv: ['true'] })).toThrow(/no container/);
  });

  it('destroys and recreates containers without leaking what they had', () => {
    const system = new SimSystem({ design });
    for (let round = 0; round < 3; round++) {
      const cid = system.createContainer();
      system.startProcess(cid, { argv: ['sh', '-c', 'echo x > /tmp/f; cat /tmp/f | wc -c'] });
      expect(system.run(1_000_000)).toBe('idle');
      system.destroyContainer(cid);
    }
    expect(system.outputText()).toBe('2\n2\n2\n');
    if (system.platform instanceof RcontainerPlatform) {
      const minios = system.platform.trusted.minios;
      expect(minios.containers.size).toBe(0);
    }
  });
});

describe('exec policy and attestation', () => {
  it('refuses, under rcontainer only, an executable that is not in the measured image', () => {
    // `forge` writes a file that names a known program but is not byte-identical to the measured
    // image of it, then executes it.
    const forge: ProgramMain = function* (cpu) {
      const put = (s: string): number => {
        cpu.writeBytes(BUF, new TextEncoder().encode(`${s}\0`));
        return BUF;
      };
      const fd = yield {
        nr: Sys.openat,
        args: [AT_FDCWD, put('/tmp/tool'), O.WRONLY | O.CREAT, 0o755, 0, 0],
      };
      const image = new TextEncoder().encode('\x7fRCX echo\n!');
      cpu.writeBytes(BUF, image);
      yield { nr: Sys.write, args: [fd, BUF, image.length] };
      yield { nr: Sys.close, args: [fd] };
      const path = put('/tmp/tool');
      const argv = BUF + 256;
      cpu.writeBytes(BUF + 64, new TextEncoder().encode('tool\0hi\0'));
      cpu.store64(argv, BUF + 64);
      cpu.store64(argv + 8, BUF + 69);
      cpu.store64(argv + 16, 0);
      const result = yield { nr: Sys.execve, args: [path, argv, 0] };
      return -result;
    };
    const results: Record<string, { output: string; status: number | undefined }> = {};
    for (const design of ['native', 'rcontainer'] as const) {
      const system = new SimSystem({ design, programs: { forge } });
      const group = system.spawn({ argv: ['forge'] });
      expect(system.run(1_000_000)).toBe('idle');
      results[design] = { output: system.outputText(), status: group.exitStatus };
    }
    expect(results.native).toEqual({ output: 'hi\n', status: 0 });
    // The mini-OS refuses rc_task_exec (measuredOnly): execve fails with EACCES.
    expect(results.rcontainer).toEqual({ output: '', status: Errno.EACCES << 8 });
  });

  it('gives rcontainer evidence a verifier checks against the nonce, and none under native', () => {
    const nonce = new Uint8Array(createHash('sha256').update('verifier').digest());
    const rc = new SimSystem({ design: 'rcontainer' });
    const cid = rc.createContainer();
    const evidence = rc.attest(cid, nonce);
    expect(evidence).toBeInstanceOf(Uint8Array);
    const bytes = evidence as Uint8Array;
    const report = bytes.subarray(0, bytes.length - ATTEST_TRAILER_BYTES);
    const key = bytes.subarray(bytes.length - ATTEST_TRAILER_BYTES, bytes.length - 64);
    expect(verifyReport(report, key, nonce).ok).toBe(true);
    const native = new SimSystem({ design: 'native' });
    expect(native.attest(native.createContainer(), nonce)).toBe(-Errno.EOPNOTSUPP);
  });

  it('reports a program that cannot be started', () => {
    const system = new SimSystem({ design: 'rcontainer' });
    expect(() => system.spawn({ argv: ['no-such-program'] })).toThrow(SpawnError);
  });
});
