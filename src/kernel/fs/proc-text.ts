/**
 * The text of procfs files, generated from kernel bookkeeping when read (seq_file style): status,
 * maps, mounts, comm. Formats follow fs/proc/array.c, fs/proc/task_mmu.c and fs/proc_namespace.c.
 */
import type { TaskInfo } from '../core/ctx.js';
import type { PidNamespace } from '../core/namespaces.js';
import { PROT } from '../uapi/flags.js';
import { pathName } from './path-name.js';

const STATE_NAMES: Readonly<Record<TaskInfo['state'], string>> = {
  running: 'R (running)',
  runnable: 'R (running)',
  sleeping: 'S (sleeping)',
  zombie: 'Z (zombie)',
};

/** What the reader of a procfs file is: its pid namespace and user namespace. */
export interface ProcReader {
  readonly task: TaskInfo;
  /** The task with global tid `tid`. */
  lookup(tid: number): TaskInfo | undefined;
  /** Threads of thread group `tgid`. */
  threads(tgid: number): number;
}

/** /proc/<pid>/status. */
export function statusText(reader: ProcReader, task: TaskInfo, umask: number): string {
  const ns = reader.task.ns.pid;
  const parent = reader.lookup(task.parentTgid);
  const ids = (kind: 'uid' | 'gid'): string => {
    const c = task.cred;
    const values = kind === 'uid' ? [c.uid, c.euid, c.suid, c.euid] : [c.gid, c.egid, c.sgid, c.egid];
    return values
      .map((id) => reader.task.ns.user.fromGlobal(task.ns.user.toGlobal(id, kind), kind))
      .join('\t');
  };
  const leader = reader.lookup(task.tgid) ?? task;
  const lines = [
    `Name:\t${task.comm}`,
    `Umask:\t${umask.toString(8).padStart(4, '0')}`,
    `State:\t${STATE_NAMES[task.state]}`,
    `Tgid:\t${leader.pidIn(ns)}`,
    `Ngid:\t0`,
    `Pid:\t${task.pidIn(ns)}`,
    `PPid:\t${parent?.pidIn(ns) ?? 0}`,
    `TracerPid:\t0`,
    `Uid:\t${ids('uid')}`,
    `Gid:\t${ids('gid')}`,
    `FDSize:\t64`,
    `NStgid:\t${nsPids(leader, ns).join('\t')}`,
    `NSpid:\t${nsPids(task, ns).join('\t')}`,
    `Threads:\t${reader.threads(task.tgid)}`,
  ];
  return lines.join('\n') + '\n';
}

/** The pids of `task` from namespace `from` down to its own namespace (the NSpid line). */
function nsPids(task: TaskInfo, from: PidNamespace): number[] {
  const chain: PidNamespace[] = [];
  for (let ns: PidNamespace | undefined = task.ns.pid; ns !== undefined; ns = ns.parent) {
    chain.push(ns);
    if (ns === from) break;
  }
  chain.reverse();
  return chain.map((ns) => task.pidIn(ns));
}

/** /proc/<pid>/maps. */
export function mapsText(task: TaskInfo): string {
  let out = '';
  for (const vma of task.vmas()) {
    const perms =
      ((vma.prot & PROT.READ) !== 0 ? 'r' : '-') +
      ((vma.prot & PROT.WRITE) !== 0 ? 'w' : '-') +
      ((vma.prot & PROT.EXEC) !== 0 ? 'x' : '-') +
      (vma.shared ? 's' : 'p');
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    // show_map_vma: the header ends with a space; a name starts at column 73 (seq_pad).
    let line = `${hex(vma.start)}-${hex(vma.end)} ${perms} 00000000 00:00 0 `;
    if (vma.name !== '') line = line.padEnd(73, ' ') + vma.name;
    out += line + '\n';
  }
  return out;
}

/** Escape for /proc/mounts fields (space, tab, newline and backslash as octal, like mangle()). */
function mangle(field: string): string {
  return field.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

/** /proc/<pid>/mounts: the task's mounts reachable from its root, as the task sees them. */
export function mountsText(task: TaskInfo): string {
  let out = '';
  for (const mount of task.ns.mnt.mounts()) {
    const where = pathName({ mount, inode: mount.root }, task.fs.root);
    if (!where.reachable) continue;
    out += `${mangle(mount.source)} ${mangle(where.path)} ${mount.sb.fsType} ${mount.optionString()} 0 0\n`;
  }
  return out;
}
