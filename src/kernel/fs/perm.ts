/**
 * Permission checks (fs/namei.c generic_permission): owner, group or other bits against the task's
 * effective ids (or real ids for access(2)), mapped to global ids through its user namespace. A task
 * with id 0 in its namespace bypasses read and write checks on inodes whose owner is mapped there
 * (capable_wrt_inode_uidgid), and execute checks when some x bit is set or the inode is a directory.
 * SIMPLIFICATION: no supplementary groups, no ACLs, no sticky-bit rule.
 */
import type { TaskInfo } from '../core/ctx.js';
import type { UserNamespace } from '../core/namespaces.js';
import { Errno } from '../uapi/errno.js';
import { isDir, type Inode } from './inode.js';

/** Access being checked (MAY_EXEC, MAY_WRITE, MAY_READ). */
export const MAY = { EXEC: 1, WRITE: 2, READ: 4 } as const;

/** True if global id `id` has a mapping in `ns`. */
function mappedIn(ns: UserNamespace, id: number, kind: 'uid' | 'gid'): boolean {
  return ns.parent === undefined || ns.toGlobal(ns.fromGlobal(id, kind), kind) === id;
}

/** The task's effective (or real) uid and gid as global ids, and whether it is root in its namespace. */
export function taskIds(task: TaskInfo, real = false): { uid: number; gid: number; root: boolean } {
  const user = task.ns.user;
  const uid = real ? task.cred.uid : task.cred.euid;
  const gid = real ? task.cred.gid : task.cred.egid;
  return { uid: user.toGlobal(uid, 'uid'), gid: user.toGlobal(gid, 'gid'), root: uid === 0 };
}

/** True if the task is root in its user namespace with the inode's owner mapped there. */
export function capableOver(task: TaskInfo, inode: Inode, real = false): boolean {
  const ids = taskIds(task, real);
  const user = task.ns.user;
  return ids.root && mappedIn(user, inode.uid, 'uid') && mappedIn(user, inode.gid, 'gid');
}

/** 0 if `task` may access `inode` for `mask` (MAY_*), else -EACCES. */
export function permission(task: TaskInfo, inode: Inode, mask: number, real = false): number {
  const mode = inode.mode;
  if (capableOver(task, inode, real)) {
    if ((mask & MAY.EXEC) === 0 || isDir(inode) || (mode & 0o111) !== 0) return 0;
    return -Errno.EACCES;
  }
  const ids = taskIds(task, real);
  const shift = ids.uid === inode.uid ? 6 : ids.gid === inode.gid ? 3 : 0;
  const allowed = (mode >> shift) & 7;
  return (allowed & mask) === mask ? 0 : -Errno.EACCES;
}

/** True if the task owns `inode` (or is root over it): chmod, utimes. */
export function isOwner(task: TaskInfo, inode: Inode): boolean {
  return taskIds(task).uid === inode.uid || capableOver(task, inode);
}
