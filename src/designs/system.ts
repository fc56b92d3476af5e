/**
 * A complete simulated system: a machine, the platform of one design, the kernel on it with its
 * root file system (every program installed as /bin/<name>), and the EL0 runner. Programs start as
 * the init of a container (`spawn`), under either design, with the same image and arguments, so
 * that their output is the same and only time and counters differ.
 */
import { createHash } from 'node:crypto';
import { Machine, type MachineParamsInput } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import { PidNamespace, UtsNamespace, type Namespaces } from '../kernel/core/namespaces.js';
import type { ThreadGroup } from '../kernel/core/task.js';
import { FsState } from '../kernel/fs/fs-state.js';
import type { TmpfsSuperBlock } from '../kernel/fs/tmpfs.js';
import type { MountNamespace } from '../kernel/fs/mount-namespace.js';
import { isDir } from '../kernel/fs/inode.js';
import { lookupPath } from '../kernel/fs/namei.js';
import { openPath } from '../kernel/fs/open.js';
import { fsCtxFor, populate, Vfs, type FsCtx } from '../kernel/fs/vfs.js';
import type { Platform } from '../kernel/hooks.js';
import { DiskStore } from '../kernel/block/disk-store.js';
import { Kernel } from '../kernel/kernel.js';
import { NetNamespace } from '../kernel/net/net-namespace.js';
import { loadProgram } from '../kernel/proc/exec.js';
import { installSyscalls } from '../kernel/syscall-table.js';
import { Errno } from '../kernel/uapi/errno.js';
import { AT_FDCWD, O } from '../kernel/uapi/flags.js';
import { ExecPolicy } from '../minios/abi.js';
import { registerPrograms } from '../user/programs/index.js';
import { executableImage, ProgramRegistry, type ProgramMain } from '../user/program.js';
import { NativePlatform } from './native.js';
import { RcontainerPlatform } from './rcontainer.js';
import { UserRunner } from './runner.js';
import { runLoop, type LoopEnd } from './sim-loop.js';

/** The designs that can run the kernel. */
export const DESIGNS = ['native', 'rcontainer'] as const;
export type DesignName = (typeof DESIGNS)[number];

/** Options of a system. */
export interface SystemOptions {
  readonly design: DesignName;
  readonly cpus?: number;
  readonly seed?: string | number;
  /** DRAM bytes (default 1 GiB). */
  readonly dramBytes?: number;
  readonly cpu?: MachineParamsInput['cpu'];
  readonly gptTaggedTlb?: boolean;
  readonly consoleInput?: Uint8Array;
  /** Keep the console transcript (outputText; default true). A long-lived daemon drains logs instead. */
  readonly keepOutput?: boolean;
  /** Programs to install besides the standard ones (/bin/<name>; tests use this). */
  readonly programs?: Readonly<Record<string, ProgramMain>>;
}

/** What a process is started with. */
export interface ProcessOptions {
  readonly argv: readonly string[];
  readonly env?: readonly string[];
  /** Credentials (global ids; default root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Working directory (default `/`); it must exist in the container. */
  readonly cwd?: string;
  /**
   * A console session of its own even as a host process (the runtime talks to it, e.g. a port
   * relay); other host processes share session 0.
   */
  readonly ownSession?: boolean;
}

/** What a container is created with (defaults: the built-in layer with every program). */
export interface ContainerOptions {
  readonly hostname?: string;
  /** Read-only lower layers of its root, topmost first. */
  readonly layers?: readonly TmpfsSuperBlock[];
  /** SHA-256 of every executable of its image (what the mini-OS measures). */
  readonly binaries?: readonly Uint8Array[];
  /** Image configuration bytes (measured). */
  readonly config?: Uint8Array;
  /** Exec policy (minios/abi.ts ExecPolicy). */
  readonly policy?: number;
  /** Limit of the container's user memory in bytes (`--memory`): over it, a fault is an OOM kill. */
  readonly memoryLimitBytes?: number;
  readonly argv?: readonly string[];
  readonly env?: readonly string[];
}

/** What `spawn` takes: a container and its first process, or a host process. */
export interface SpawnOptions extends ProcessOptions, Omit<ContainerOptions, 'argv' | 'env'> {
  /** Run as a host process instead of a container's init. */
  readonly host?: boolean;
}

/** A running system. */
export class SimSystem {
  readonly machine: Machine;
  readonly platform: Platform & { readonly design: DesignName };
  readonly kernel: Kernel;
  readonly runner: UserRunner;
  readonly vfs = new Vfs();
  /** The block layer: every context's disk on the machine's block device. */
  readonly disks: DiskStore;
  readonly hostNs: MountNamespace;
  /** Containers by id: their namespaces and their first process. */
  private readonly containers = new Map<number, { ns: Namespaces; init: ThreadGroup | undefined }>();
  /** Console session of each process started from outside (0: a container's init). */
  private readonly sessions = new WeakMap<ThreadGroup, number>();
  private nextSession = 1;
  /** The image layer every container's root is an overlay over (all programs in /bin). */
  private readonly imageLayer: ReturnType<Vfs['createLayer']>;
  private readonly imageDigests: Uint8Array[];

  constructor(options: SystemOptions) {
    const cpus = options.cpus ?? 1;
    this.machine = new Machine({
      dram: [{ name: 'dram0', base: 0x8000_0000, size: options.dramBytes ?? 2 ** 30 }],
      pes: cpus,
      ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
      ...(options.gptTaggedTlb !== undefined ? { gptTaggedTlb: options.gptTaggedTlb } : {}),
    });
    const seed = options.seed ?? 'rcontainer-sim';
    this.platform =
      options.design === 'native'
        ? new NativePlatform(this.machine, { seed })
        : new RcontainerPlatform(this.machine, { seed });
    this.kernel = new Kernel(this.platform, {
      ...(options.consoleInput ? { consoleInput: options.consoleInput } : {}),
      ...(options.keepOutput !== undefined ? { keepOutput: options.keepOutput } : {}),
    });
    installSyscalls(this.kernel);
    const registry = new ProgramRegistry();
    registerPrograms(registry);
    for (const [name, main] of Object.entries(options.programs ?? {})) registry.register(name, main);
    this.runner = new UserRunner(this.machine, registry);
    const ctx = this.bootCtx();
    this.hostNs = this.vfs.createRootNamespace(ctx);
    this.imageLayer = this.vfs.createLayer(ctx, 0);
    const digests = new Map<string, Uint8Array>();
    for (const name of registry.names()) {
      const image = executableImage(name);
      digests.set(name, new Uint8Array(createHash('sha256').update(image).digest()));
      for (const where of [this.hostNs, this.imageLayer.root])
        populate(ctx, where, `/bin/${name}`, image, 0o755);
    }
    const passwd = new TextEncoder().encode(
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
    );
    const group = new TextEncoder().encode('root:x:0:\nnobody:x:65534:\n');
    for (const where of [this.hostNs, this.imageLayer.root]) {
      populate(ctx, where, '/etc/passwd', passwd, 0o644);
      populate(ctx, where, '/etc/group', group, 0o644);
    }
    this.imageDigests = [...digests.values()];
    // Containers' upper layers keep their page cache in their own kernel pages, backed by their
    // disk (sealed by the mini-OS under rcontainer).
    this.disks = new DiskStore(this.platform);
    this.vfs.pageBacking = this.disks;
    this.kernel.start(this.hostNs);
  }

  private bootCtx(): FsCtx {
    const pe = this.machine.pes[0]!;
    return fsCtxFor(pe, this.kernel, () => this.kernel.nanoseconds(pe));
  }

  /**
   * Start `argv[0]` as the init of a new container (or as a host process): returns its process,
   * whose exitStatus is set when it ends.
   */
  spawn(options: SpawnOptions): ThreadGroup {
    if (options.host === true) return this.startProcess(0, options);
    const cid = this.createContainer(options);
    return this.startProcess(cid, options);
  }

  /**
   * Create a container (its shim, measured launch data and namespaces) without starting anything
   * in it: its id.
   */
  createContainer(options: ContainerOptions = {}): number {
    const pe = this.machine.pes[0]!;
    const kernel = this.kernel;
    // The lowest free id: ids of destroyed containers are reused (the mini-OS has 2047 of them).
    let cid = 1;
    while (this.containers.has(cid)) cid++;
    const config =
      options.config ??
      new TextEncoder().encode(JSON.stringify({ argv: options.argv ?? [], env: options.env ?? [] }));
    const created = this.platform.containerCreate(pe, cid, {
      binaries: options.binaries ?? this.imageDigests,
      config,
      policy: options.policy ?? ExecPolicy.MeasuredOnly,
    });
    if (created < 0) throw new Error(`container ${cid}: the platform refused to create it (${created})`);
    const ns: Namespaces = {
      mnt: this.vfs.createContainerRoot(this.bootCtx(), options.layers ?? [this.imageLayer], cid),
      pid: new PidNamespace(kernel.rootNs.pid),
      uts: new UtsNamespace(options.hostname ?? `container${cid}`),
      user: kernel.rootNs.user,
      net: new NetNamespace(),
    };
    this.containers.set(cid, { ns, init: undefined });
    if (options.memoryLimitBytes !== undefined) kernel.memory.setLimit(cid, options.memoryLimitBytes);
    return cid;
  }

  /**
   * Start a process in container `cid` (0: a host process): the container's init if it has none
   * yet, else a process entering the running container (`exec`), in its namespaces.
   */
  startProcess(cid: number, options: ProcessOptions): ThreadGroup {
    const pe = this.machine.pes[0]!;
    const kernel = this.kernel;
    const container = cid === 0 ? undefined : this.containers.get(cid);
    if (cid !== 0 && container === undefined) throw new Error(`no container ${cid}`);
    const ns = container?.ns ?? kernel.rootNs;
    const init = container?.init;
    const sibling = init === undefined ? undefined : [...init.threads][0];
    if (init !== undefined && sibling === undefined) throw new Error(`container ${cid} is not running`);
    const task = kernel.createInitialTask(pe, {
      cid,
      ns,
      fs: FsState.at(ns.mnt),
      parent: undefined,
      ...(sibling !== undefined ? { sibling } : {}),
    });
    if (typeof task === 'number')
      throw new SpawnError(options.argv[0] ?? '', task, 'the platform refused the task');
    const ctx = kernel.contextFor(pe, task);
    // The runtime sets up the console as root, then drops to the process's user (as runc does
    // before it execs): the working directory and the program are then checked as that user.
    // Its stdout and stderr are told apart, and an exec's output from the container's (session).
    const session = init === undefined && options.ownSession !== true ? 0 : this.nextSession++;
    for (let fd = 0; fd < 3; fd++) {
      const file = openPath(ctx, AT_FDCWD, '/dev/console', fd === 0 ? O.RDONLY : O.WRONLY, 0);
      if (typeof file === 'number') {
        kernel.exitTaskHere(pe, task, 0x7f00, false);
        throw new SpawnError('/dev/console', file, 'cannot be opened', false);
      }
      file.stdio = { session, stream: fd === 2 ? 2 : 1 }; // stdin reads the session's input
      task.files.setAt(fd, file);
    }
    this.sessions.set(task.group, session);
    if (options.uid !== undefined) {
      const uid = options.uid;
      const gid = options.gid ?? uid;
      task.cred = { uid, gid, euid: uid, egid: gid, suid: uid, sgid: gid };
    }
    if (options.cwd !== undefined && options.cwd !== '/') {
      const dir = lookupPath(ctx, AT_FDCWD, options.cwd, true);
      if (typeof dir === 'number' || !isDir(dir.inode)) {
        kernel.exitTaskHere(pe, task, 0x7f00, false);
        throw new SpawnError(
          options.cwd,
          typeof dir === 'number' ? dir : -20,
          'is not a usable working directory',
          false,
        );
      }
      task.fs.cwd = dir;
    }
    const env = options.env ?? ['PATH=/bin', 'HOME=/root'];
    const path = options.argv[0]!.includes('/') ? options.argv[0]! : `/bin/${options.argv[0]!}`;
    const start = loadProgram(kernel, ctx, task, path, options.argv, env);
    if (typeof start === 'number') {
      kernel.exitTaskHere(pe, task, 0x7f00, false);
      throw new SpawnError(path, start);
    }
    task.start = start;
    kernel.makeRunnable(task, pe.cycles);
    if (container !== undefined && container.init === undefined) container.init = task.group;
    return task.group;
  }

  /**
   * Make container `cid`, whose processes have all ended, ready for a new init: Docker's restart
   * keeps a container's root file system with its writable layer (and, here, its shim, measured
   * launch data and memory limit); its processes get a fresh pid namespace and network namespace.
   */
  reviveContainer(cid: number): void {
    const container = this.containers.get(cid);
    if (container === undefined) throw new Error(`no container ${cid}`);
    if (this.containerRunning(cid)) throw new Error(`container ${cid} still has processes`);
    container.ns = {
      ...container.ns,
      pid: new PidNamespace(this.kernel.rootNs.pid),
      net: new NetNamespace(),
    };
    container.init = undefined;
  }

  /** The console session of a process from startProcess (its output: consoleDevice.log(cid, session)). */
  consoleSession(group: ThreadGroup): number {
    return this.sessions.get(group) ?? 0;
  }

  /** The mount namespace of container `cid` (its root file system and mounts). */
  mountNamespace(cid: number): MountNamespace {
    const container = this.containers.get(cid);
    if (container === undefined) throw new Error(`no container ${cid}`);
    return container.ns.mnt;
  }

  /**
   * Send `signal` from the host to container `cid`'s init, as `runc kill` does (the death of its
   * init ends the rest of its pid namespace). As a namespace's init, it gets only signals it has a
   * handler for, and SIGKILL (kernel.ts signalGroup).
   */
  signalContainer(cid: number, signal: number): void {
    const init = this.containers.get(cid)?.init;
    if (init !== undefined && !init.zombie) this.kernel.signalGroup(init, signal, 'host');
  }

  /** True while container `cid` has a live process. */
  containerRunning(cid: number): boolean {
    for (const group of this.kernel.allGroups()) if (group.cid === cid && !group.zombie) return true;
    return false;
  }

  /**
   * Destroy container `cid` once nothing runs in it: its kernel state (root file system, page
   * cache, disk area) and, under rcontainer, its shim and every granule it had (scrubbed by the
   * mini-OS). Throws if a process of it still runs or the platform refuses.
   */
  destroyContainer(cid: number): void {
    if (!this.containers.has(cid)) throw new Error(`no container ${cid}`);
    if (this.containerRunning(cid)) throw new Error(`container ${cid} still has processes`);
    const result = this.platform.containerDestroy(this.machine.pes[0]!, cid);
    if (result < 0) throw new Error(`container ${cid}: the platform refused to destroy it (${result})`);
    this.disks.forgetOwner(cid);
    this.kernel.memory.forget(cid);
    this.kernel.consoleDevice.forget(cid);
    this.containers.delete(cid);
  }

  /** Attestation evidence of container `cid` for `nonce` (rcontainer), or -errno. */
  attest(cid: number, nonce: Uint8Array): Uint8Array | number {
    return this.platform.attest(this.machine.pes[0]!, cid, nonce);
  }

  /** Run until every task has ended (or `maxSteps` thread steps). */
  run(maxSteps = 50_000_000): LoopEnd {
    return runLoop(this.kernel, this.runner, maxSteps);
  }

  /**
   * Run for `ns` nanoseconds of simulated time from the latest PE clock (or until everything has
   * ended): containers keep running across calls.
   */
  runFor(ns: number, maxSteps = 50_000_000): LoopEnd {
    const until = Math.max(...this.machine.pes.map((pe) => pe.cycles)) + this.kernel.cyclesFor(ns);
    return runLoop(this.kernel, this.runner, maxSteps, until);
  }

  /**
   * Simulated nanoseconds until the machine next has something to do when it is only waiting for
   * timers (nothing runnable or running, no host work); undefined when it has work now or nothing
   * will ever wake it.
   */
  idleUntilTimerNs(): number | undefined {
    const kernel = this.kernel;
    if (kernel.runQueue.length > 0 || kernel.hasHostWork) return undefined;
    if (this.machine.pes.some((pe) => kernel.currentTask(pe) !== undefined)) return undefined;
    const timer = kernel.nextTimerCycle();
    if (timer === undefined) return undefined;
    const now = Math.max(...this.machine.pes.map((pe) => pe.cycles));
    return Math.max(0, (timer - now) / kernel.cyclesPerNs);
  }

  /** Console output so far, as text. */
  outputText(): string {
    return new TextDecoder().decode(new Uint8Array(this.kernel.output));
  }

  /** Simulated time: the latest PE clock, in nanoseconds. */
  get elapsedNs(): number {
    return Math.max(...this.machine.pes.map((pe: ProcessingElement) => this.kernel.nanoseconds(pe)));
  }
}

/** A program that could not be started (a clear message for the CLI). */
export class SpawnError extends Error {
  readonly errno: number;
  /** True when the program itself is missing (Docker's 127), not its console or directory. */
  readonly programMissing: boolean;

  constructor(path: string, errno: number, what = 'cannot execute', program = true) {
    super(`${path}: ${what} (${-errno})`);
    this.errno = errno;
    this.programMissing = program && errno === -Errno.ENOENT;
  }
}
