// Stream sockets between contexts under rcontainer: sealed streams on an rc_ipc_out channel
// (consent at connect and accept, frames in OS pages, the hold page of the reader, FIN, refusals),
// with the FakeIpc stand-in for the platform hooks.
import { describe, expect, it } from 'vitest';
import { SealedStream } from '../../../src/kernel/ipc/sealed-stream.js';
import { Socket } from '../../../src/kernel/net/socket.js';
import { ERESTARTSYS, Errno } from '../../../src/kernel/uapi/errno.js';
import { AF, INADDR_LOOPBACK, MSG, SHUT } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { FakeIpc } from './fake-ipc.js';
import {
  ascii,
  close,
  findInObjectGraph,
  Harness,
  pattern,
  sockaddrIn,
  sys,
  USER_BASE,
  type FakeTask,
} from './harness.js';

const ADDR = USER_BASE;
const SRC = USER_BASE + 0x1000;
const DST = USER_BASE + 0x20_0000;
const PORT = 7000;

/** A harness with the fake sealing platform, a server task of `serverCid` and a client of `clientCid`. */
function world(serverCid = 1, clientCid = 2, ipc = new FakeIpc()) {
  const h = new Harness('rcontainer', 512, ipc);
  return { h, ipc, server: h.task({ cid: serverCid }), client: h.task({ cid: clientCid }) };
}

function socket(t: FakeTask): number {
  const fd = sys(t, Sys.socket, AF.INET, 1, 0);
  expect(fd).toBeGreaterThanOrEqual(0);
  return fd;
}

function listenOn(h: Harness, t: FakeTask): number {
  const fd = socket(t);
  h.poke(ADDR, sockaddrIn(INADDR_LOOPBACK, PORT));
  expect(sys(t, Sys.bind, fd, ADDR, 16)).toBe(0);
  expect(sys(t, Sys.listen, fd, 8)).toBe(0);
  return fd;
}

function connectTo(h: Harness, t: FakeTask): number {
  const fd = socket(t);
  h.poke(ADDR, sockaddrIn(INADDR_LOOPBACK, PORT));
  const result = sys(t, Sys.connect, fd, ADDR, 16);
  return result < 0 ? result : fd;
}

/** listen, connect, accept: [client fd, server fd]. */
function connection(w: ReturnType<typeof world>): [number, number] {
  const listener = listenOn(w.h, w.server);
  const c = connectTo(w.h, w.client);
  expect(c).toBeGreaterThanOrEqual(0);
  const s = sys(w.server, Sys.accept, listener, 0, 0);
  expect(s).toBeGreaterThanOrEqual(0);
  return [c, s];
}

function sendBytes(h: Harness, t: FakeTask, fd: number, bytes: Uint8Array, flags = 0): number {
  h.poke(SRC, bytes);
  return sys(t, Sys.sendto, fd, SRC, bytes.length, flags, 0, 0);
}

function send(h: Harness, t: FakeTask, fd: number, text: string, flags = 0): number {
  return sendBytes(h, t, fd, ascii(text), flags);
}

function recv(h: Harness, t: FakeTask, fd: number, length: number, flags = 0): string | number {
  const n = sys(t, Sys.recvfrom, fd, DST, length, flags, 0, 0);
  return n < 0 ? n : new TextDecoder().decode(h.peek(DST, n));
}

/** The receive stream of the socket behind `fd`. */
function rxOf(t: FakeTask, fd: number): SealedStream {
  const rx = (t.files.get(fd)!.data as Socket).rx;
  if (!(rx instanceof SealedStream)) throw new Error('not a sealed stream');
  return rx;
}

/** True when `needle` occurs in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;
}

describe('sealed connections: consent', () => {
  it('offers at connect and accepts at accept; a sender waits for the accept', () => {
    const w = world();
    const { h, ipc, server, client } = w;
    const listener = listenOn(h, server);
    const c = connectTo(h, client);
    expect(ipc.calls).toMatchObject({ offer: 1, accept: 0 });
    // Not accepted yet: no space for the client.
    expect(send(h, client, c, 'early', MSG.DONTWAIT)).toBe(-Errno.EAGAIN);
    expect(send(h, client, c, 'early')).toBe(-ERESTARTSYS);
    expect(client.parkedOn).toHaveLength(1);
    const s = sys(server, Sys.accept, listener, 0, 0);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(ipc.calls).toMatchObject({ offer: 1, accept: 1 });
    expect(client.woken).toBe(1);
    expect(send(h, client, c, 'early')).toBe(5);
    expect(recv(h, server, s, 10)).toBe('early');
    // The same channel carries the other direction.
    expect(send(h, server, s, 'reply')).toBe(5);
    expect(recv(h, client, c, 10)).toBe('reply');
    expect(ipc.calls).toMatchObject({ offer: 1, accept: 1, seal: 2, open: 2 });
  });

  it('works between a container and the host (cid 0), both ways', () => {
    for (const [serverCid, clientCid] of [
      [0, 3],
      [3, 0],
    ] as const) {
      const w = world(serverCid, clientCid);
      const [c, s] = connection(w);
      expect(send(w.h, w.client, c, 'up')).toBe(2);
      expect(recv(w.h, w.server, s, 10)).toBe('up');
      expect(send(w.h, w.server, s, 'down')).toBe(4);
      expect(recv(w.h, w.client, c, 10)).toBe('down');
    }
  });

  it('aborts an accept whose channel the mini-OS no longer knows', () => {
    const w = world();
    const listener = listenOn(w.h, w.server);
    const c = connectTo(w.h, w.client);
    w.ipc.ipcClose(w.h.pe, 2, 1, 1);
    expect(sys(w.server, Sys.accept, listener, 0, 0)).toBe(-Errno.ECONNABORTED);
    // The client sees the connection end.
    expect(recv(w.h, w.client, c, 10)).toBe('');
  });

  it('refuses a connect, accept, send or recv from a task of another context', () => {
    const w = world();
    const { h, server, client } = w;
    const stranger = h.task({ cid: 5 });
    const listener = listenOn(h, server);
    const unconnected = socket(client);
    const foreign = stranger.files.install(client.files.get(unconnected)!);
    h.poke(ADDR, sockaddrIn(INADDR_LOOPBACK, PORT));
    expect(sys(stranger, Sys.connect, foreign, ADDR, 16)).toBe(-Errno.EPERM);
    const c = connectTo(h, client);
    const foreignListener = stranger.files.install(server.files.get(listener)!);
    expect(sys(stranger, Sys.accept, foreignListener, 0, 0)).toBe(-Errno.EPERM);
    const s = sys(server, Sys.accept, listener, 0, 0);
    const foreignClient = stranger.files.install(client.files.get(c)!);
    const foreignServer = stranger.files.install(server.files.get(s)!);
    expect(send(h, stranger, foreignClient, 'x')).toBe(-Errno.EPERM);
    expect(send(h, client, c, 'x')).toBe(1);
    expect(recv(h, stranger, foreignServer, 10)).toBe(-Errno.EPERM);
    expect(recv(h, server, s, 10)).toBe('x');
  });

  it('is not used under native, nor without platform hooks under rcontainer (EPERM)', () => {
    const plain = new FakeIpc(false);
    const h = new Harness('native', 512, plain);
    const w = { h, ipc: plain, server: h.task({ cid: 1 }), client: h.task({ cid: 2 }) };
    const [c, s] = connection(w);
    expect(send(h, w.client, c, 'plain')).toBe(5);
    expect(recv(h, w.server, s, 10)).toBe('plain');
    expect(plain.calls).toEqual({ offer: 0, accept: 0, seal: 0, open: 0, close: 0 });
    expect((w.server.files.get(s)!.data as Socket).rx).not.toBeInstanceOf(SealedStream);

    const bare = new Harness('rcontainer');
    const server = bare.task({ cid: 1 });
    listenOn(bare, server);
    expect(connectTo(bare, bare.task({ cid: 2 }))).toBe(-Errno.EPERM);
  });
});

describe('sealed connections: data path', () => {
  it('keeps frames in OS pages as ciphertext, the plaintext only in pages of the two ends', () => {
    const w = world();
    const { h, server, client } = w;
    const [c, s] = connection(w);
    const secret = ascii('sealed-canary-0123456789');
    expect(sendBytes(h, client, c, secret)).toBe(secret.length);
    const rx = rxOf(server, s);
    expect(rx.from).toBe(2);
    expect(rx.to).toBe(1);
    expect(rx.length).toBe(secret.length);
    const [frame] = rx.queuedFrames;
    expect(frame!.bytes).toBe(secret.length + 48);
    expect(h.pages.owners.get(rx.framePages[0]!)).toBe(0);
    expect(contains(h.peek(frame!.kva, frame!.bytes), secret)).toBe(false);
    // The staging page of the client holds it (container 2's page), nothing in JS.
    expect([h.pages.inUse(0), h.pages.inUse(1), h.pages.inUse(2)]).toEqual([1, 0, 1]);
    expect(findInObjectGraph([server.files, client.files, h.net, w.ipc], secret, [h.machine])).toEqual([]);
    expect(recv(h, server, s, 100)).toBe('sealed-canary-0123456789');
    // The emptied frame page stays for the next frame, as does the hold page of the server.
    expect([h.pages.inUse(0), h.pages.inUse(1), h.pages.inUse(2)]).toEqual([1, 1, 1]);
    close(server, s);
    close(client, c);
    expect(h.pages.total).toBe(0);
  });

  it('packs small writes into one page and keeps the unread rest of a frame for the next read', () => {
    const w = world();
    const { h, server, client } = w;
    const [c, s] = connection(w);
    for (let i = 0; i < 10; i++) expect(send(h, client, c, `msg${i}-`)).toBe(5);
    const rx = rxOf(server, s);
    expect(rx.framePages).toHaveLength(1);
    expect(rx.queuedFrames).toHaveLength(10);
    expect(recv(h, server, s, 3)).toBe('msg');
    expect(recv(h, server, s, 4, MSG.PEEK)).toBe('0-');
    expect(recv(h, server, s, 9)).toBe('0-msg1-ms');
    expect(rx.length).toBe(50 - 12);
    expect(recv(h, server, s, 100)).toBe('g2-msg3-msg4-msg5-msg6-msg7-msg8-msg9-');
    // The emptied page is kept (it was the only one) and refilled from its start.
    expect(rx.framePages).toHaveLength(1);
    expect(send(h, client, c, 'again')).toBe(5);
    expect(rx.queuedFrames[0]!.kva).toBe(rx.framePages[0]);
  });

  it('splits large writes into frames of at most a page and delivers every byte in order', () => {
    const w = world();
    const { h, server, client } = w;
    const [c, s] = connection(w);
    const data = pattern(30_000, 3);
    h.poke(SRC, data);
    expect(sys(client, Sys.sendto, c, SRC, data.length, 0, 0, 0)).toBe(data.length);
    const rx = rxOf(server, s);
    expect(Math.max(...rx.queuedFrames.map((f) => f.bytes))).toBe(4096);
    let got = 0;
    while (got < data.length) {
      const n = sys(server, Sys.recvfrom, s, DST + got, 7_000, 0, 0, 0);
      expect(n).toBeGreaterThan(0);
      got += n;
    }
    expect(h.peek(DST, data.length)).toEqual(data);
    expect(rx.framePages).toHaveLength(1);
  });

  it('limits the buffered payload to the socket buffer and wakes the sender when read', () => {
    const w = world();
    const { h, server, client } = w;
    const [c, s] = connection(w);
    const rx = rxOf(server, s);
    h.poke(SRC, pattern(rx.capacity + 10_000));
    expect(sys(client, Sys.sendto, c, SRC, rx.capacity + 10_000, 0, 0, 0)).toBe(rx.capacity);
    expect(rx.space).toBe(0);
    expect(send(h, client, c, 'more', MSG.DONTWAIT)).toBe(-Errno.EAGAIN);
    expect(send(h, client, c, 'more')).toBe(-ERESTARTSYS);
    expect(sys(server, Sys.recvfrom, s, DST, 5000, 0, 0, 0)).toBe(5000);
    expect(client.woken).toBe(1);
    expect(send(h, client, c, 'more')).toBe(4);
  });
});

describe('sealed connections: end of stream and refusals', () => {
  it('seals a FIN at shutdown(SHUT_WR): the reader opens it at the end; a close drops the channel', () => {
    const w = world();
    const { h, ipc, server, client } = w;
    const [c, s] = connection(w);
    expect(send(h, client, c, 'last')).toBe(4);
    expect(sys(client, Sys.shutdown, c, SHUT.WR)).toBe(0);
    const rx = rxOf(server, s);
    expect(rx.finSealed).toBe(true);
    expect(rx.queuedFrames.map((f) => f.bytes)).toEqual([52, 48]);
    expect(recv(h, server, s, 10)).toBe('last');
    expect(rx.finOpened).toBe(false);
    expect(recv(h, server, s, 10)).toBe('');
    expect(rx.finOpened).toBe(true);
    expect(ipc.openChannels).toBe(1);
    // The server answers; the client reads it, then sees the server's close and drops the channel.
    expect(send(h, server, s, 'bye')).toBe(3);
    close(server, s);
    expect(recv(h, client, c, 10)).toBe('bye');
    expect(recv(h, client, c, 10)).toBe('');
    expect(ipc.openChannels).toBe(0);
    expect(ipc.calls.close).toBe(1);
  });

  it('fails reads with EIO while a tampered frame is at the head, and on a reordered queue', () => {
    const w = world();
    const { h, server, client } = w;
    const [c, s] = connection(w);
    send(h, client, c, 'first');
    const rx = rxOf(server, s);
    const frame = rx.queuedFrames[0]!;
    const at = frame.kva + 34;
    h.poke(at, Uint8Array.of(h.peek(at, 1)[0]! ^ 0x80));
    expect(recv(h, server, s, 10)).toBe(-Errno.EIO);
    expect(recv(h, server, s, 10)).toBe(-Errno.EIO);
    expect(rx.length).toBe(5);

    // A kernel that swaps two queued frames: the first one opened is ahead of its turn.
    const v = world();
    const [vc, vs] = connection(v);
    send(v.h, v.client, vc, 'one');
    send(v.h, v.client, vc, 'two');
    const [f1, f2] = rxOf(v.server, vs).queuedFrames;
    const b1 = v.h.peek(f1!.kva, f1!.bytes);
    v.h.poke(f1!.kva, v.h.peek(f2!.kva, f2!.bytes));
    v.h.poke(f2!.kva, b1);
    expect(recv(v.h, v.server, vs, 10)).toBe(-Errno.EIO);
  });

  it('returns what was read before a refused frame, then EIO', () => {
    const w = world();
    const { h, server, client } = w;
    const [c, s] = connection(w);
    send(h, client, c, 'good');
    send(h, client, c, 'evil');
    const second = rxOf(server, s).queuedFrames[1]!;
    h.poke(second.kva + 40, Uint8Array.of(h.peek(second.kva + 40, 1)[0]! ^ 1));
    expect(recv(h, server, s, 10)).toBe('good');
    expect(recv(h, server, s, 10)).toBe(-Errno.EIO);
  });
});
