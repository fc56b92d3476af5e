/**
 * Finding and reading an executable for execve: path walk, exec permission, the image format
 * (user/program.ts's `\x7fRCX` header; `#!` scripts run by their interpreter; anything else,
 * an ELF binary included, is ENOEXEC), and the image's pages for the text mapping.
 */
import { createHash } from 'node:crypto';
import type { SysCtx } from '../core/ctx.js';
import type { Inode } from '../fs/inode.js';
import { vfsFileOf } from '../fs/vfs-file.js';
import { releaseFile, resolveExecutable } from '../fs/vfs.js';
import type { MappedFile } from '../mm/vma.js';
import { Errno } from '../uapi/errno.js';

/** Largest executable image (text) the loader maps. */
export const MAX_IMAGE_BYTES = 16 * 2 ** 20;

/** An executable found for execve. */
export interface ExecFile {
  readonly inode: Inode;
  /** Absolute path as the caller's root sees it (/proc/<pid>/exe). */
  readonly path: string;
  readonly header: Uint8Array;
  readonly size: number;
}

/** Look up `path` and check that the caller may execute it (vfs.ts resolveExecutable). */
export function findExecutable(ctx: SysCtx, path: string): ExecFile | number {
  const target = resolveExecutable(ctx, path);
  if (typeof target === 'number') return target;
  const inode = vfsFileOf(target.file)!.inode;
  releaseFile(target.file);
  if (inode.size > MAX_IMAGE_BYTES) return -Errno.E2BIG;
  return { inode, path: target.exePath, header: target.header, size: inode.size };
}

/** SHA-256 of the whole image (what the mini-OS checks against the measured image). */
export function imageDigest(ctx: SysCtx, file: ExecFile): Uint8Array | number {
  const hash = createHash('sha256');
  for (let offset = 0; offset < file.size; offset += 4096) {
    const chunk = file.inode.readKernel?.(ctx, offset, Math.min(4096, file.size - offset));
    if (chunk === undefined) return -Errno.EIO;
    hash.update(chunk);
  }
  return new Uint8Array(hash.digest());
}

/** The interpreter line of a `#!` script: [interpreter, optional argument], or undefined. */
export function scriptInterpreter(header: Uint8Array): string[] | undefined {
  if (header[0] !== 0x23 || header[1] !== 0x21) return undefined;
  const end = header.indexOf(0x0a);
  const line = new TextDecoder().decode(header.subarray(2, end < 0 ? header.length : end)).trim();
  if (line === '') return undefined;
  const space = line.search(/\s/);
  return space < 0 ? [line] : [line.slice(0, space), line.slice(space).trim()];
}

/** The image's pages as a mapped file, for the text VMA. */
export function mappedImage(ctx: SysCtx, file: ExecFile): MappedFile {
  const inode = file.inode;
  const owner = inode.sb.owner;
  const kernel = ctx.kernel;
  const pe = ctx.pe;
  let holders = 0;
  return {
    path: file.path,
    noExec: false, // execve already refused a noexec mount
    page(offset) {
      if (offset >= inode.size) return undefined;
      const kva = inode.page?.(
        {
          pe,
          kernel,
          kread: ctx.kread.bind(ctx),
          kwrite: ctx.kwrite.bind(ctx),
          charge: ctx.charge.bind(ctx),
          now: ctx.now.bind(ctx),
        },
        offset / 4096,
        false,
      );
      if (kva === undefined) return undefined;
      const pa = kernel.pages.paOf(owner, kva);
      return pa === undefined ? undefined : { kva, pa };
    },
    retain() {
      if (holders++ === 0) inode.retain?.();
    },
    release() {
      if (--holders === 0) inode.release?.();
    },
  };
}
