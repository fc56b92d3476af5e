/**
 * Namespaces of a task (Linux nsproxy plus the user namespace). The mount and network namespaces
 * belong to their subsystems; uts, pid and user are small enough to live here.
 */
import type { MountNamespace } from '../fs/mount-namespace.js';
import type { NetNamespace } from '../net/net-namespace.js';

/** UTS namespace: host and domain name. */
export class UtsNamespace {
  hostname: string;
  domainname: string;

  constructor(hostname: string, domainname = '(none)') {
    this.hostname = hostname;
    this.domainname = domainname;
  }

  clone(): UtsNamespace {
    return new UtsNamespace(this.hostname, this.domainname);
  }
}

/** PID namespace: its own pid numbering, nested in a parent. */
export class PidNamespace {
  private nextPid = 1;
  readonly level: number;
  readonly parent: PidNamespace | undefined;

  constructor(parent: PidNamespace | undefined) {
    this.parent = parent;
    this.level = parent === undefined ? 0 : parent.level + 1;
  }

  /** The next pid in this namespace. */
  allocate(): number {
    return this.nextPid++;
  }

  /** True if `ns` is this namespace or one of its ancestors. */
  isWithin(ns: PidNamespace): boolean {
    for (let at: PidNamespace | undefined = ns === this ? undefined : this.parent; ; at = at.parent) {
      if (ns === this || at === ns) return true;
      if (at === undefined) return false;
    }
  }
}

/** One uid_map / gid_map line: ids [inside, inside + count) map to [outside, outside + count). */
export interface IdMapping {
  readonly inside: number;
  readonly outside: number;
  readonly count: number;
}

/** User namespace: uid and gid maps to the parent namespace. */
export class UserNamespace {
  readonly parent: UserNamespace | undefined;
  readonly uidMap: IdMapping[];
  readonly gidMap: IdMapping[];
  /** Global uid of the namespace's creator (owner). */
  readonly owner: number;

  constructor(
    parent: UserNamespace | undefined,
    uidMap: IdMapping[] = [],
    gidMap: IdMapping[] = [],
    owner = 0,
  ) {
    this.parent = parent;
    this.uidMap = uidMap;
    this.gidMap = gidMap;
    this.owner = owner;
  }

  /** Map an id of this namespace to the initial namespace (-1 if unmapped). */
  toGlobal(id: number, kind: 'uid' | 'gid'): number {
    let value = id;
    for (const ns of this.chain()) {
      const map = kind === 'uid' ? ns.uidMap : ns.gidMap;
      const m = map.find((e) => value >= e.inside && value < e.inside + e.count);
      if (m === undefined) return -1;
      value = m.outside + (value - m.inside);
    }
    return value;
  }

  /** This namespace and its ancestors below the initial one, innermost first. */
  private chain(): UserNamespace[] {
    const out: UserNamespace[] = [];
    if (this.parent === undefined) return out;
    out.push(this);
    for (let ns = this.parent; ns.parent !== undefined; ns = ns.parent) out.push(ns);
    return out;
  }

  /** Map a global id into this namespace (65534, the overflow id, if unmapped). */
  fromGlobal(id: number, kind: 'uid' | 'gid'): number {
    let value = id;
    for (const ns of this.chain().reverse()) {
      const map = kind === 'uid' ? ns.uidMap : ns.gidMap;
      const m = map.find((e) => value >= e.outside && value < e.outside + e.count);
      if (m === undefined) return 65534;
      value = m.inside + (value - m.outside);
    }
    return value;
  }
}

/** The namespaces of a task. */
export interface Namespaces {
  mnt: MountNamespace;
  pid: PidNamespace;
  uts: UtsNamespace;
  user: UserNamespace;
  net: NetNamespace;
}
