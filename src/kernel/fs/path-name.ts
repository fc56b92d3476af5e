/**
 * The name of a place in the mount tree as seen from a root (fs/d_path.c): used by getcwd,
 * /proc/<pid>/fd, /proc/mounts and execve's exe path.
 */
import type { PathRef } from './path-ref.js';
import { sameRef } from './path-ref.js';

/** A path and whether it lies under the root it was computed against. */
export interface PathName {
  readonly path: string;
  readonly reachable: boolean;
}

/** The absolute path of directory `ref` relative to `root` (walking parent directories and mounts). */
export function pathName(ref: PathRef, root: PathRef): PathName {
  const parts: string[] = [];
  let at = ref;
  let reachable = true;
  for (let guard = 0; !sameRef(at, root); guard++) {
    if (guard > 4096) {
      reachable = false;
      break;
    }
    if (at.inode === at.mount.root) {
      const parent = at.mount.parent;
      if (parent === undefined) {
        reachable = false;
        break;
      }
      at = { mount: parent, inode: at.mount.mountpoint! };
      continue;
    }
    const up = at.inode.parentDir;
    if (up === undefined || up === at.inode) {
      reachable = false;
      break;
    }
    parts.push(at.inode.dirName);
    at = { mount: at.mount, inode: up };
  }
  parts.reverse();
  return { path: '/' + parts.join('/'), reachable };
}

/** The path of `name` in directory `dir`, relative to `root`. */
export function childPathName(dir: PathRef, name: string, root: PathRef): PathName {
  const base = pathName(dir, root);
  if (name === '' || name === '.') return base;
  return { path: base.path === '/' ? `/${name}` : `${base.path}/${name}`, reachable: base.reachable };
}
