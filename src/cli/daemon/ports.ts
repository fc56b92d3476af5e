/**
 * Published ports (`-p HOST_PORT:CONTAINER_PORT`): the daemon listens on 127.0.0.1:HOST_PORT of
 * the real host and, for each connection, starts a relay on the machine, a host process
 * `nsenter -t <init pid> -n nc 127.0.0.1 CONTAINER_PORT`, as docker-proxy relays into a
 * container's network namespace. The connection's bytes become the relay's console input and
 * its output goes back to the connection; between the relay and the container they cross the
 * container boundary as rc_ipc_out sealed frames (DESIGN.md §4 "I/O"). The host sees them in
 * plaintext, as the paper says: network confidentiality is the application's job (TLS).
 *
 * SIMPLIFICATION: TCP only, and only on 127.0.0.1 (the host's other interfaces are not opened).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SimSystem, SpawnError } from '../../designs/system.js';
import type { ThreadGroup } from '../../kernel/core/task.js';
import { SIG } from '../../kernel/uapi/flags.js';
import type { RuntimeSpec } from '../../runtime/bundle/spec.js';
import { EngineError } from '../errors.js';
import { ApiError } from './errors.js';

/** A published port. */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
}

/** The spec annotation that keeps a container's published ports ("6379:6379,8080:80"). */
export const PORTS_ANNOTATION = 'org.rcontainer.ports';

/** Parse `-p [127.0.0.1:]HOST_PORT:CONTAINER_PORT[/tcp]` (EngineError names a bad one). */
export function parsePort(text: string): PortMapping {
  const match = /^(?:127\.0\.0\.1:)?(\d{1,5}):(\d{1,5})(?:\/tcp)?$/.exec(text);
  const hostPort = Number(match?.[1]);
  const containerPort = Number(match?.[2]);
  if (match === null || !validPort(hostPort) || !validPort(containerPort))
    throw new EngineError(
      `invalid port '${text}': use [127.0.0.1:]HOST_PORT:CONTAINER_PORT with ports 1 to 65535 (TCP only)`,
    );
  return { hostPort, containerPort };
}

/** True for a TCP port number. */
function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** The published ports a spec keeps. */
export function portsOf(spec: RuntimeSpec): PortMapping[] {
  const text = spec.annotations?.[PORTS_ANNOTATION];
  if (text === undefined || text === '') return [];
  return text.split(',').map((pair) => {
    const [host, container] = pair.split(':');
    return { hostPort: Number(host), containerPort: Number(container) };
  });
}

/** The annotation value of `mappings`. */
export function portsAnnotation(mappings: readonly PortMapping[]): string {
  return mappings.map((m) => `${m.hostPort}:${m.containerPort}`).join(',');
}

/** Docker's `ps` words for published ports: "127.0.0.1:6379->6379/tcp, ...". */
export function portsText(mappings: readonly PortMapping[]): string {
  return mappings.map((m) => `127.0.0.1:${m.hostPort}->${m.containerPort}/tcp`).join(', ');
}

/** One relayed connection. */
interface Relay {
  readonly socket: Socket;
  readonly group: ThreadGroup;
  readonly session: number;
  readonly hostPort: number;
  /** Bytes from the connection the relay's input could not take yet. */
  readonly pending: Uint8Array[];
  /** The connection's sending side ended (the relay's input is closed once `pending` is in). */
  ended: boolean;
}

/** The listeners and relays of the published ports of a machine. */
export class PortPublisher {
  private readonly listeners = new Map<string, Server[]>();
  private readonly relays = new Set<Relay>();
  private readonly system: SimSystem;
  private readonly warn: (message: string) => void;
  private readonly wake: () => void;

  /** `wake` runs the machine (a connection brought work); `warn` gets what relays say on stderr. */
  constructor(system: SimSystem, warn: (message: string) => void, wake: () => void) {
    this.system = system;
    this.warn = warn;
    this.wake = wake;
  }

  /**
   * Listen on each host port of container `containerId` (500, Docker's "port is already
   * allocated", when one is taken: none stays open then). `initPid` gives the global pid of the
   * container's init when a connection comes (undefined: it is not running; the connection is
   * closed).
   */
  async publish(
    containerId: string,
    mappings: readonly PortMapping[],
    initPid: () => number | undefined,
  ): Promise<void> {
    const servers: Server[] = [];
    try {
      for (const mapping of mappings) {
        const server = createServer((socket) => this.relay(socket, mapping, initPid()));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(mapping.hostPort, '127.0.0.1', () => resolve());
        });
        servers.push(server);
      }
    } catch (error) {
      for (const server of servers) server.close();
      const code = (error as NodeJS.ErrnoException).code;
      const port = mappings[servers.length]?.hostPort;
      throw new ApiError(
        `Bind for 127.0.0.1:${port} failed: ${code === 'EADDRINUSE' ? 'port is already allocated' : (code ?? (error as Error).message)}`,
        500,
      );
    }
    this.listeners.set(containerId, servers);
  }

  /** Stop listening for container `containerId` (its relays end with its processes). */
  unpublish(containerId: string): void {
    for (const server of this.listeners.get(containerId) ?? []) server.close();
    this.listeners.delete(containerId);
  }

  /** Stop every listener and connection (the daemon closes). */
  closeAll(): void {
    for (const id of [...this.listeners.keys()]) this.unpublish(id);
    for (const relay of this.relays) relay.socket.destroy();
  }

  /** After each run of the machine: move bytes both ways and end the relays that exited. */
  settle(): void {
    const consoleDevice = this.system.kernel.consoleDevice;
    for (const relay of [...this.relays]) {
      this.feed(relay);
      for (const chunk of consoleDevice.drain(0, relay.session)) {
        if (chunk.stream === 1) relay.socket.write(chunk.bytes);
        else this.warn(`port ${relay.hostPort}: ${new TextDecoder().decode(chunk.bytes).trimEnd()}`);
      }
      if (relay.group.exitStatus === undefined) continue;
      relay.socket.end();
      consoleDevice.forgetSession(0, relay.session);
      this.relays.delete(relay);
    }
  }

  /** Start a relay for a new connection to `mapping`. */
  private relay(socket: Socket, mapping: PortMapping, pid: number | undefined): void {
    if (pid === undefined) {
      socket.destroy();
      return;
    }
    let group: ThreadGroup;
    try {
      group = this.system.startProcess(0, {
        argv: ['nsenter', '-t', String(pid), '-n', 'nc', '127.0.0.1', String(mapping.containerPort)],
        ownSession: true,
      });
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      this.warn(`port ${mapping.hostPort}: cannot start its relay: ${error.message}`);
      socket.destroy();
      return;
    }
    const session = this.system.consoleSession(group);
    this.system.kernel.consoleDevice.setInput(0, session, new Uint8Array(0), { open: true, terminal: false });
    const relay: Relay = { socket, group, session, hostPort: mapping.hostPort, pending: [], ended: false };
    this.relays.add(relay);
    socket.on('data', (chunk: Buffer) => {
      relay.pending.push(chunk);
      this.feed(relay);
      this.wake();
    });
    socket.on('end', () => {
      relay.ended = true;
      this.feed(relay);
      this.wake();
    });
    // The client went away: the relay has nobody to answer.
    socket.on('close', () => {
      if (group.exitStatus === undefined) this.system.kernel.signalGroup(group, SIG.KILL);
      this.wake();
    });
    socket.on('error', () => socket.destroy());
    this.wake();
  }

  /** Push what came from the connection into the relay's input; pause the connection while it is full. */
  private feed(relay: Relay): void {
    const consoleDevice = this.system.kernel.consoleDevice;
    if (relay.group.exitStatus !== undefined || !consoleDevice.inputOpen(0, relay.session)) return;
    if (!consoleDevice.pushPending(0, relay.session, relay.pending)) relay.socket.pause();
    else {
      relay.socket.resume();
      if (relay.ended) consoleDevice.closeInput(0, relay.session);
    }
  }
}
