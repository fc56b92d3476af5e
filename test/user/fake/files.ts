/** Open files of the fake kernel: regular files, directories, devices, pipes, stream sockets. */
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { DT, O, S } from '../../../src/kernel/uapi/flags.js';
import { encodeDirent } from '../../../src/kernel/uapi/structs.js';
import type { DirNode, FileNode, FsNode } from './fs.js';

/** A call that would block (the kernel retries it later). */
export const BLOCK = -512;

/** A byte queue with reader and writer counts (a pipe, or one direction of a socket). */
export class ByteQueue {
  private data = new Uint8Array(0);
  readers = 1;
  writers = 1;
  readonly capacity: number;
  constructor(capacity = 64 * 1024) {
    this.capacity = capacity;
  }
  get length(): number {
    return this.data.length;
  }
  /** Read up to `max` bytes: the bytes, 'eof', or BLOCK. */
  read(max: number): Uint8Array | 'eof' | typeof BLOCK {
    if (this.data.length === 0) return this.writers === 0 ? 'eof' : BLOCK;
    const out = this.data.slice(0, max);
    this.data = this.data.slice(out.length);
    return out;
  }
  /** Write: bytes accepted, -EPIPE, or BLOCK when full. */
  write(bytes: Uint8Array): number {
    if (this.readers === 0) return -Errno.EPIPE;
    const room = this.capacity - this.data.length;
    if (room <= 0) return BLOCK;
    const n = Math.min(room, bytes.length);
    const joined = new Uint8Array(this.data.length + n);
    joined.set(this.data);
    joined.set(bytes.subarray(0, n), this.data.length);
    this.data = joined;
    return n;
  }
  /** Bytes waiting (for canary searches). */
  peek(): Uint8Array {
    return this.data;
  }
}

/** An open file description. */
export interface OpenFile {
  refs: number;
  flags: number;
  /** st_mode type bits for fstat. */
  readonly type: number;
  readonly node?: FsNode;
  read(length: number): Uint8Array | number;
  write(bytes: Uint8Array): number;
  release(): void;
}

abstract class Base implements OpenFile {
  refs = 1;
  flags: number;
  abstract readonly type: number;
  constructor(flags: number) {
    this.flags = flags;
  }
  read(_length: number): Uint8Array | number {
    return -Errno.EBADF;
  }
  write(_bytes: Uint8Array): number {
    return -Errno.EBADF;
  }
  release(): void {}
}

export class RegularFile extends Base {
  readonly type = S.IFREG;
  readonly node: FileNode;
  offset = 0;
  constructor(node: FileNode, flags: number) {
    super(flags);
    this.node = node;
  }
  override read(length: number): Uint8Array {
    const out = this.node.data.slice(this.offset, Math.min(this.node.size, this.offset + length));
    this.offset += out.length;
    return out;
  }
  override write(bytes: Uint8Array): number {
    if ((this.flags & O.ACCMODE) === O.RDONLY) return -Errno.EBADF;
    if (this.flags & O.APPEND) this.offset = this.node.size;
    const end = this.offset + bytes.length;
    if (end > this.node.data.length) {
      const grown = new Uint8Array(Math.max(end, 2 * this.node.data.length));
      grown.set(this.node.data.subarray(0, this.node.size));
      this.node.data = grown;
    }
    this.node.data.set(bytes, this.offset);
    this.offset = end;
    this.node.size = Math.max(this.node.size, end);
    return bytes.length;
  }
}

export class DirFile extends Base {
  readonly type = S.IFDIR;
  readonly node: DirNode;
  private position = 0;
  constructor(node: DirNode, flags: number) {
    super(flags);
    this.node = node;
  }
  /** linux_dirent64 records fitting in `length` bytes. */
  dirents(length: number): Uint8Array | number {
    const all: [string, FsNode][] = [['.', this.node], ['..', this.node.parent], ...this.node.entries];
    const parts: Uint8Array[] = [];
    let total = 0;
    while (this.position < all.length) {
      const [name, node] = all[this.position]!;
      const type =
        node.kind === 'dir' ? DT.DIR : node.kind === 'link' ? DT.LNK : node.kind === 'dev' ? DT.CHR : DT.REG;
      const record = encodeDirent(node.ino, this.position + 1, type, name);
      if (total + record.length > length) break;
      parts.push(record);
      total += record.length;
      this.position++;
    }
    if (parts.length === 0 && this.position < all.length) return -Errno.EINVAL;
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
  override read(): number {
    return -Errno.EISDIR;
  }
}

export class DevFile extends Base {
  readonly type = S.IFCHR;
  private readonly kind: 'null' | 'zero';
  constructor(kind: 'null' | 'zero', flags: number) {
    super(flags);
    this.kind = kind;
  }
  override read(length: number): Uint8Array {
    return this.kind === 'zero' ? new Uint8Array(length) : new Uint8Array(0);
  }
  override write(bytes: Uint8Array): number {
    return bytes.length;
  }
}

/** The console: output appended to a sink, input from a fixed text. */
export class ConsoleFile extends Base {
  readonly type = S.IFCHR;
  private readonly sink: (bytes: Uint8Array) => void;
  private readonly input: ByteQueue;
  constructor(sink: (bytes: Uint8Array) => void, input: ByteQueue) {
    super(O.RDWR);
    this.sink = sink;
    this.input = input;
  }
  override read(length: number): Uint8Array | number {
    const r = this.input.read(length);
    return r === 'eof' ? new Uint8Array(0) : r;
  }
  override write(bytes: Uint8Array): number {
    this.sink(bytes.slice());
    return bytes.length;
  }
}

export class PipeEnd extends Base {
  readonly type = S.IFIFO;
  readonly queue: ByteQueue;
  readonly reading: boolean;
  constructor(queue: ByteQueue, reading: boolean, flags: number) {
    super(flags);
    this.queue = queue;
    this.reading = reading;
  }
  override read(length: number): Uint8Array | number {
    if (!this.reading) return -Errno.EBADF;
    const r = this.queue.read(length);
    return r === 'eof' ? new Uint8Array(0) : r;
  }
  override write(bytes: Uint8Array): number {
    if (this.reading) return -Errno.EBADF;
    return this.queue.write(bytes);
  }
  override release(): void {
    if (this.reading) this.queue.readers--;
    else this.queue.writers--;
  }
}

/** A stream socket (AF_UNIX or AF_INET loopback). */
export class SocketFile extends Base {
  readonly type = S.IFSOCK;
  state: 'new' | 'listening' | 'connected' = 'new';
  port = 0;
  readonly backlog: SocketFile[] = [];
  /** What we receive / what we send into. */
  rx: ByteQueue | undefined;
  tx: ByteQueue | undefined;
  private shutWrite = false;
  onRelease: (() => void) | undefined;

  /** Connect two sockets. */
  static pair(a: SocketFile, b: SocketFile): void {
    const ab = new ByteQueue(256 * 1024);
    const ba = new ByteQueue(256 * 1024);
    a.tx = ab;
    b.rx = ab;
    b.tx = ba;
    a.rx = ba;
    a.state = b.state = 'connected';
  }
  override read(length: number): Uint8Array | number {
    if (this.rx === undefined) return -Errno.ENOTCONN;
    const r = this.rx.read(length);
    return r === 'eof' ? new Uint8Array(0) : r;
  }
  override write(bytes: Uint8Array): number {
    if (this.tx === undefined) return -Errno.ENOTCONN;
    if (this.shutWrite) return -Errno.EPIPE;
    return this.tx.write(bytes);
  }
  shutdownWrite(): void {
    if (!this.shutWrite && this.tx !== undefined) this.tx.writers--;
    this.shutWrite = true;
  }
  override release(): void {
    this.shutdownWrite();
    if (this.rx !== undefined) this.rx.readers--;
    this.onRelease?.();
  }
}

/** An fd table. */
export class FdTable {
  readonly fds = new Map<number, { file: OpenFile; cloexec: boolean }>();
  /** Install at the lowest free fd ≥ `from`. */
  install(file: OpenFile, cloexec: boolean, from = 0): number {
    let fd = from;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, { file, cloexec });
    return fd;
  }
  get(fd: number): OpenFile | undefined {
    return this.fds.get(fd)?.file;
  }
  close(fd: number): number {
    const entry = this.fds.get(fd);
    if (entry === undefined) return -Errno.EBADF;
    this.fds.delete(fd);
    if (--entry.file.refs === 0) entry.file.release();
    return 0;
  }
  closeAll(): void {
    for (const fd of [...this.fds.keys()]) this.close(fd);
  }
  clone(): FdTable {
    const copy = new FdTable();
    for (const [fd, entry] of this.fds) {
      entry.file.refs++;
      copy.fds.set(fd, { ...entry });
    }
    return copy;
  }
}
