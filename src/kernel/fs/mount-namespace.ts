/**
 * Mount namespaces: a tree of mounts with one root. clone() gives an independent copy for
 * CLONE_NEWNS / unshare (the same file systems, new mount objects); tasks' FsState refs are moved
 * into the copy with FsState.rebase. Mount ids and device numbers come from the kernel's
 * {@link FsIds}, shared by every namespace of the kernel.
 */
import type { FsIds } from './fs-ids.js';
import type { Inode, SuperBlock } from './inode.js';
import { Mount } from './mount.js';
import type { PathRef } from './path-ref.js';

/** A mount namespace. */
export class MountNamespace {
  /** The root mount. */
  root: Mount;
  readonly ids: FsIds;
  /** For a clone: the original mount → its copy here. */
  private readonly copies: Map<Mount, Mount>;

  constructor(root: Mount, ids: FsIds, copies: Map<Mount, Mount> = new Map()) {
    this.root = root;
    this.ids = ids;
    this.copies = copies;
  }

  /** A namespace whose root mount is `sb` (or its subtree `root`). */
  static create(
    ids: FsIds,
    sb: SuperBlock,
    source: string,
    flags = 0,
    root: Inode = sb.root,
  ): MountNamespace {
    return new MountNamespace(new Mount(ids.mountId(), sb, root, source, flags), ids);
  }

  /** The root of the namespace as a path. */
  rootRef(): PathRef {
    return { mount: this.root, inode: this.root.root };
  }

  /** A new mount of this kernel (not attached yet). */
  newMount(sb: SuperBlock, root: Inode, source: string, flags: number): Mount {
    return new Mount(this.ids.mountId(), sb, root, source, flags);
  }

  /** Every mount of the namespace, parents first (the order of /proc/mounts). */
  mounts(): Mount[] {
    const out: Mount[] = [];
    const visit = (mount: Mount): void => {
      out.push(mount);
      for (const child of mount.children) visit(child);
    };
    visit(this.root);
    return out;
  }

  /** True if `mount` belongs to this namespace. */
  contains(mount: Mount): boolean {
    let at: Mount | undefined = mount;
    while (at?.parent !== undefined) at = at.parent;
    return at === this.root;
  }

  /** An independent copy of the tree (CLONE_NEWNS): same file systems, new mounts. */
  clone(): MountNamespace {
    const copies = new Map<Mount, Mount>();
    const copyTree = (mount: Mount): Mount => {
      const copy = new Mount(this.ids.mountId(), mount.sb, mount.root, mount.source, mount.flags);
      copies.set(mount, copy);
      for (const child of mount.children) copy.attach(copyTree(child), child.mountpoint!);
      return copy;
    };
    const root = copyTree(this.root);
    // A clone of a clone still translates refs of the first namespace.
    for (const [original, copy] of this.copies) {
      const second = copies.get(copy);
      if (second !== undefined) copies.set(original, second);
    }
    return new MountNamespace(root, this.ids, copies);
  }

  /** The mount of this namespace that corresponds to `mount` of the namespace it was cloned from. */
  translate(mount: Mount): Mount | undefined {
    if (this.contains(mount)) return mount;
    return this.copies.get(mount);
  }

  /** Move `ref` into this namespace (after clone), or to the root if it has no counterpart. */
  translateRef(ref: PathRef): PathRef {
    const mount = this.translate(ref.mount);
    return mount === undefined ? this.rootRef() : { mount, inode: ref.inode };
  }
}
