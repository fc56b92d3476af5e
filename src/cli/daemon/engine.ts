/**
 * The container engine of `rcontainer daemon`: one simulated machine (its design fixed at start),
 * the image store, and the containers, with Docker's states (runtime/engine/lifecycle.ts decides
 * every state change) persisted under `<state>/containers/<id>/`. Usable in-process by tests; the
 * HTTP server (server.ts) is a thin layer over it. Times are simulated nanoseconds.
 *
 * Nothing here runs by itself: `tick` advances the machine (the server's pump calls it while a
 * container runs); `stop`, `kill` and `exec` run the machine as long as they need.
 */
import { createHash } from 'node:crypto';
import { SimSystem, SpawnError, type DesignName } from '../../designs/system.js';
import type { ConsoleChunk } from '../../kernel/core/console.js';
import type { ThreadGroup } from '../../kernel/core/task.js';
import { SIG } from '../../kernel/uapi/flags.js';
import {
  BundleError,
  execPolicyOf,
  type ExecPolicyName,
  type RuntimeSpec,
} from '../../runtime/bundle/spec.js';
import { ContainerState, transition } from '../../runtime/engine/lifecycle.js';
import { ImageError, shortDigest, type ImageRecord, type ImageStore } from '../../runtime/image/index.js';
import { openImages } from '../engine-state.js';
import { isBuiltin } from '../images.js';
import { ApiError, noSuchContainer } from './errors.js';
import { checkVolume, exitCodeOf, mergeEnv, parseUser, statusOf, volumesOf } from './engine-fields.js';
import { createImageContainer, specForImage, startImageInit } from '../../designs/image-container.js';
import { EngineError } from '../errors.js';
import { execPolicyWarning } from '../exec-policy.js';
import { initProblem } from '../init-option.js';
import { mountVolumes, releaseVolumes, writeBackVolumes, type MountedVolume } from '../volumes.js';
import { appendConsole, readConsoleRuns, tailOffset } from './console-log.js';
import { ExecSessions, type ExecResult } from './exec-sessions.js';
import {
  PortPublisher,
  PORTS_ANNOTATION,
  portsAnnotation,
  portsOf,
  portsText,
  type PortMapping,
} from './ports.js';
import { deleteContainer, loadContainers, writeContainer, writeMeta, type ContainerMeta } from './records.js';

/** Options of an engine. */
export interface EngineOptions {
  readonly stateDir: string;
  readonly design: DesignName;
  readonly seed?: string | number;
  readonly cpus?: number;
  /** Where non-fatal problems go (default: stderr). */
  readonly warn?: (message: string) => void;
  /** Host clock for the engine's records (created, started, finished); tests fix it. */
  readonly clock?: () => number;
}

/** `POST /containers/create`. */
export interface CreateRequest {
  readonly image: string;
  readonly name?: string | undefined;
  readonly cmd?: readonly string[] | undefined;
  readonly env?: readonly string[] | undefined;
  readonly workdir?: string | undefined;
  /** `uid[:gid]`, numeric. */
  readonly user?: string | undefined;
  readonly hostname?: string | undefined;
  /** Limit of user memory in bytes. */
  readonly memory?: number | undefined;
  readonly execPolicy?: ExecPolicyName | undefined;
  /** Standard input of its first run (base64), then end of input. */
  readonly stdin?: string | undefined;
  /** Keep its standard input open for POST /containers/{id}/input (`run -i`). */
  readonly openStdin?: boolean | undefined;
  /** `-t`: its standard streams are a terminal. */
  readonly tty?: boolean | undefined;
  /** `--init`: run the command under the image's tini. */
  readonly init?: boolean | undefined;
  /** Published ports (`-p`): 127.0.0.1:hostPort of the host to containerPort of its loopback. */
  readonly ports?: readonly PortMapping[] | undefined;
  /** Untrusted volumes: host directories (absolute paths) and where they appear. */
  readonly volumes?: readonly { source: string; destination: string; readonly: boolean }[] | undefined;
  readonly autoRemove?: boolean | undefined;
}

/** A row of `GET /containers/json`. */
export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly command: string;
  readonly state: ContainerState;
  readonly status: string;
  readonly createdAt?: string;
  readonly exitCode: number;
  readonly createdNs: number;
  /** Published ports in Docker's words ("127.0.0.1:6379->6379/tcp"), empty if none. */
  readonly ports: string;
}

/** What `exec` runs, and as whom. */
export interface ExecRequest {
  readonly cmd: readonly string[];
  readonly env?: readonly string[] | undefined;
  /** Its standard input (`exec -i`). */
  readonly input?: Uint8Array | undefined;
  /** "uid[:gid]" (default the container's user). */
  readonly user?: string | undefined;
  /** Absolute working directory (default the container's). */
  readonly workdir?: string | undefined;
  /** Keep its input open for the client to push (`exec -i` streamed); else `input`, then end. */
  readonly openInput?: boolean | undefined;
  /** Its descriptors are a terminal (`-t`): TCGETS answers, so a shell prompts. */
  readonly tty?: boolean | undefined;
}

/** The container on the machine: its cid, its init once started, its volumes. */
interface LiveContainer {
  readonly cid: number;
  init: ThreadGroup | undefined;
  /** Its untrusted volumes (copied in at each start, written back when it exits). */
  volumes: readonly MountedVolume[];
  /** Standard input for its next start, handed over once. */
  input?: Uint8Array | undefined;
  /** Its input stays open at each start for the client to push (`run -i`). */
  readonly openInput: boolean;
}

/** A container of the engine. */
export interface EngineContainer {
  meta: ContainerMeta;
  readonly spec: RuntimeSpec;
  /** Its state on the machine (undefined after a daemon restart until it is started again). */
  live: LiveContainer | undefined;
}

/** Simulated time per slice while the engine waits for something (stop, kill). */
export const SLICE_NS = 10_000_000;
/** Exit code of a container that was running when the machine restarted (as if SIGKILLed). */
const RESTART_EXIT_CODE = 137;
/** Docker's container names. */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The engine of one daemon. */
export class Engine {
  private readonly watchers = new Set<() => void>();
  /** Execs, running and (streamed ones) recently ended. */
  readonly execs: ExecSessions;
  /** Listeners and relays of published ports. */
  private readonly ports: PortPublisher;
  private wakePump: () => void = () => {};
  private readonly warn: (message: string) => void;
  private readonly clock: () => number;
  readonly system: SimSystem;
  readonly store: ImageStore;
  readonly design: DesignName;
  readonly stateDir: string;
  readonly cpus: number;
  private readonly containers = new Map<string, EngineContainer>();
  private nextSerial = 1;

  constructor(options: EngineOptions) {
    this.stateDir = options.stateDir;
    this.design = options.design;
    this.cpus = options.cpus ?? 1;
    this.system = new SimSystem({
      design: options.design,
      keepOutput: false,
      cpus: this.cpus,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
    this.execs = new ExecSessions(this.system);
    this.store = openImages(options.stateDir);
    const warn = options.warn ?? ((message: string) => console.error(`rcontainer daemon: ${message}`));
    this.warn = warn;
    this.ports = new PortPublisher(this.system, warn, () => this.wakePump());
    this.clock = options.clock ?? Date.now;
    // The machine restarted: nothing of the old one runs; running containers were killed.
    for (const { meta, spec } of loadContainers(options.stateDir, warn)) {
      const { cid: _gone, ...rest } = meta;
      void _gone;
      const restarted: ContainerMeta =
        meta.state === ContainerState.Running
          ? {
              ...rest,
              state: transition(meta.name, meta.state, 'exited').state,
              exitCode: RESTART_EXIT_CODE,
              finishedAt: this.isoNow(),
            }
          : rest;
      writeMeta(options.stateDir, restarted);
      this.containers.set(meta.id, { meta: restarted, spec, live: undefined });
      this.nextSerial = Math.max(this.nextSerial, meta.serial + 1);
    }
  }

  /** Create a container from an image (measured on the machine, not started): its id and name. */
  async create(request: CreateRequest): Promise<{ id: string; name: string; warnings: string[] }> {
    if (request.name !== undefined) this.checkName(request.name);
    const image = await this.image(request.image);
    let spec: RuntimeSpec;
    try {
      const user = parseUser(request.user);
      spec = specForImage(image, {
        ...(request.cmd !== undefined ? { args: request.cmd } : {}),
        ...(request.env !== undefined ? { env: request.env } : {}),
        ...(request.workdir !== undefined ? { workdir: request.workdir } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(request.hostname !== undefined ? { hostname: request.hostname } : {}),
        ...(request.memory !== undefined ? { memoryBytes: request.memory } : {}),
        ...(request.volumes !== undefined ? { volumes: request.volumes.map(checkVolume) } : {}),
        ...(request.execPolicy !== undefined ? { execPolicy: request.execPolicy } : {}),
        ...(request.tty === true ? { terminal: true } : {}),
        ...(request.init === true ? { init: true } : {}),
      });
      if (request.ports !== undefined && request.ports.length > 0)
        spec = {
          ...spec,
          annotations: { ...spec.annotations, [PORTS_ANNOTATION]: portsAnnotation(request.ports) },
        };
    } catch (error) {
      if (error instanceof BundleError) throw new ApiError(error.message, 400);
      throw error;
    }
    const serial = this.nextSerial++;
    const name = request.name ?? this.generatedName(serial);
    const createdNs = this.system.elapsedNs;
    const id = createHash('sha256').update(`${name}\0${createdNs}\0${serial}`).digest('hex');
    const sim = await createImageContainer(this.system, this.store, image, spec);
    const noInit = request.init === true ? initProblem(sim.measurements) : undefined;
    if (noInit !== undefined) {
      this.system.destroyContainer(sim.cid);
      throw new ApiError(noInit, 400);
    }
    const volumes = this.mountVolumesOf(sim.cid, spec);
    const meta: ContainerMeta = {
      id,
      name,
      serial,
      image: request.image,
      imageId: image.id,
      imageDigest: image.manifestDigest,
      state: ContainerState.Created,
      exitCode: 0,
      createdNs,
      createdAt: this.isoNow(),
      cid: sim.cid,
      autoRemove: request.autoRemove === true,
      measurements: { ...sim.measurements, binaries: [...sim.measurements.binaries] },
    };
    writeContainer(this.stateDir, meta, spec);
    const input =
      request.stdin === undefined ? undefined : new Uint8Array(Buffer.from(request.stdin, 'base64'));
    const openInput = request.openStdin === true;
    this.containers.set(id, {
      meta,
      spec,
      live: { cid: sim.cid, init: undefined, volumes, input, openInput },
    });
    const warning = execPolicyWarning(request.execPolicy);
    return { id, name, warnings: warning === undefined ? [] : [warning] };
  }

  /** Host time now, for the engine's records. */
  private isoNow(): string {
    return new Date(this.clock()).toISOString();
  }

  /**
   * Mount the volumes of `spec` in machine container `cid` (400 when one cannot be used); on
   * failure a new container (`fresh`) is destroyed again.
   */
  private mountVolumesOf(cid: number, spec: RuntimeSpec, fresh = true): MountedVolume[] {
    try {
      return mountVolumes(this.system, cid, volumesOf(spec));
    } catch (error) {
      if (fresh) this.system.destroyContainer(cid);
      if (error instanceof EngineError) throw new ApiError(error.message, 400);
      throw error;
    }
  }

  /** Write volumes back to the host; what cannot be written is a warning of the daemon. */
  private writeBack(volumes: readonly MountedVolume[]): void {
    for (const problem of writeBackVolumes(this.system, volumes)) this.warn(problem);
  }

  /** Destroy a container on the machine, with its volumes' host pages. */
  private destroyLive(live: LiveContainer): void {
    this.system.destroyContainer(live.cid);
    releaseVolumes(this.system, live.volumes);
  }

  /** Start a container: false if it already runs (304). */
  async start(ref: string): Promise<boolean> {
    const container = this.find(ref);
    const next = transition(container.meta.name, container.meta.state, 'start');
    if (!next.changes) return false;
    if (container.live === undefined) {
      // First start after a daemon restart: the machine restarted cleanly, so the container is
      // made again from its config.json and image.
      // SIMPLIFICATION: its writable layer does not survive a daemon restart (its sealed disk and
      // the mini-OS's freshness root for it are gone with the machine); the daemon says so.
      if (container.meta.startedAt !== undefined)
        this.warn(
          `${container.meta.name}: made again from its image: what it wrote before the daemon restarted is gone (its disk does not outlive the machine)`,
        );
      const image = this.imageById(container.meta);
      const sim = await createImageContainer(this.system, this.store, image, container.spec);
      const volumes = this.mountVolumesOf(sim.cid, container.spec);
      container.live = { cid: sim.cid, init: undefined, volumes, openInput: false };
    } else if (container.live.init !== undefined) {
      // A restart keeps the machine container (its writable layer, shim and measurements), as
      // Docker keeps a container's file system; volumes are copied in again from the host.
      const live = container.live;
      releaseVolumes(this.system, live.volumes);
      live.volumes = [];
      this.system.reviveContainer(live.cid);
      live.init = undefined;
      live.volumes = this.mountVolumesOf(live.cid, container.spec, false);
    }
    const live = container.live;
    // Its ports first: a host port that is taken leaves it as it was (not started).
    await this.ports.publish(container.meta.id, portsOf(container.spec), () =>
      live.init !== undefined && live.init.exitStatus === undefined ? live.init.tgid : undefined,
    );
    const terminal = container.spec.process.terminal;
    // Its init has not run yet: the input of its session is in place before its first read.
    if (live.input !== undefined || live.openInput || terminal !== undefined)
      this.system.kernel.consoleDevice.setInput(live.cid, 0, live.input ?? new Uint8Array(0), {
        open: live.openInput,
        terminal: terminal === true,
      });
    live.input = undefined;
    try {
      live.init = startImageInit(this.system, live.cid, container.spec);
    } catch (error) {
      this.ports.unpublish(container.meta.id);
      if (!(error instanceof SpawnError)) throw error;
      const program = container.spec.process.args[0] ?? '';
      const missing = error.programMissing;
      this.update(container, { exitCode: missing ? 127 : 126 });
      throw new ApiError(
        `failed to create task for container: exec: "${program}": ${missing ? 'executable file not found in $PATH' : error.message}`,
        400,
      );
    }
    this.update(container, { state: next.state, exitCode: 0, cid: live.cid, startedAt: this.isoNow() });
    return true;
  }

  /** SIGTERM, up to `seconds` simulated seconds for it to end, then SIGKILL: false if not running (304). */
  stop(ref: string, seconds = 10): boolean {
    const container = this.find(ref);
    const next = transition(container.meta.name, container.meta.state, 'stop');
    if (!next.changes) return false;
    const live = this.liveOf(container);
    this.system.signalContainer(live.cid, SIG.TERM);
    this.runWhileAlive(container, seconds * 1e9);
    if (this.initAlive(container)) {
      this.system.signalContainer(live.cid, SIG.KILL);
      this.runWhileAlive(container, 1e9);
    }
    this.refresh();
    return true;
  }

  /**
   * The daemon is shutting down: stop every running container as `stop` does, with `seconds` of
   * simulated grace (logs flushed, volumes written back, state saved as exited).
   */
  shutdown(seconds = 1): void {
    for (const container of this.containers.values())
      if (container.meta.state === ContainerState.Running) this.stop(container.meta.id, seconds);
    this.ports.closeAll();
  }

  /** Send `signal` to every process of a running container (409 if it is not running). */
  kill(ref: string, signal: number = SIG.KILL): void {
    if (!Number.isInteger(signal) || signal < 1 || signal > 64)
      throw new ApiError(`Invalid signal: ${signal}`, 400);
    const container = this.find(ref);
    transition(container.meta.name, container.meta.state, 'kill');
    this.system.signalContainer(this.liveOf(container).cid, signal);
    this.runWhileAlive(container, signal === SIG.KILL ? 1e9 : 0);
    this.refresh();
  }

  /**
   * Run `cmd` in a running container: resolves when it exits with its exit code and output. It
   * runs with the rest of the machine (the pump, paced like everything else), so other requests
   * are served meanwhile; like Docker's, it may run for as long as it likes. One that blocks with
   * nothing left to wake it (the whole machine idle) is killed (137).
   */
  exec(ref: string, request: ExecRequest): Promise<ExecResult> {
    const started = this.spawnExec(ref, request);
    if ('exitCode' in started) {
      const { exitCode, message } = started;
      return Promise.resolve({ exitCode, output: message, stdout: '', stderr: message });
    }
    const answer = this.execs.whole(started.containerId, started.cid, started.group);
    this.wakePump();
    return answer;
  }

  /**
   * Start `cmd` in a running container as a streamed exec (`GET /exec/{id}/output`, `POST
   * /exec/{id}/input`, `GET /exec/{id}/json`); returns its id. A command that cannot be started
   * is an exec that ended at once (127 or 126, its message on stderr), as the whole answer has it.
   */
  startExec(ref: string, request: ExecRequest): string {
    const started = this.spawnExec(ref, request);
    if ('exitCode' in started)
      return this.execs.failed(this.find(ref).meta.id, started.exitCode, started.message);
    const id = this.execs.streamed(started.containerId, started.cid, started.group);
    this.wakePump();
    return id;
  }

  /** Run the machine again (something outside a request changed it). */
  wake(): void {
    this.wakePump();
  }

  /** Push input to a streamed exec (and end it with `close`); the machine goes on with it. */
  execInput(id: string, bytes: Uint8Array, close: boolean): void {
    this.execs.input(id, bytes, close);
    this.wakePump();
  }

  /**
   * Push input to a running container's own standard input (created with openStdin; `run -i`),
   * ending it with `close`. 409 when it is not running or takes no input, 429 when too much waits.
   */
  containerInput(ref: string, bytes: Uint8Array, close: boolean): void {
    const container = this.find(ref);
    const live = container.live;
    const consoleDevice = this.system.kernel.consoleDevice;
    if (container.meta.state !== ContainerState.Running || live === undefined)
      throw new ApiError(`Container ${container.meta.name} is not running`, 409);
    if (!consoleDevice.inputOpen(live.cid, 0))
      throw new ApiError(
        `Container ${container.meta.name} takes no input (create it with "openStdin": true)`,
        409,
      );
    if (!consoleDevice.pushInput(live.cid, 0, bytes))
      throw new ApiError(`Container ${container.meta.name}: its input is full, try again`, 429);
    if (close) consoleDevice.closeInput(live.cid, 0);
    this.wakePump();
  }

  /** Start an exec's process with its console session set up, or say why it cannot start. */
  private spawnExec(
    ref: string,
    request: ExecRequest,
  ): { containerId: string; cid: number; group: ThreadGroup } | { exitCode: number; message: string } {
    const { cmd, env = [], input } = request;
    const container = this.find(ref);
    transition(container.meta.name, container.meta.state, 'exec');
    const live = this.liveOf(container);
    // The runtime honours the policy; under rcontainer the mini-OS also refuses the task itself.
    if (execPolicyOf(container.spec) === 'deny')
      throw new ApiError(`exec into ${container.meta.name} is denied by its exec policy (deny)`, 403);
    const { process: spec } = container.spec;
    let group: ThreadGroup;
    try {
      // As Docker's exec: the container's user and working directory unless the request names others.
      const user = request.user !== undefined ? parseUser(request.user) : spec.user;
      group = this.system.startProcess(live.cid, {
        argv: cmd,
        env: mergeEnv(spec.env ?? [], env),
        cwd: request.workdir ?? spec.cwd,
        ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
      });
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      const missing = error.programMissing;
      const why = missing ? 'executable file not found in $PATH' : error.message;
      return { exitCode: missing ? 127 : 126, message: `exec: "${cmd[0] ?? ''}": ${why}\n` };
    }
    // The process has not run yet: its session's input is in place before its first read.
    if (input !== undefined || request.openInput === true || request.tty !== undefined)
      this.system.kernel.consoleDevice.setInput(
        live.cid,
        this.system.consoleSession(group),
        input ?? new Uint8Array(0),
        { open: request.openInput === true, terminal: request.tty === true },
      );
    return { containerId: container.meta.id, cid: live.cid, group };
  }

  /** Let the pump know there is work (an exec started outside of a request's end). */
  onWork(wake: () => void): void {
    this.wakePump = wake;
  }

  /** Containers, running ones only unless `all`, oldest first. */
  list(all = false): ContainerSummary[] {
    return [...this.containers.values()]
      .filter((c) => all || c.meta.state === ContainerState.Running)
      .map(({ meta, spec }) => ({
        id: meta.id,
        name: meta.name,
        image: meta.image,
        command: spec.process.args.join(' '),
        state: meta.state,
        status: statusOf(meta, this.clock()),
        exitCode: meta.exitCode,
        createdNs: meta.createdNs,
        ...(meta.createdAt !== undefined ? { createdAt: meta.createdAt } : {}),
        ports: portsText(portsOf(spec)),
      }));
  }

  /** Everything the engine knows of a container. */
  inspect(ref: string): Record<string, unknown> {
    const { meta, spec } = this.find(ref);
    return {
      id: meta.id,
      name: meta.name,
      image: meta.image,
      imageId: meta.imageId,
      imageDigest: meta.imageDigest,
      state: meta.state,
      exitCode: meta.exitCode,
      createdNs: meta.createdNs,
      ...(meta.createdAt !== undefined ? { createdAt: meta.createdAt } : {}),
      ...(meta.startedAt !== undefined ? { startedAt: meta.startedAt } : {}),
      ...(meta.finishedAt !== undefined ? { finishedAt: meta.finishedAt } : {}),
      autoRemove: meta.autoRemove,
      config: spec,
      measurements: meta.measurements,
      cid: meta.cid,
    };
  }

  /** The console output of a container from byte `since` on, as runs of stdout (1) and stderr (2). */
  logRuns(ref: string, since = 0): ConsoleChunk[] {
    const container = this.find(ref);
    this.flush(container);
    return readConsoleRuns(this.stateDir, container.meta.id, since);
  }

  /** Where the last `lines` lines of a container's console output begin (for `logs --tail`). */
  tailOffset(ref: string, lines: number): number {
    const container = this.find(ref);
    this.flush(container);
    return tailOffset(this.stateDir, container.meta.id, lines);
  }

  /** True while the container runs (false also when there is no such container). */
  running(ref: string): boolean {
    try {
      return this.find(ref).meta.state === ContainerState.Running;
    } catch (error) {
      if (error instanceof ApiError) return false;
      throw error;
    }
  }

  /** Resolves with a container's exit code once it is not running (at once if it is not). */
  wait(ref: string): Promise<number> {
    const id = this.find(ref).meta.id;
    return new Promise((resolve) => {
      const check = (): boolean => {
        const container = this.containers.get(id);
        if (container !== undefined && container.meta.state === ContainerState.Running) return false;
        resolve(container?.meta.exitCode ?? 0);
        return true;
      };
      if (check()) return;
      const unwatch = this.watch(() => {
        if (check()) unwatch();
      });
    });
  }

  /** Call `watcher` whenever output or a container's state may have changed: returns its removal. */
  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Remove a container (409 if it runs, unless `force`, which kills it first). */
  remove(ref: string, force = false): void {
    const container = this.find(ref);
    transition(container.meta.name, container.meta.state, force ? 'rm-force' : 'rm');
    this.discard(container);
  }

  /** The container with this id, unique id prefix or name (404 if none). */
  find(ref: string): EngineContainer {
    const exact = this.containers.get(ref);
    if (exact !== undefined) return exact;
    const all = [...this.containers.values()];
    const named = all.find((c) => c.meta.name === ref);
    if (named !== undefined) return named;
    const matches = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.meta.id.startsWith(ref)) : [];
    if (matches.length > 1) throw new ApiError(`multiple IDs found with provided prefix: ${ref}`, 400);
    if (matches[0] === undefined) throw noSuchContainer(ref);
    return matches[0];
  }

  /** True while some container runs (the pump keeps the machine going). */
  anyRunning(): boolean {
    for (const c of this.containers.values()) if (c.meta.state === ContainerState.Running) return true;
    return false;
  }

  /** Advance the machine by `ns` simulated nanoseconds (if anything runs) and take what happened. */
  tick(ns: number): 'idle' | 'time-limit' | 'step-limit' {
    if (!this.anyRunning()) return 'idle';
    const end = this.system.runFor(ns);
    this.refresh();
    // Blocked with nothing left to wake them (not even a client's input): the execs are killed (137).
    if (end === 'idle' && this.execs.killStuck()) {
      this.system.run(1_000_000);
      this.refresh();
    }
    return end;
  }

  /** The images of the store (Docker's rows). */
  images(): { repository: string; tag: string; id: string; digest: string; size: number }[] {
    return this.store.list().flatMap((image) =>
      (image.tags.length > 0 ? image.tags : ['<none>:<none>']).map((t) => {
        const colon = t.lastIndexOf(':');
        return {
          repository: t.slice(0, colon),
          tag: t.slice(colon + 1),
          id: shortDigest(image.id),
          digest: image.manifestDigest,
          size: image.size,
        };
      }),
    );
  }

  /** Every container (for inspection helpers). */
  all(): readonly EngineContainer[] {
    return [...this.containers.values()];
  }

  /** Take console output and exits of every container on the machine. */
  private refresh(): void {
    this.refreshContainers();
    this.execs.settle();
    this.ports.settle();
    this.changed();
  }

  private refreshContainers(): void {
    for (const container of [...this.containers.values()]) {
      this.flush(container);
      if (container.meta.state !== ContainerState.Running || this.initAlive(container)) continue;
      const status = container.live?.init?.exitStatus;
      this.ports.unpublish(container.meta.id);
      if (container.live !== undefined) this.writeBack(container.live.volumes);
      const next = transition(container.meta.name, container.meta.state, 'exited');
      this.update(container, {
        state: next.state,
        exitCode: status === undefined ? RESTART_EXIT_CODE : exitCodeOf(status),
        finishedAt: this.isoNow(),
      });
      if (container.meta.autoRemove) this.discard(container);
    }
  }

  /** Move the console bytes the container wrote since the last flush to its console.log. */
  private flush(container: EngineContainer): void {
    const live = container.live;
    if (live === undefined) return;
    const chunks = this.system.kernel.consoleDevice.drain(live.cid);
    if (chunks.length === 0) return;
    appendConsole(this.stateDir, container.meta.id, chunks);
  }

  /** Run the machine up to `budgetNs` while the container's init lives (stop early if nothing can run). */
  private runWhileAlive(container: EngineContainer, budgetNs: number): void {
    let left = budgetNs;
    do {
      const end = this.system.runFor(Math.min(SLICE_NS, left));
      left -= SLICE_NS;
      if (end === 'idle') break;
    } while (left > 0 && this.initAlive(container));
  }

  private initAlive(container: EngineContainer): boolean {
    const init = container.live?.init;
    return init !== undefined && init.exitStatus === undefined;
  }

  /** Kill (if running), destroy on the machine and forget a container. */
  private discard(container: EngineContainer): void {
    this.ports.unpublish(container.meta.id);
    const live = container.live;
    if (live !== undefined) {
      if (this.system.containerRunning(live.cid)) {
        this.system.signalContainer(live.cid, SIG.KILL);
        this.system.run(1_000_000);
        this.writeBack(live.volumes);
      }
      this.flush(container);
      this.destroyLive(live);
    }
    this.containers.delete(container.meta.id);
    deleteContainer(this.stateDir, container.meta.id);
    this.execs.settle();
    this.changed();
  }

  private update(container: EngineContainer, change: Partial<ContainerMeta>): void {
    container.meta = { ...container.meta, ...change };
    writeMeta(this.stateDir, container.meta);
    this.changed();
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  private liveOf(container: EngineContainer): LiveContainer {
    if (container.live === undefined)
      throw new ApiError(`Container ${container.meta.name} is not running`, 409);
    return container.live;
  }

  private checkName(name: string): void {
    if (!NAME_RE.test(name))
      throw new ApiError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, 400);
    const owner = [...this.containers.values()].find((c) => c.meta.name === name);
    if (owner !== undefined)
      throw new ApiError(
        `Conflict. The container name "/${name}" is already in use by container "${owner.meta.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        409,
      );
  }

  private generatedName(serial: number): string {
    const taken = new Set([...this.containers.values()].map((c) => c.meta.name));
    let n = serial;
    while (taken.has(`rc_${n}`)) n++;
    return `rc_${n}`;
  }

  /** The image `ref` names (built-in images are made on first use); 404 if there is none. */
  private async image(ref: string): Promise<ImageRecord> {
    try {
      if (isBuiltin(ref) && !this.store.has(ref)) await this.store.ensureBuiltin(ref.replace(/:latest$/, ''));
      return this.store.resolve(ref);
    } catch (error) {
      if (error instanceof ImageError)
        throw new ApiError(
          /^no such image/.test(error.message) ? `No such image: ${ref}` : error.message,
          404,
        );
      throw error;
    }
  }

  private imageById(meta: ContainerMeta): ImageRecord {
    try {
      return this.store.resolve(meta.imageId);
    } catch (error) {
      if (error instanceof ImageError)
        throw new ApiError(`No such image: ${meta.image} (${meta.imageId})`, 404);
      throw error;
    }
  }
}
