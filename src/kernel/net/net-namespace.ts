/**
 * Network namespaces (Linux struct net): each has its own loopback device, its own table of
 * bound ports and its own registry of bound UNIX socket names. A socket belongs to the namespace of
 * the task that created it; binds and connects look only there, so a name bound in one namespace
 * cannot be reached from another.
 *
 * SIMPLIFICATION: a UNIX pathname address is a key in this registry, not an inode of the file
 * system (no socket file appears, the name is relative to nothing, and it disappears when the
 * socket closes instead of at unlink). Abstract names (leading NUL) behave as in Linux.
 */
import type { Socket } from './socket.js';

/** First and last ephemeral port (Linux net.ipv4.ip_local_port_range defaults). */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

/** A network namespace. */
export class NetNamespace {
  /** Bound UNIX names (the raw sun_path bytes, as a latin1 string) → socket. */
  private readonly unixNames = new Map<string, Socket>();
  /**
   * Bound TCP ports → socket. SIMPLIFICATION: one socket per port whatever the local address
   * (only 127.0.0.1 and 0.0.0.0 exist), and no SO_REUSEADDR.
   */
  private readonly ports = new Map<number, Socket>();
  private nextEphemeral = EPHEMERAL_FIRST;

  /** A fresh namespace (CLONE_NEWNET, unshare): nothing bound, only its own loopback. */
  clone(): NetNamespace {
    return new NetNamespace();
  }

  /** The socket bound to UNIX name `name`. */
  unixSocket(name: string): Socket | undefined {
    return this.unixNames.get(name);
  }

  /** Bind `name` to `socket`; false if the name is taken. */
  bindUnix(name: string, socket: Socket): boolean {
    if (this.unixNames.has(name)) return false;
    this.unixNames.set(name, socket);
    return true;
  }

  /** Drop the binding of `name` if `socket` holds it. */
  unbindUnix(name: string, socket: Socket): void {
    if (this.unixNames.get(name) === socket) this.unixNames.delete(name);
  }

  /** The socket bound to TCP port `port`. */
  portSocket(port: number): Socket | undefined {
    return this.ports.get(port);
  }

  /** Bind `port` to `socket`; false if the port is taken. */
  bindPort(port: number, socket: Socket): boolean {
    if (this.ports.has(port)) return false;
    this.ports.set(port, socket);
    return true;
  }

  /** Drop the binding of `port` if `socket` holds it. */
  unbindPort(port: number, socket: Socket): void {
    if (this.ports.get(port) === socket) this.ports.delete(port);
  }

  /** A free ephemeral port (searched round-robin from the last one given), or undefined if none. */
  freeEphemeralPort(): number | undefined {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    for (let i = 0; i < span; i++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
      if (!this.ports.has(port)) return port;
    }
    return undefined;
  }

  /** Number of bound names and ports (for tests and /proc). */
  get bindings(): number {
    return this.unixNames.size + this.ports.size;
  }
}
