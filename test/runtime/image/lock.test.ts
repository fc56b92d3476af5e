// The store's lock between processes: stale locks taken over, live ones waited for (then refused
// with the holder named), nested changes in one process, and two processes changing one store at
// once without losing an index entry or a blob.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageError } from '../../../src/runtime/image/errors.js';
import { ImageStore } from '../../../src/runtime/image/store.js';
import { freshStore } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const WORKER = path.join(import.meta.dirname, 'lock-worker.ts');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
});

/** Resolves once the child's stdout has printed `line`; rejects (with its stderr) if it exits first. */
function lineFrom(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before '${line}': ${stderr}`)));
  });
}

/** The exit code of `child`. */
function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** A live process that creates lock file `file` with its pid, removing it after `releaseMs` if given. */
async function holdLock(file: string, releaseMs?: number): Promise<ChildProcess> {
  const code = `
    const fs = require('node:fs');
    fs.writeFileSync(process.argv[1], process.pid + '\\n', { flag: 'wx' });
    console.log('locked');
    const ms = Number(process.argv[2]);
    setTimeout(() => ms >= 0 && fs.unlinkSync(process.argv[1]), ms >= 0 ? ms : 60000);`;
  const child = spawn(process.execPath, ['-e', code, file, String(releaseMs ?? -1)]);
  children.push(child);
  await lineFrom(child, 'locked');
  return child;
}

function lockFile(store: ImageStore): string {
  return path.join(store.root, '.lock');
}

describe('image store lock', () => {
  it('takes over a stale lock left by a process that has exited', async () => {
    const { store } = freshStore();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    fs.writeFileSync(lockFile(store), `${dead}\n`);
    const image = await store.ensureBuiltin('busybox');
    expect(store.tag('busybox', 'mine:1').manifestDigest).toBe(image.manifestDigest);
    // Released, and the stale file renamed aside is gone too.
    expect(fs.readdirSync(store.root).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('makes a change wait for a live holder, then fail naming the lock file and the pid', async () => {
    const { store } = freshStore({ lockTimeoutMs: 100 });
    await store.ensureBuiltin('busybox');
    const index = fs.readFileSync(path.join(store.root, 'index.json'));
    const holder = await holdLock(lockFile(store));
    const message = `image store is locked: ${lockFile(store)} is held by process ${holder.pid} (waited 100 ms`;
    const start = performance.now();
    expect(() => store.tag('busybox', 'mine:1')).toThrow(message);
    expect(performance.now() - start).toBeGreaterThanOrEqual(90);
    expect(() => store.remove('busybox')).toThrow(ImageError);
    await expect(store.ensureBuiltin('kv')).rejects.toThrow(message);
    expect(() => store.collectGarbage()).toThrow(message);
    expect(fs.readFileSync(path.join(store.root, 'index.json'))).toEqual(index);
    expect(fs.readFileSync(lockFile(store), 'utf8')).toBe(`${holder.pid}\n`);
    // Reads take no lock.
    expect(store.list().map((image) => image.tags)).toEqual([['busybox:latest']]);
  });

  it('lets a waiting change proceed once the holder releases the lock', async () => {
    const { store } = freshStore();
    await store.ensureBuiltin('busybox');
    await holdLock(lockFile(store), 300);
    const start = performance.now();
    store.tag('busybox', 'mine:1');
    expect(performance.now() - start).toBeGreaterThanOrEqual(200);
    expect(store.resolve('mine:1').tags).toEqual(['busybox:latest', 'mine:1']);
    expect(fs.existsSync(lockFile(store))).toBe(false);
  });

  it('does not wait for itself when a change nests another in the same process', async () => {
    const { store, stateDir } = freshStore({ lockTimeoutMs: 100 });
    const other = ImageStore.open(stateDir, { lockTimeoutMs: 100 });
    await store.ensureBuiltin('busybox');
    await store.ensureBuiltin('kv');
    const result = store.remove('kv', {
      inUse: () => {
        expect(fs.readFileSync(lockFile(store), 'utf8')).toBe(`${process.pid}\n`);
        other.tag('busybox', 'nested:1');
        return undefined;
      },
    });
    expect(result.deleted).toBeDefined();
    expect(result.deletedBlobs.length).toBeGreaterThan(0);
    expect(store.list().map((image) => image.tags)).toEqual([['busybox:latest', 'nested:1']]);
    expect(fs.existsSync(lockFile(store))).toBe(false);
    // A refused change releases the lock as well.
    expect(() => store.tag('missing', 'x:1')).toThrow('no such image: missing');
    expect(fs.existsSync(lockFile(store))).toBe(false);
  });

  it('loses no index entry and no blob when two processes load, tag and remove at once', async () => {
    const { store, stateDir } = freshStore();
    const count = 25;
    const workers = ['a', 'b'].map((name) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, stateDir, name, String(count)], {
        cwd: REPO,
      });
      children.push(child);
      return { child, ready: lineFrom(child, 'ready'), done: lineFrom(child, 'done') };
    });
    await Promise.all(workers.map((worker) => worker.ready));
    for (const { child } of workers) child.stdin?.write('go\n');
    await Promise.all(workers.map((worker) => worker.done));
    expect(await Promise.all(workers.map(({ child }) => exitOf(child)))).toEqual([0, 0]);

    const expected = ['a', 'b'].flatMap((name) =>
      Array.from({ length: count }, (_, i) => [`${name}-alias:${i}`, `${name}-keep:${i}`]),
    );
    const images = store.list();
    expect(images.flatMap((image) => image.tags).sort()).toEqual(expected.flat().sort());
    // Every blob of every image is still there and intact.
    for (const image of images) expect(store.layers(image)).toHaveLength(2);
    expect(store.collectGarbage()).toEqual([]);
    expect(fs.existsSync(lockFile(store))).toBe(false);
  });
});
