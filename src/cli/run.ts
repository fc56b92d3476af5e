/**
 * `rcontainer run --rm [options] IMAGE [COMMAND...]` without a daemon: boot a machine in this
 * process under the chosen design, create the container from the image, stream its console output
 * and exit with its exit code (Docker's habits: 125 engine error, 126 not executable, 127 not
 * found, else the container's code; 128 + N when a signal ended it).
 */
import { createImageContainer, specForImage, startImageInit } from '../designs/image-container.js';
import { DESIGNS, SimSystem, SpawnError, type DesignName } from '../designs/system.js';
import { BundleError } from '../runtime/bundle/spec.js';
import { strerror } from '../kernel/uapi/errno.js';
import { wExitStatus, wIfSignaled, wTermSig } from '../kernel/uapi/flags.js';
import { openImages, stateDir } from './engine-state.js';
import type { ContainerCommandOptions } from './container-options.js';
import { EngineError } from './errors.js';
import { execPolicyWarning, parseExecPolicy } from './exec-policy.js';
import { initProblem } from './init-option.js';
import { parseMemorySize } from './memory-size.js';
import { StdinQueue } from './stdin.js';
import { mountVolumes, parseVolume, writeBackVolumes, type MountedVolume } from './volumes.js';
import { engine, isBuiltin, type EngineOptions } from './images.js';

/** Options of `run` as commander parses them. */
export interface RunCommandOptions extends EngineOptions, ContainerCommandOptions {
  readonly rm?: boolean;
  readonly detach?: boolean;
  readonly design: string;
  readonly seed?: string;
}

/** Simulated time per slice between two flushes of the container's output. */
const SLICE_NS = 10_000_000;

/** Run a container in the foreground; returns the exit code. */
export async function runCommand(
  image: string,
  command: string[],
  options: RunCommandOptions,
): Promise<number> {
  if (!DESIGNS.includes(options.design as DesignName))
    throw new EngineError(`run: --design must be one of ${DESIGNS.join(', ')}, not '${options.design}'`);
  if (options.detach === true)
    throw new EngineError('run: -d needs the daemon (`rcontainer daemon`), which is not running');
  if (options.publish !== undefined && options.publish.length > 0)
    throw new EngineError('run: -p needs the daemon (`rcontainer daemon`), which is not running');
  if (options.rm !== true)
    throw new EngineError('run: without a daemon a container cannot outlive this command: use --rm');
  const user = parseUser(options.user);
  const volumes = (options.volume ?? []).map(parseVolume);
  const execPolicy = parseExecPolicy(options.execPolicy);
  const warning = execPolicyWarning(execPolicy);
  if (warning !== undefined) console.error(`rcontainer: warning: ${warning}`);
  return engine(async () => {
    const store = openImages(stateDir(options.stateDir));
    if (isBuiltin(image) && !store.has(image)) await store.ensureBuiltin(image.replace(/:latest$/, ''));
    const system = new SimSystem({
      design: options.design as DesignName,
      ...(options.seed ? { seed: options.seed } : {}),
    });
    let cid = 0;
    let mounted: MountedVolume[] = [];
    try {
      const record = store.resolve(image);
      const spec = specForImage(record, {
        args: command,
        env: options.env,
        ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(options.memory !== undefined ? { memoryBytes: parseMemorySize(options.memory) } : {}),
        volumes,
        ...(execPolicy !== undefined ? { execPolicy } : {}),
        hostname: options.hostname ?? options.name ?? 'rcontainer',
        ...(options.tty === true ? { terminal: true } : {}),
        ...(options.init === true ? { init: true } : {}),
      });
      const created = await createImageContainer(system, store, record, spec);
      cid = created.cid;
      const noInit = options.init === true ? initProblem(created.measurements) : undefined;
      if (noInit !== undefined) throw new EngineError(noInit);
      mounted = mountVolumes(system, cid, volumes);
      // Its init has not run yet: the input of its session is in place before its first read.
      if (options.interactive === true || options.tty === true)
        system.kernel.consoleDevice.setInput(cid, 0, new Uint8Array(0), {
          open: options.interactive === true,
          terminal: options.tty === true,
        });
      startImageInit(system, cid, spec);
    } catch (error) {
      if (error instanceof SpawnError) {
        const program = command[0] ?? image;
        if (error.programMissing) {
          console.error(`rcontainer: exec: "${program}": executable file not found`);
          return 127;
        }
        console.error(`rcontainer: exec: "${program}": ${strerror(error.errno).toLowerCase()}`);
        return 126;
      }
      if (error instanceof BundleError) throw new EngineError(error.message);
      throw error;
    }
    const flush = (): void => {
      for (const { stream, bytes } of system.kernel.consoleDevice.drain(cid))
        (stream === 2 ? process.stderr : process.stdout).write(bytes);
    };
    const init = [...system.kernel.allGroups()].find((g) => g.cid === cid);
    const stdin = options.interactive === true ? new StdinInput(system, cid) : undefined;
    try {
      for (;;) {
        stdin?.feed();
        const end = system.runFor(SLICE_NS);
        flush();
        if (!system.containerRunning(cid)) break;
        if (end === 'idle') {
          // Waiting for what the user types next: nothing happens on the machine until it comes.
          if (stdin?.waitsForUser === true) {
            await stdin.arrival();
            continue;
          }
          console.error('rcontainer: the container is blocked with nothing left to wake it; stopping it');
          system.signalContainer(cid, 9);
          system.run();
          flush();
          break;
        }
        if (stdin !== undefined) await stdin.arrival(true);
      }
    } finally {
      stdin?.stop();
    }
    const status = init?.exitStatus;
    for (const problem of writeBackVolumes(system, mounted)) console.error(`rcontainer: ${problem}`);
    system.destroyContainer(cid);
    if (status === undefined) return 125;
    return wIfSignaled(status) ? 128 + wTermSig(status) : wExitStatus(status);
  });
}

/** This process's standard input pushed to session 0 of container `cid` between slices. */
class StdinInput {
  private readonly queue = new StdinQueue();
  private readonly pending: Uint8Array[] = [];
  private ended = false;
  private open = true;
  private readonly system: SimSystem;
  private readonly cid: number;

  constructor(system: SimSystem, cid: number) {
    this.system = system;
    this.cid = cid;
  }

  /** True while more may come from the user (this process's input has not ended). */
  get waitsForUser(): boolean {
    return !this.ended;
  }

  /** Push what arrived (what does not fit waits for the container to read); close at the end. */
  feed(): void {
    if (!this.open) return;
    const { chunks, ended } = this.queue.take();
    this.pending.push(...chunks);
    this.ended ||= ended;
    const consoleDevice = this.system.kernel.consoleDevice;
    if (consoleDevice.pushPending(this.cid, 0, this.pending) && this.ended) {
      consoleDevice.closeInput(this.cid, 0);
      this.open = false;
    }
  }

  /** Wait for input to arrive (`poll`: only let in what already came, then go on). */
  arrival(poll = false): Promise<void> {
    if (poll) return new Promise((resolve) => setImmediate(resolve));
    return this.queue.next();
  }

  stop(): void {
    this.queue.stop();
  }
}

/** `-u uid[:gid]` (numeric only). */
function parseUser(user: string | undefined): { uid: number; gid: number } | undefined {
  if (user === undefined) return undefined;
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) throw new EngineError(`run: -u takes a numeric uid[:gid], not '${user}'`);
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}
