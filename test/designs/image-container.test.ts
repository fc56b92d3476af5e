// Containers from OCI images: the image's files are the container's lower layer, its executables
// are what the mini-OS measured, and the spec's command, environment and working directory apply.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImage } from '../../src/designs/image-container.js';
import { SimSystem } from '../../src/designs/system.js';
import { ImageStore } from '../../src/runtime/image/index.js';
import { APPLET_NAMES, PROGRAM_NAMES } from '../../src/user/programs/index.js';
import { executableImage } from '../../src/user/program.js';

function store(): ImageStore {
  return ImageStore.open(mkdtempSync(join(tmpdir(), 'rcontainer-img-')), {
    programs: { executableImage, programNames: PROGRAM_NAMES, appletNames: APPLET_NAMES },
  });
}

describe.each(['native', 'rcontainer'] as const)('containers from images under %s', (design) => {
  it('runs a command of the busybox image with its env and a working directory', async () => {
    const images = store();
    await images.ensureBuiltin('busybox');
    const system = new SimSystem({ design });
    const container = await runImage(system, images, 'busybox', {
      args: ['sh', '-c', 'pwd; echo $GREETING; ls /bin | grep -c kv-server; cat /etc/passwd | head -n 1'],
      env: ['GREETING=hello'],
      workdir: '/tmp',
      hostname: 'bb',
    });
    expect(system.run(2_000_000)).toBe('idle');
    expect(system.outputText()).toBe('/tmp\nhello\n0\nroot:x:0:0:root:/root:/bin/sh\n');
    expect(container.spec.process.args[0]).toBe('sh');
    // Every applet of the image, and nothing else, is measured.
    expect(container.measurements.binaries.length).toBe(APPLET_NAMES.length + 1);
  });

  it('runs the kv image server and a client exec-ed into the container', async () => {
    const images = store();
    await images.ensureBuiltin('kv');
    const system = new SimSystem({ design });
    const { cid } = await runImage(system, images, 'kv', {});
    // The server blocks in accept: nothing else can run ('idle'), the container keeps running.
    expect(system.runFor(5_000_000)).toBe('idle');
    expect(system.containerRunning(cid)).toBe(true);
    system.startProcess(cid, { argv: ['kv-client', '-p', '6379', 'SET', 'k', 'v1'] });
    system.runFor(50_000_000);
    system.startProcess(cid, { argv: ['kv-client', '-p', '6379', 'GET', 'k'] });
    system.runFor(50_000_000);
    expect(system.outputText()).toBe('kv-server: listening on port 6379\nOK\nv1\n');
    system.signalContainer(cid, 15);
    expect(system.run(1_000_000)).toBe('idle');
    system.destroyContainer(cid);
  });
});

describe('exec policies (DESIGN.md §5, attacks.md Q1) enforced by the mini-OS', () => {
  const run = async (execPolicy: 'measuredOnly' | 'allow' | 'deny') => {
    const images = store();
    await images.ensureBuiltin('busybox');
    const system = new SimSystem({ design: 'rcontainer' });
    const script = 'cp /bin/echo /tmp/e; echo >> /tmp/e; /tmp/e unmeasured-ran; sleep 1';
    const { cid } = await runImage(system, images, 'busybox', { args: ['sh', '-c', script], execPolicy });
    system.runFor(100_000_000);
    let entered: string;
    try {
      system.startProcess(cid, { argv: ['echo', 'entered'] });
      entered = 'started';
    } catch (error) {
      entered = (error as Error).message;
    }
    expect(system.run(5_000_000)).toBe('idle');
    return { output: system.outputText(), entered };
  };

  it('measuredOnly: no unmeasured binary runs; a measured one may be exec-ed into the container', async () => {
    const { output, entered } = await run('measuredOnly');
    expect(output).toBe('sh: /tmp/e: Permission denied\nentered\n');
    expect(entered).toBe('started');
  });

  it('deny: the same, and nothing may enter the running container from outside', async () => {
    const { output, entered } = await run('deny');
    expect(output).toBe('sh: /tmp/e: Permission denied\n');
    expect(entered).toBe('echo: the platform refused the task (1)');
  });

  it('allow: anything runs (the residual risk)', async () => {
    const { output, entered } = await run('allow');
    expect(output).toBe('unmeasured-ran\nentered\n');
    expect(entered).toBe('started');
  });
});
