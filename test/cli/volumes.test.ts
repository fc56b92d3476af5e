// -v volumes at the level of one machine: parsing, nesting, refusals, write-back and release of the
// host pages a volume's copy took.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/cli/errors.js';
import { mountVolumes, parseVolume, releaseVolumes, writeBackVolumes } from '../../src/cli/volumes.js';
import { SimSystem } from '../../src/designs/system.js';

const hostDir = (): string => mkdtempSync(join(tmpdir(), 'rcontainer-vol-unit-'));

describe('parseVolume', () => {
  it('takes HOST:DIR with an optional ro or rw', () => {
    const dir = hostDir();
    expect(parseVolume(`${dir}:/data`)).toEqual({ source: dir, destination: '/data', readonly: false });
    expect(parseVolume(`${dir}:/data:ro`).readonly).toBe(true);
    expect(parseVolume(`${dir}:/data:rw`).readonly).toBe(false);
  });

  it('resolves ./ and ../ host paths against the working directory', () => {
    expect(parseVolume('./:/data').source).toBe(process.cwd());
    expect(parseVolume('..:/data').source).toBe(join(process.cwd(), '..'));
  });

  it('makes a host directory that does not exist, as Docker does', () => {
    const missing = join(hostDir(), 'new', 'sub');
    expect(parseVolume(`${missing}:/data`).source).toBe(missing);
    expect(statSync(missing).isDirectory()).toBe(true);
  });

  it.each([
    ['/tmp', 'use HOST_DIR:CONTAINER_DIR'],
    ['/tmp:/a:rx', "invalid volume mode 'rx'"],
    ['/tmp:a', 'must be absolute'],
    ['/tmp:/', 'must be absolute, not /'],
    ['/tmp:/a/../b', 'without ..'],
    ['/tmp:/proc/x', 'is a mount of the container itself'],
    ['/etc/passwd:/a', '/etc/passwd is not a directory'],
    ['data:/a', 'named volumes are not supported'],
  ])('refuses %s', (text, message) => {
    expect(() => parseVolume(text)).toThrow(EngineError);
    expect(() => parseVolume(text)).toThrow(message);
  });
});

describe.each(['native', 'rcontainer'] as const)('volumes under %s', (design) => {
  it('mounts, writes back what the container wrote, and gives the copy’s pages back', () => {
    const system = new SimSystem({ design });
    const dir = hostDir();
    writeFileSync(join(dir, 'big'), new Uint8Array(256 * 1024).fill(7));
    const before = system.kernel.pages.inUse(0);
    const cid = system.createContainer();
    const mounted = mountVolumes(system, cid, [{ source: dir, destination: '/v', readonly: false }]);
    expect(system.kernel.pages.inUse(0) - before).toBeGreaterThanOrEqual(64); // 256 KiB of host pages
    const init = system.startProcess(cid, { argv: ['sh', '-c', 'wc -c /v/big > /v/size'] });
    system.run(5_000_000);
    expect(init.exitStatus).toBe(0);
    writeBackVolumes(system, mounted);
    expect(readFileSync(join(dir, 'size'), 'utf8')).toBe('262144 /v/big\n');
    system.destroyContainer(cid);
    releaseVolumes(system, mounted);
    expect(system.kernel.pages.inUse(0)).toBe(before);
  });

  it('locks the volume flags: root in the container cannot remount it exec or rw, nor through a bind', () => {
    const system = new SimSystem({ design });
    const cid = system.createContainer();
    mountVolumes(system, cid, [{ source: hostDir(), destination: '/v', readonly: true }]);
    const script = [
      'mount -o remount,exec none /v',
      'mount -o remount none /v',
      'mount -o remount,ro,nosuid,nodev,noexec none /v && echo same-flags-ok',
      'mkdir /b && mount --bind /v /b && mount -o remount,bind,exec none /b',
      'grep " /b " /proc/mounts',
    ].join('; ');
    const init = system.startProcess(cid, { argv: ['sh', '-c', script] });
    system.run(5_000_000);
    expect(init.exitStatus).toBe(0);
    const out = new TextDecoder().decode(
      Buffer.concat(system.kernel.consoleDevice.drain(cid).map((c) => c.bytes)),
    );
    expect(out.match(/failed: Operation not permitted/g)).toHaveLength(3);
    expect(out).toContain('same-flags-ok');
    expect(out).toMatch(/^volume \/b tmpfs ro,nosuid,nodev,noexec/m);
  });

  it('reports what it cannot write back and writes the rest', () => {
    const system = new SimSystem({ design });
    const dir = hostDir();
    const cid = system.createContainer();
    const mounted = mountVolumes(system, cid, [{ source: dir, destination: '/v', readonly: false }]);
    const init = system.startProcess(cid, {
      argv: ['sh', '-c', 'mkdir /v/d && echo x > /v/d/f && echo y > /v/ok'],
    });
    system.run(5_000_000);
    expect(init.exitStatus).toBe(0);
    writeFileSync(join(dir, 'd'), 'the host made a file here meanwhile');
    const problems = writeBackVolumes(system, mounted);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^volume .*: \/d not written back \(EEXIST\)$/);
    expect(readFileSync(join(dir, 'ok'), 'utf8')).toBe('y\n');
    expect(readFileSync(join(dir, 'd'), 'utf8')).toBe('the host made a file here meanwhile');
  });

  it('refuses a duplicate mount point and a path through a file, keeping nothing', () => {
    const system = new SimSystem({ design });
    const cid = system.createContainer();
    const before = system.kernel.pages.inUse(0);
    const a = { source: hostDir(), destination: '/v', readonly: false };
    expect(() => mountVolumes(system, cid, [a, { ...a, readonly: true }])).toThrow(
      'Duplicate mount point: /v',
    );
    writeFileSync(join(a.source, 'f'), 'x');
    expect(() =>
      mountVolumes(system, cid, [a, { source: hostDir(), destination: '/v/f/g', readonly: false }]),
    ).toThrow(/cannot mount on \/v\/f\/g: Not a directory$/);
    expect(system.kernel.pages.inUse(0)).toBe(before);
  });
});
