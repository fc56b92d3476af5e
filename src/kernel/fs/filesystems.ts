/**
 * Making file-system instances: tmpfs, devtmpfs (a tmpfs with the device nodes of devices.ts),
 * procfs and overlay. Used by the mount system call and by vfs.ts for the boot-time trees.
 */
import { S } from '../uapi/flags.js';
import { MOUNT_CYCLES } from './costs.js';
import { DEV, Devices, DEVFS_SEED } from './devices.js';
import type { FsIds } from './fs-ids.js';
import { nowSeconds, type FsCtx } from './inode.js';
import { OverlaySuperBlock } from './overlay.js';
import { ProcSuperBlock } from './procfs.js';
import { TmpfsSuperBlock, type TmpInode } from './tmpfs.js';

/** A new tmpfs whose data pages belong to `owner` (0 = host, c = container c). */
export function makeTmpfs(ctx: FsCtx, ids: FsIds, owner: number, rootMode = 0o1777): TmpfsSuperBlock {
  ctx.charge(MOUNT_CYCLES);
  return new TmpfsSuperBlock({
    dev: ids.anonDev(),
    owner,
    pages: ctx.kernel.pages,
    rootMode,
    time: nowSeconds(ctx),
  });
}

/** Device nodes of a devfs: name, device, permissions. */
const DEVICE_NODES: readonly (readonly [string, number, number])[] = [
  ['null', DEV.NULL, 0o666],
  ['zero', DEV.ZERO, 0o666],
  ['full', DEV.FULL, 0o666],
  ['random', DEV.RANDOM, 0o666],
  ['urandom', DEV.URANDOM, 0o666],
  ['tty', DEV.TTY, 0o666],
  ['console', DEV.CONSOLE, 0o600],
];
/** Conventional symlinks of /dev. */
const DEVICE_LINKS: readonly (readonly [string, string])[] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];

/** A new devtmpfs with its own device table (random stream seeded with `seed`). */
export function makeDevfs(ctx: FsCtx, ids: FsIds, owner: number, seed = DEVFS_SEED): TmpfsSuperBlock {
  ctx.charge(MOUNT_CYCLES);
  const sb = new TmpfsSuperBlock({
    dev: ids.anonDev(),
    owner,
    pages: ctx.kernel.pages,
    fsType: 'devtmpfs',
    rootMode: 0o755,
    devices: new Devices(seed),
    time: nowSeconds(ctx),
  });
  for (const [name, rdev, perms] of DEVICE_NODES) {
    sb.root.create(ctx, name, { mode: S.IFCHR | perms, uid: 0, gid: 0, rdev });
  }
  for (const [name, target] of DEVICE_LINKS) {
    sb.root.create(ctx, name, { mode: S.IFLNK | 0o777, uid: 0, gid: 0, target });
  }
  sb.root.create(ctx, 'shm', { mode: S.IFDIR | 0o1777, uid: 0, gid: 0 });
  return sb;
}

/** A new procfs instance. */
export function makeProcfs(ctx: FsCtx, ids: FsIds): ProcSuperBlock {
  ctx.charge(MOUNT_CYCLES);
  return new ProcSuperBlock(ids.anonDev());
}

/** A new overlay of `lowers` (topmost first) under the writable directory `upper`. */
export function makeOverlay(
  ctx: FsCtx,
  ids: FsIds,
  upper: TmpInode,
  lowers: readonly TmpInode[],
): OverlaySuperBlock {
  ctx.charge(MOUNT_CYCLES);
  return new OverlaySuperBlock({ dev: ids.anonDev(), upper, lowers });
}
