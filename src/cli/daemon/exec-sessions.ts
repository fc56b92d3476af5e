/**
 * The execs of a daemon's engine, each an exec session of the machine's console (its own stdout,
 * stderr and, with `-i`, stdin). An exec is either answered whole when it ends (`POST
 * /containers/{id}/exec`) or streamed (`"stream": true`): its output is read as it comes (`GET
 * /exec/{id}/output`), its input is pushed as the client types (`POST /exec/{id}/input`), and its
 * exit code is asked for at the end (`GET /exec/{id}/json`), as Docker's exec instances work.
 */
import { randomBytes } from 'node:crypto';
import type { SimSystem } from '../../designs/system.js';
import type { ConsoleChunk } from '../../kernel/core/console.js';
import type { ThreadGroup } from '../../kernel/core/task.js';
import { SIG } from '../../kernel/uapi/flags.js';
import { multiplex } from './console-log.js';
import { exitCodeOf } from './engine-fields.js';
import { followStream, type FollowStep } from './follow.js';
import { ApiError } from './errors.js';

/** What an exec gives back when it is answered whole. */
export interface ExecResult {
  readonly exitCode: number;
  /** The exec's output, both streams in order (decoded as UTF-8). */
  readonly output: string;
  /** Its standard output and standard error apart. */
  readonly stdout: string;
  readonly stderr: string;
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  readonly id: string;
  readonly containerId: string;
  readonly running: boolean;
  /** Its exit code once it ended (Docker's: 128 + N for a signal), else null. */
  readonly exitCode: number | null;
}

/** One exec. */
interface ExecSession {
  readonly id: string;
  readonly containerId: string;
  readonly cid: number;
  /** Its process; undefined when it could not be started (it ended at once). */
  readonly group: ThreadGroup | undefined;
  readonly session: number;
  /** Output taken from the machine and not yet read by a streaming client. */
  readonly chunks: ConsoleChunk[];
  exitCode: number | undefined;
  /** For an exec answered whole. */
  readonly resolve: ((result: ExecResult) => void) | undefined;
}

/** Ended streamed execs kept for their clients (the oldest are forgotten beyond this). */
const MAX_ENDED = 64;

/** The engine's execs. `changed` tells the engine's watchers that output or exits came. */
export class ExecSessions {
  private readonly sessions = new Map<string, ExecSession>();
  private readonly system: SimSystem;

  constructor(system: SimSystem) {
    this.system = system;
  }

  /** Track an exec answered whole: resolves when it ends. */
  whole(containerId: string, cid: number, group: ThreadGroup): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve) => this.add(containerId, cid, group, resolve));
  }

  /** Track a streamed exec; returns its id. */
  streamed(containerId: string, cid: number, group: ThreadGroup): string {
    return this.add(containerId, cid, group, undefined).id;
  }

  /** A streamed exec that could not be started: it ended at once with `exitCode` and `message`. */
  failed(containerId: string, exitCode: number, message: string): string {
    const id = randomBytes(32).toString('hex');
    const bytes = new TextEncoder().encode(message);
    this.sessions.set(id, {
      id,
      containerId,
      cid: 0,
      group: undefined,
      session: 0,
      chunks: [{ stream: 2, bytes }],
      exitCode,
      resolve: undefined,
    });
    this.forgetEnded();
    return id;
  }

  /** Take the output and exits of every exec from the machine (after each run of it). */
  settle(): void {
    const consoleDevice = this.system.kernel.consoleDevice;
    for (const s of [...this.sessions.values()]) {
      if (s.group === undefined || s.exitCode !== undefined) continue;
      s.chunks.push(...consoleDevice.drain(s.cid, s.session));
      if (s.group.exitStatus === undefined) continue;
      s.exitCode = exitCodeOf(s.group.exitStatus);
      // Its process is gone: the machine keeps nothing of its session.
      consoleDevice.forgetSession(s.cid, s.session);
      if (s.resolve !== undefined) {
        this.sessions.delete(s.id);
        s.resolve(wholeResult(s.exitCode, s.chunks));
      }
    }
    this.forgetEnded();
  }

  /**
   * The machine is idle with nothing left to wake it: kill (137) every running exec that cannot be
   * woken by its client's input. True if any was killed.
   */
  killStuck(): boolean {
    let killed = false;
    for (const s of this.sessions.values()) {
      if (s.group === undefined || s.exitCode !== undefined) continue;
      if (this.system.kernel.consoleDevice.inputOpen(s.cid, s.session)) continue;
      this.system.kernel.signalGroup(s.group, SIG.KILL);
      killed = true;
    }
    return killed;
  }

  /** Push `bytes` to an exec's input and, with `close`, end it. 409 once it ended. */
  input(id: string, bytes: Uint8Array, close: boolean): void {
    const s = this.find(id);
    if (s.exitCode !== undefined || s.group === undefined) throw new ApiError(`exec ${id} has ended`, 409);
    const consoleDevice = this.system.kernel.consoleDevice;
    if (!consoleDevice.inputOpen(s.cid, s.session))
      throw new ApiError(`exec ${id} takes no input (start it with "stdin": true)`, 409);
    if (!consoleDevice.pushInput(s.cid, s.session, bytes))
      throw new ApiError(`exec ${id}: its input is full, try again`, 429);
    if (close) consoleDevice.closeInput(s.cid, s.session);
  }

  /**
   * The client of a streamed exec went away: end its input, as a closed terminal or pipe would, so
   * that a process waiting for input sees its end instead of waiting forever.
   */
  hangUp(id: string): void {
    const s = this.sessions.get(id);
    if (s !== undefined && s.exitCode === undefined)
      this.system.kernel.consoleDevice.closeInput(s.cid, s.session);
  }

  /** What `GET /exec/{id}/json` says. */
  inspect(id: string): ExecInspect {
    const s = this.find(id);
    return {
      id: s.id,
      containerId: s.containerId,
      running: s.exitCode === undefined,
      exitCode: s.exitCode ?? null,
    };
  }

  /** Take the output a streaming client has not read; `ended` once it is all read and it exited. */
  take(id: string): { chunks: ConsoleChunk[]; ended: boolean } {
    const s = this.find(id);
    const chunks = s.chunks.splice(0);
    return { chunks, ended: s.exitCode !== undefined };
  }

  private add(
    containerId: string,
    cid: number,
    group: ThreadGroup,
    resolve: ((result: ExecResult) => void) | undefined,
  ): ExecSession {
    const session: ExecSession = {
      id: randomBytes(32).toString('hex'),
      containerId,
      cid,
      group,
      session: this.system.consoleSession(group),
      chunks: [],
      exitCode: undefined,
      resolve,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  private find(id: string): ExecSession {
    const s = this.sessions.get(id);
    if (s === undefined) throw new ApiError(`No such exec instance: ${id}`, 404);
    return s;
  }

  /** Forget the oldest ended streamed execs beyond MAX_ENDED. */
  private forgetEnded(): void {
    const ended = [...this.sessions.values()].filter((s) => s.exitCode !== undefined);
    for (const s of ended.slice(0, Math.max(0, ended.length - MAX_ENDED))) this.sessions.delete(s.id);
  }
}

/** The answer of an exec answered whole. */
function wholeResult(exitCode: number, chunks: readonly ConsoleChunk[]): ExecResult {
  const text = (stream?: 1 | 2): string =>
    Buffer.concat(
      chunks.filter((c) => stream === undefined || c.stream === stream).map((c) => c.bytes),
    ).toString('utf8');
  return { exitCode, output: text(), stdout: text(1), stderr: text(2) };
}

/**
 * A streamed exec's output as Docker's multiplexed stream: it goes on as the exec writes and ends
 * once it exited and everything was read. `watch` is the engine's change notification; when the
 * client goes away first, the exec's input is ended and `onHangUp` is told (to run the machine).
 */
export function execOutputStream(
  execs: ExecSessions,
  id: string,
  watch: (listener: () => void) => () => void,
  onHangUp: () => void,
): ReadableStream<Uint8Array> {
  execs.inspect(id); // 404 before anything is sent
  return followStream(
    watch,
    (): FollowStep => {
      let taken: { chunks: ConsoleChunk[]; ended: boolean };
      try {
        taken = execs.take(id);
      } catch {
        return 'end'; // forgotten meanwhile
      }
      if (taken.chunks.length > 0) return { bytes: multiplex(taken.chunks) };
      return taken.ended ? 'end' : 'wait';
    },
    () => {
      execs.hangUp(id);
      onHangUp();
    },
  );
}
