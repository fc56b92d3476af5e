/**
 * The file-system state of a task (Linux struct fs_struct): its root and current directory as
 * (mount, inode) refs, and its umask. fork copies it (clone()); sharing with CLONE_FS is not modelled.
 */
import type { MountNamespace } from './mount-namespace.js';
import type { PathRef } from './path-ref.js';

/** Root, current directory and umask of a task. */
export class FsState {
  root: PathRef;
  cwd: PathRef;
  /** Creation mask (umask(2)). */
  umask: number;

  constructor(root: PathRef, cwd: PathRef = root, umask = 0o022) {
    this.root = root;
    this.cwd = cwd;
    this.umask = umask;
  }

  /** Root and cwd at the root of `ns`. */
  static at(ns: MountNamespace): FsState {
    return new FsState(ns.rootRef());
  }

  /** A copy for fork. */
  clone(): FsState {
    return new FsState(this.root, this.cwd, this.umask);
  }

  /** After unshare(CLONE_NEWNS): move root and cwd to the copies of their mounts in `ns`. */
  rebase(ns: MountNamespace): void {
    this.root = ns.translateRef(this.root);
    this.cwd = ns.translateRef(this.cwd);
  }

  /** setns into `ns` (or a container start): root and cwd become the namespace root. */
  enter(ns: MountNamespace): void {
    this.root = ns.rootRef();
    this.cwd = this.root;
  }
}
