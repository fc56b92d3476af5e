/**
 * Stream sockets between contexts through the whole system (DESIGN.md §4 "I/O": fd-based IPC that
 * leaves a container is sealed by the mini-OS).
 *
 * How a container reaches a host service here: each container has its own network namespace, so
 * the host service joins it first, as `nsenter --net=/proc/<pid>/ns/net` would (setns(2) on the
 * container init's /proc/<pid>/ns/net), then listens on its loopback. Its sockets belong to the host
 * (cid 0), the client's to the container: every byte between them crosses as rc_ipc_out frames.
 * Two containers in one network namespace (as `--network container:<id>` gives) are made by the
 * test putting the second container's init into the first one's namespace before it runs.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RcontainerPlatform } from '../../../src/designs/rcontainer.js';
import { SimSystem, type DesignName } from '../../../src/designs/system.js';
import type { ThreadGroup } from '../../../src/kernel/core/task.js';
import { SealedStream } from '../../../src/kernel/ipc/sealed-stream.js';
import { Socket } from '../../../src/kernel/net/socket.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { CLONE, INADDR_LOOPBACK, O, SHUT } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { decodeUtf8 } from '../../../src/user/libc/cstring.js';
import { open } from '../../../src/user/libc/files.js';
import { fork } from '../../../src/user/libc/fork.js';
import { readToEnd, writeString } from '../../../src/user/libc/io.js';
import { accept, tcpConnectRetry, tcpListen } from '../../../src/user/libc/net.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { defineProgram } from '../../../src/user/libc/program.js';
import { close, read, write } from '../../../src/user/libc/sys-fs.js';
import { shutdown } from '../../../src/user/libc/sys-net.js';
import { syscall, type Call } from '../../../src/user/libc/syscall.js';
import { clockNs, nanosleep } from '../../../src/user/libc/time.js';
import { waitpid } from '../../../src/user/libc/wait.js';
import { ioStats, type IoStats } from '../../../src/minios/calls-io.js';
import { fields, say } from './helpers.js';
import { findSecrets, secretOf } from './secret-walk.js';

const PORT = 7070;
/** How long the server waits after accept before it reads (the test inspects the queue then). */
const SERVER_PAUSE_NS = 2_000_000;
/** The 100-byte message: pseudo-random bytes, so that any 8 of them in a row are unique to it. */
const MESSAGE = (() => {
  const out = new Uint8Array(100);
  for (let at = 0, block = 0; at < out.length; block++) {
    const digest = createHash('sha256').update(`cross-context ${block}`).digest();
    out.set(digest.subarray(0, Math.min(32, out.length - at)), at);
    at += 32;
  }
  return out;
})();
const MESSAGE_HEX = Buffer.from(MESSAGE).toString('hex');

/** Connect to 127.0.0.1:PORT, send MESSAGE, shut the sending side (a FIN), print the reply. */
function* clientBody(p: Proc): Call<number> {
  const fd = yield* tcpConnectRetry(p, PORT);
  if (fd < 0) {
    yield* say(p, 'connect', fd);
    return 1;
  }
  const buffer = yield* p.heap.malloc(MESSAGE.length);
  p.cpu.writeBytes(buffer, MESSAGE);
  const t0 = yield* clockNs(p);
  const n = yield* write(fd, buffer, MESSAGE.length);
  const t1 = yield* clockNs(p);
  yield* say(p, 'wrote', n);
  yield* say(p, 'write_ns', t1 - t0);
  yield* shutdown(fd, SHUT.WR);
  const reply = yield* readToEnd(p, fd);
  yield* say(p, 'reply', typeof reply === 'number' ? reply : decodeUtf8(reply));
  yield* close(fd);
  return 0;
}

/**
 * Listen on 127.0.0.1:PORT (in the network namespace of process `pid` when given), accept one
 * connection, wait, read one message, check the end of the stream, answer and close.
 */
function* serverBody(p: Proc, pid: string | undefined): Call<number> {
  if (pid !== undefined) {
    const ns = yield* open(p, `/proc/${pid}/ns/net`, O.RDONLY);
    const joined = ns < 0 ? ns : yield* syscall(Sys.setns, ns, CLONE.NEWNET);
    if (joined < 0) {
      yield* say(p, 'setns', joined);
      return 1;
    }
    yield* close(ns);
  }
  const listener = yield* tcpListen(p, PORT, INADDR_LOOPBACK);
  const fd = listener < 0 ? listener : yield* accept(listener);
  if (fd < 0) {
    yield* say(p, 'accept', fd);
    return 1;
  }
  yield* nanosleep(p, SERVER_PAUSE_NS);
  const buffer = yield* p.heap.malloc(4096);
  const t0 = yield* clockNs(p);
  const n = yield* read(fd, buffer, 4096);
  const t1 = yield* clockNs(p);
  yield* say(p, 'read_ns', t1 - t0);
  yield* say(p, 'got', n < 0 ? n : Buffer.from(p.cpu.readBytes(buffer, n)).toString('hex'));
  if (n > 0) yield* say(p, 'eof', yield* read(fd, buffer, 4096));
  yield* writeString(p, fd, `ack ${n}`);
  yield* close(fd);
  yield* close(listener);
  return 0;
}

const clientMain = defineProgram(clientBody);
const serverMain = defineProgram((p) => serverBody(p, p.argv[1]));
/** Server and client in one container (the server forks the client). */
const bothMain = defineProgram(function* (p) {
  const child = yield* fork(p, clientBody);
  const code = yield* serverBody(p, undefined);
  yield* waitpid(p, child);
  return code;
});

const PROGRAMS = { 'xc-client': clientMain, 'xc-server': serverMain, 'xc-both': bothMain };

/** Sealed streams of the live sockets. */
function sealedStreams(system: SimSystem): SealedStream[] {
  const out = new Set<SealedStream>();
  for (const task of system.kernel.tasks()) {
    for (const [, file] of task.files.entries()) {
      const socket = file.data;
      if (socket instanceof Socket && socket.rx instanceof SealedStream) out.add(socket.rx);
    }
  }
  return [...out];
}

/** Run in single steps until `done` says so (bounded); false if it never did. */
function runUntil(system: SimSystem, done: () => boolean, maxSteps = 200_000): boolean {
  for (let step = 0; step < maxSteps; step++) {
    if (done()) return true;
    if (system.run(1) === 'idle') return done();
  }
  return false;
}

/** A system with a container client and a host server that joined the container's namespace. */
function containerToHost(design: DesignName): { system: SimSystem; client: ThreadGroup } {
  const system = new SimSystem({ design, cpus: 2, programs: PROGRAMS });
  const client = system.spawn({ argv: ['xc-client'] });
  system.spawn({ argv: ['xc-server', String(client.tgid)], host: true });
  return { system, client };
}

/** The stream from container 1 to the host, once it holds the whole message and its FIN. */
function queuedMessage(system: SimSystem): SealedStream | undefined {
  return sealedStreams(system).find(
    (s) => s.from === 1 && s.to === 0 && s.length === MESSAGE.length && s.finSealed,
  );
}

/** The mini-OS's I/O counters (rcontainer). */
function miniosIo(system: SimSystem): Readonly<IoStats> {
  const platform = system.platform;
  if (!(platform instanceof RcontainerPlatform)) throw new Error('expected the rcontainer platform');
  return ioStats(platform.trusted.minios);
}

/** Bytes of a queued frame in simulated memory (read directly, as a DMA-capable attacker would). */
function frameBytes(system: SimSystem, frame: { kva: number; bytes: number }): Uint8Array {
  const page = Math.floor(frame.kva / 4096) * 4096;
  const pa = system.platform.pages.paOf(0, page);
  if (pa === undefined) throw new Error('a frame outside the OS pages');
  return system.machine.memory.readBytes(pa + frame.kva - page, frame.bytes)!;
}

/** True when any 8 consecutive bytes of MESSAGE occur in `bytes`. */
function holdsPlaintext(bytes: Uint8Array): boolean {
  const haystack = Buffer.from(bytes);
  for (let at = 0; at + 8 <= MESSAGE.length; at++) {
    if (haystack.indexOf(MESSAGE.subarray(at, at + 8)) >= 0) return true;
  }
  return false;
}

describe('stream sockets between contexts (rcontainer: sealed by the mini-OS)', () => {
  it('carries a container → host message as ciphertext frames in OS pages, and the reply back', () => {
    const { system, client } = containerToHost('rcontainer');
    expect(runUntil(system, () => queuedMessage(system) !== undefined)).toBe(true);
    const stream = queuedMessage(system)!;

    // Two frames wait in one OS page: the message (100 + 48 bytes) and the FIN (48).
    expect(stream.queuedFrames.map((f) => f.bytes)).toEqual([148, 48]);
    expect(stream.framePages).toHaveLength(1);
    for (const frame of stream.queuedFrames) expect(holdsPlaintext(frameBytes(system, frame))).toBe(false);
    // The plaintext is only in memory of the container (its user buffer, its staging page).
    const memory = system.machine.memory;
    const walk = { skip: [memory, system.runner], skipBuffers: memory.segments.map((s) => s.buffer) };
    expect(findSecrets(system.kernel, 'kernel', [secretOf('message', MESSAGE)], walk)).toEqual([]);

    expect(system.run(2_000_000)).toBe('idle');
    const out = fields(system.outputText());
    expect(out.got).toBe(MESSAGE_HEX);
    expect(out.eof).toBe('0');
    expect(out.wrote).toBe('100');
    expect(out.reply).toBe('ack 100');
    expect(client.exitStatus).toBe(0);
    // Both sockets are gone, and with them their sealed streams (frame, staging and hold pages).
    expect(sealedStreams(system)).toEqual([]);
    // The mini-OS sealed the message, the client's FIN, the reply and the server's FIN when it
    // closed its socket (close(2) in the host's context), and opened all four (the client read to
    // the end), besides the frames of console output, which leaves the container on its own channel.
    const io = miniosIo(system);
    const console = system.kernel.consoleDevice.stats;
    expect(io.framesSealed - console.framesSealed).toBe(4);
    expect(io.framesOpened - console.framesOpened).toBe(4);
    expect(io.cryptoRefusals).toBe(0);
  });

  it('fails the read with EIO when a queued frame was tampered with', () => {
    const { system } = containerToHost('rcontainer');
    expect(runUntil(system, () => queuedMessage(system) !== undefined)).toBe(true);
    const frame = queuedMessage(system)!.queuedFrames[0]!;
    const page = Math.floor(frame.kva / 4096) * 4096;
    const pa = system.platform.pages.paOf(0, page)! + frame.kva - page + 40;
    const memory = system.machine.memory;
    memory.writeBytes(pa, Uint8Array.of(memory.readBytes(pa, 1)![0]! ^ 0x01));

    expect(system.run(2_000_000)).toBe('idle');
    const out = fields(system.outputText());
    expect(out.got).toBe(String(-Errno.EIO));
    expect(out.reply).toBe(`ack ${-Errno.EIO}`);
    expect(miniosIo(system).cryptoRefusals).toBe(1);
  });

  it('carries a message between two containers that share a network namespace', () => {
    const system = new SimSystem({ design: 'rcontainer', cpus: 2, programs: PROGRAMS });
    const server = system.spawn({ argv: ['xc-server'] });
    const client = system.spawn({ argv: ['xc-client'] });
    const serverNet = [...server.threads][0]!.ns.net;
    const clientTask = [...client.threads][0]!;
    clientTask.ns = { ...clientTask.ns, net: serverNet };
    expect(
      runUntil(system, () => sealedStreams(system).some((s) => s.from === 2 && s.to === 1 && s.length > 0)),
    ).toBe(true);
    expect(system.run(2_000_000)).toBe('idle');
    const out = fields(system.outputText());
    expect(out.got).toBe(MESSAGE_HEX);
    expect(out.reply).toBe('ack 100');
  });

  it('costs more than a message inside one container (100 bytes, write and read)', () => {
    const sealed = containerToHost('rcontainer').system;
    expect(sealed.run(2_000_000)).toBe('idle');
    const inside = new SimSystem({ design: 'rcontainer', cpus: 2, programs: PROGRAMS });
    inside.spawn({ argv: ['xc-both'] });
    expect(inside.run(2_000_000)).toBe('idle');
    const cross = fields(sealed.outputText());
    const local = fields(inside.outputText());
    expect(local.got).toBe(MESSAGE_HEX);
    expect(Number(cross.write_ns)).toBeGreaterThan(Number(local.write_ns));
    expect(Number(cross.read_ns)).toBeGreaterThan(Number(local.read_ns));
  });
});

describe('stream sockets between contexts (native: plain copies)', () => {
  it('carries the same container → host exchange without sealing', () => {
    const { system } = containerToHost('native');
    expect(runUntil(system, () => system.outputText().includes('wrote='))).toBe(true);
    expect(sealedStreams(system)).toEqual([]);
    expect(system.run(2_000_000)).toBe('idle');
    const out = fields(system.outputText());
    expect(out.got).toBe(MESSAGE_HEX);
    expect(out.eof).toBe('0');
    expect(out.reply).toBe('ack 100');
  });
});
