/**
 * The image store's lock between processes: a file `<state>/images/.lock`, created exclusively
 * (O_CREAT|O_EXCL) with the holder's pid in it and removed when the holder is done. Every change
 * of the store (blobs, index.json, garbage collection) is made under it, so two `rcontainer`
 * processes can neither lose an index update nor delete a blob the other has just added. Reads
 * take no lock: files are replaced by rename, so a reader always sees a complete one.
 *
 * A lock whose pid no longer exists is stale (its holder was killed) and is taken over. Critical
 * sections are synchronous, and so is waiting: no other task of this process runs meanwhile, which
 * is what makes a per-process depth count enough for re-entrancy.
 *
 * SIMPLIFICATION: a stale lock whose pid was reused by an unrelated process, or a lock left empty
 * by a holder killed between create and write, is never taken over: the timeout message names the
 * file to remove.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { assert } from '../../hw/bits.js';
import { ImageError } from './errors.js';

/** How long a change of the store waits for another process's lock by default. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** Pause between attempts while another process holds the lock. */
const RETRY_MS = 10;

/** Lock depth of this process, per lock file: only the outermost `hold` takes and drops the file. */
const depthByFile = new Map<string, number>();
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

/** The pid recorded in lock file `file`, or undefined when it is gone, empty or not a pid. */
function holderOf(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  return /^[1-9][0-9]*\n?$/.test(text) ? Number(text.trim()) : undefined;
}

/** False only when process `pid` certainly does not exist (EPERM: it exists, owned by someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

/** The inter-process lock of one image store. */
export class StoreLock {
  /** The lock file. */
  readonly file: string;
  private readonly timeoutMs: number;

  /** A lock on `file`; a change waits at most `timeoutMs` for another process to release it. */
  constructor(file: string, timeoutMs: number = DEFAULT_LOCK_TIMEOUT_MS) {
    this.file = file;
    this.timeoutMs = timeoutMs;
  }

  /** True while this process holds the lock. */
  get held(): boolean {
    return depthByFile.has(this.file);
  }

  /**
   * Run `action` (synchronous: the lock is dropped when it returns) holding the lock. Re-entrant
   * in this process; an ImageError when another process holds it for longer than the timeout.
   */
  hold<T>(action: () => T): T {
    const depth = depthByFile.get(this.file) ?? 0;
    if (depth === 0) this.acquire();
    depthByFile.set(this.file, depth + 1);
    try {
      const result = action();
      assert(!(result instanceof Promise), 'StoreLock.hold needs a synchronous action');
      return result;
    } finally {
      if (depth === 0) {
        depthByFile.delete(this.file);
        this.release();
      } else {
        depthByFile.set(this.file, depth);
      }
    }
  }

  /** Create the lock file, waiting while a live process holds it. */
  private acquire(): void {
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const holder = this.tryCreate();
      if (holder === 'acquired') return;
      if (holder !== undefined && !isAlive(holder)) {
        this.breakStale(holder);
        continue;
      }
      if (performance.now() >= deadline) {
        const who = holder === undefined ? 'a process that recorded no pid' : `process ${holder}`;
        throw new ImageError(
          `image store is locked: ${this.file} is held by ${who} (waited ${this.timeoutMs} ms; remove the file if that process is not rcontainer)`,
        );
      }
      Atomics.wait(sleeper, 0, 0, RETRY_MS);
    }
  }

  /** 'acquired', or the pid in the lock file another process holds (undefined if unreadable). */
  private tryCreate(): 'acquired' | number | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'wx');
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return holderOf(this.file);
      throw error;
    }
    try {
      fs.writeSync(fd, `${process.pid}\n`);
    } catch (error) {
      fs.rmSync(this.file, { force: true });
      throw error;
    } finally {
      fs.closeSync(fd);
    }
    return 'acquired';
  }

  /**
   * Remove the lock file of dead process `pid`. It is renamed aside first, so of two processes
   * breaking it at once only one removes it; a fresh lock moved aside by mistake (its pid is not
   * `pid`: another process broke the stale one and took the lock in between) is linked back.
   */
  private breakStale(pid: number): void {
    const aside = `${this.file}.${randomBytes(6).toString('hex')}.stale`;
    try {
      fs.renameSync(this.file, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    try {
      if (holderOf(aside) !== pid) fs.linkSync(aside, this.file);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(aside, { force: true });
    }
  }

  /** Remove the lock file, unless another process has (wrongly) taken it over. */
  private release(): void {
    if (holderOf(this.file) === process.pid) fs.rmSync(this.file, { force: true });
  }
}
