/**
 * Character devices of devfs: null, zero, full, random/urandom (a deterministic xorshift32 stream,
 * seeded per devfs instance: DESIGN.md §8, no host randomness in the model), tty and console (the
 * machine console of KernelServices). A devfs instance owns one {@link Devices} table; device nodes
 * of other file systems have no table and fail to open with ENXIO.
 */
import type { SysCtx } from '../core/ctx.js';
import type { FileOps } from '../core/file.js';
import { Errno } from '../uapi/errno.js';
import { TCGETS, TIOCGWINSZ } from '../uapi/flags.js';
import { BYTE_COPY_CYCLES } from './costs.js';
import { makedev } from './inode.js';
import { MAX_RW_COUNT, vfsRelease, vfsStat } from './vfs-file.js';

/** Device numbers (Documentation/admin-guide/devices.txt). */
export const DEV = {
  NULL: makedev(1, 3),
  ZERO: makedev(1, 5),
  FULL: makedev(1, 7),
  RANDOM: makedev(1, 8),
  URANDOM: makedev(1, 9),
  TTY: makedev(5, 0),
  CONSOLE: makedev(5, 1),
} as const;

/** Default seed of a devfs instance's random stream. */
export const DEVFS_SEED = 0x2545_f491;

/**
 * Seed of the devfs of context `owner` (0 = the host, c = container c): the default for the host,
 * a distinct stream per container, so that containers do not read each other's "random" bytes.
 * SIMPLIFICATION: derived from the container id only (deterministic, DESIGN.md §8), not from the
 * system seed; a real kernel seeds from hardware entropy.
 */
export function devfsSeed(owner: number): number {
  if (owner === 0) return DEVFS_SEED;
  // splitmix32-style mixing of the owner into the default seed.
  let x = (DEVFS_SEED + Math.imul(owner, 0x9e37_79b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85eb_ca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2_ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0 || 1;
}

/** struct termios of the kernel ABI (arm64): 4 flag words, c_line, c_cc[19] = 36 bytes. */
const TERMIOS_BYTES = 36;
/** struct winsize: ws_row, ws_col, ws_xpixel, ws_ypixel (u16 each). */
const WINSIZE_BYTES = 8;
const CHUNK = 4096;
const ZEROS = new Uint8Array(CHUNK);

/** The character devices of one devfs instance. */
export class Devices {
  private state: number;
  private readonly table: ReadonlyMap<number, FileOps>;

  constructor(seed = DEVFS_SEED) {
    this.state = seed >>> 0 || 1;
    const random: FileOps = {
      read: (ctx, _file, va, length) => this.readRandom(ctx, va, length),
      write: (_ctx, _file, _va, length) => length,
      lseek: () => 0,
      stat: vfsStat,
      release: vfsRelease,
    };
    this.table = new Map<number, FileOps>([
      [
        DEV.NULL,
        {
          read: () => 0,
          write: (_c, _f, _v, length) => length,
          lseek: () => 0,
          stat: vfsStat,
          release: vfsRelease,
        },
      ],
      [
        DEV.ZERO,
        {
          read: readZeros,
          write: (_c, _f, _v, length) => length,
          lseek: () => 0,
          stat: vfsStat,
          release: vfsRelease,
        },
      ],
      [
        DEV.FULL,
        { read: readZeros, write: () => -Errno.ENOSPC, lseek: () => 0, stat: vfsStat, release: vfsRelease },
      ],
      [DEV.RANDOM, random],
      [DEV.URANDOM, random],
      [DEV.TTY, TERMINAL_OPS],
      [DEV.CONSOLE, TERMINAL_OPS],
    ]);
  }

  /** The operations of device `rdev`, if this table has it. */
  open(rdev: number): FileOps | undefined {
    return this.table.get(rdev);
  }

  /** Next 32 bits of the stream (xorshift32, Marsaglia 2003). */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  private readRandom(ctx: SysCtx, va: number, length: number): number {
    const total = Math.min(length, MAX_RW_COUNT);
    const buffer = new Uint8Array(Math.min(total, CHUNK));
    let done = 0;
    while (done < total) {
      const chunk = Math.min(total - done, CHUNK);
      for (let i = 0; i < chunk; i += 4) {
        const word = this.next();
        for (let b = 0; b < 4 && i + b < chunk; b++) buffer[i + b] = (word >>> (8 * b)) & 0xff;
      }
      if (!ctx.copyOut(va + done, buffer.subarray(0, chunk))) return done > 0 ? done : -Errno.EFAULT;
      done += chunk;
    }
    ctx.charge(done * BYTE_COPY_CYCLES);
    return done;
  }
}

function readZeros(ctx: SysCtx, _file: unknown, va: number, length: number): number {
  const total = Math.min(length, MAX_RW_COUNT);
  let done = 0;
  while (done < total) {
    const chunk = Math.min(total - done, CHUNK);
    if (!ctx.copyOut(va + done, ZEROS.subarray(0, chunk))) return done > 0 ? done : -Errno.EFAULT;
    done += chunk;
  }
  ctx.charge(done * BYTE_COPY_CYCLES);
  return done;
}

/** /dev/tty and /dev/console: the machine console. */
const TERMINAL_OPS: FileOps = {
  read: (ctx, file, va, length) =>
    ctx.kernel.console.read(ctx, va, Math.min(length, MAX_RW_COUNT), file.stdio),
  write: (ctx, file, va, length) =>
    ctx.kernel.console.write(ctx, va, Math.min(length, MAX_RW_COUNT), file.stdio),
  ioctl(ctx, file, request, arg) {
    // A descriptor the runtime gave a session without -t is a pipe to its client, not a terminal.
    if (file.stdio !== undefined && !ctx.kernel.console.isTerminal(ctx.task.cid, file.stdio.session))
      return -Errno.ENOTTY;
    switch (request) {
      case TCGETS:
        return ctx.copyOut(arg, defaultTermios()) ? 0 : -Errno.EFAULT;
      case TIOCGWINSZ: {
        const winsize = new Uint8Array(WINSIZE_BYTES);
        const view = new DataView(winsize.buffer);
        view.setUint16(0, 24, true);
        view.setUint16(2, 80, true);
        return ctx.copyOut(arg, winsize) ? 0 : -Errno.EFAULT;
      }
      default:
        return -Errno.ENOTTY;
    }
  },
  stat: vfsStat,
  release: vfsRelease,
};

/** A cooked terminal: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD, ISIG|ICANON|ECHO... (tty_std_termios). */
function defaultTermios(): Uint8Array {
  const out = new Uint8Array(TERMIOS_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0o2400, true);
  view.setUint32(4, 0o5, true);
  view.setUint32(8, 0o277, true);
  view.setUint32(12, 0o105073, true);
  // c_cc: INTR QUIT ERASE KILL EOF TIME MIN (INIT_C_CC of include/linux/tty.h).
  out.set([0o3, 0o34, 0o177, 0o25, 0o4, 0, 1], 17);
  return out;
}
