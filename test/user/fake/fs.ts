/** The fake kernel's in-memory file system: directories, files, symlinks, devices. */
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { S } from '../../../src/kernel/uapi/flags.js';

export type DevKind = 'null' | 'zero' | 'console';

interface NodeBase {
  readonly ino: number;
  mode: number;
  nlink: number;
  mtime: number;
}
export interface DirNode extends NodeBase {
  readonly kind: 'dir';
  entries: Map<string, FsNode>;
  parent: DirNode;
}
export interface FileNode extends NodeBase {
  readonly kind: 'file';
  data: Uint8Array;
  size: number;
}
export interface LinkNode extends NodeBase {
  readonly kind: 'link';
  readonly target: string;
}
export interface DevNode extends NodeBase {
  readonly kind: 'dev';
  readonly dev: DevKind;
}
export type FsNode = DirNode | FileNode | LinkNode | DevNode;

/** A resolved path: the node (if it exists), its parent directory and last name. */
export interface Lookup {
  readonly node: FsNode | undefined;
  readonly parent: DirNode;
  readonly name: string;
}

let nextIno = 1;

/** A tree of nodes. */
export class FakeFs {
  readonly root: DirNode;
  /** Called before a lookup under /proc (the kernel regenerates it). */
  onProc: (() => void) | undefined;

  constructor() {
    const root = {
      kind: 'dir',
      ino: nextIno++,
      mode: S.IFDIR | 0o755,
      nlink: 2,
      mtime: 0,
      entries: new Map(),
    } as unknown as DirNode;
    root.parent = root;
    this.root = root;
  }

  newDir(parent: DirNode, mode = 0o755): DirNode {
    return {
      kind: 'dir',
      ino: nextIno++,
      mode: S.IFDIR | mode,
      nlink: 2,
      mtime: 0,
      entries: new Map(),
      parent,
    };
  }
  newFile(data: Uint8Array, mode = 0o644): FileNode {
    return {
      kind: 'file',
      ino: nextIno++,
      mode: S.IFREG | mode,
      nlink: 1,
      mtime: 0,
      data,
      size: data.length,
    };
  }
  newLink(target: string): LinkNode {
    return { kind: 'link', ino: nextIno++, mode: S.IFLNK | 0o777, nlink: 1, mtime: 0, target };
  }
  newDev(dev: DevKind): DevNode {
    return { kind: 'dev', ino: nextIno++, mode: S.IFCHR | 0o666, nlink: 1, mtime: 0, dev };
  }

  /** The absolute path of a directory. */
  pathOf(dir: DirNode): string {
    const parts: string[] = [];
    for (let d = dir; d !== this.root; d = d.parent) {
      const name = [...d.parent.entries].find(([, node]) => node === d)?.[0] ?? '?';
      parts.unshift(name);
    }
    return `/${parts.join('/')}`;
  }

  /** Resolve `path` from `cwd`; follow a final symlink when `follow`. */
  lookup(cwd: DirNode, path: string, follow = true, depth = 0): Lookup | number {
    if (depth > 40) return -Errno.ELOOP;
    if (path === '') return -Errno.ENOENT;
    if (path.startsWith('/proc') && this.onProc !== undefined) this.onProc();
    let dir = path.startsWith('/') ? this.root : cwd;
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0) return { node: dir, parent: dir.parent, name: '.' };
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const last = i === parts.length - 1;
      if (name === '..') {
        dir = dir.parent;
        if (last) return { node: dir, parent: dir.parent, name: '..' };
        continue;
      }
      let node = dir.entries.get(name);
      if (node?.kind === 'link' && (!last || follow)) {
        const target = this.lookup(dir, node.target, true, depth + 1);
        if (typeof target === 'number') return last ? { node: undefined, parent: dir, name } : target;
        node = target.node;
      }
      if (last) return { node, parent: dir, name };
      if (node === undefined) return -Errno.ENOENT;
      if (node.kind !== 'dir') return -Errno.ENOTDIR;
      dir = node;
    }
    return -Errno.ENOENT;
  }

  /** Create directories along `path` (absolute). */
  mkdirs(path: string): DirNode {
    let dir = this.root;
    for (const name of path.split('/').filter((p) => p !== '')) {
      let node = dir.entries.get(name);
      if (node === undefined) {
        node = this.newDir(dir);
        dir.entries.set(name, node);
      }
      if (node.kind !== 'dir') throw new Error(`${path}: not a directory`);
      dir = node;
    }
    return dir;
  }

  /** Create or replace file `path` (absolute) with `content`. */
  writeFile(path: string, content: string | Uint8Array, mode = 0o644): FileNode {
    const slash = path.lastIndexOf('/');
    const dir = this.mkdirs(path.slice(0, slash));
    const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const node = this.newFile(data, mode);
    dir.entries.set(path.slice(slash + 1), node);
    return node;
  }

  /** The content of file `path`, or undefined. */
  readFile(path: string): Uint8Array | undefined {
    const found = this.lookup(this.root, path);
    if (typeof found === 'number' || found.node?.kind !== 'file') return undefined;
    return found.node.data.subarray(0, found.node.size);
  }

  /** The text of file `path`, or undefined. */
  readText(path: string): string | undefined {
    const data = this.readFile(path);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }
}
