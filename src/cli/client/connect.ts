/**
 * Finding and talking to the engine daemon (docs/api.md): `<state>/daemon.json` says where it
 * listens (`{ pid, url }` or `{ pid, socket }`); it is running when that process lives and answers
 * `GET /_ping`. Requests go over node:http, to a loopback URL or a UNIX socket alike.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { join } from 'node:path';
import { EngineError } from '../errors.js';

/** Where a daemon listens, as `<state>/daemon.json` records it. */
export type DaemonAddress =
  { readonly pid: number; readonly url: string } | { readonly pid: number; readonly socket: string };

/** The answer to one request: its HTTP status and body text. */
export interface ApiResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly text: string;
}

/** How long a daemon may take to answer `/_ping` before it counts as not running. */
const PING_TIMEOUT_MS = 2_000;

/** The one-line error of a command that needs the daemon when none runs (exit 125). */
export const NO_DAEMON = 'no daemon is running (start one with `rcontainer daemon`)';

/** An error answer of the API: Docker's status and message (exit 125 unless a command says otherwise). */
export class ApiError extends EngineError {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** A connection to a running daemon. */
export class DaemonClient {
  readonly address: DaemonAddress;

  constructor(address: DaemonAddress) {
    this.address = address;
  }

  /** Where the daemon listens, for messages. */
  get where(): string {
    return 'url' in this.address ? this.address.url : `unix://${this.address.socket}`;
  }

  /** One request; any status is returned (a failure to connect throws an EngineError). */
  async raw(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<ApiResponse> {
    const chunks: Buffer[] = [];
    const status = await this.send(method, path, body, timeoutMs, (chunk) => chunks.push(chunk));
    const bytes = Buffer.concat(chunks);
    return { status, body: bytes, text: bytes.toString('utf8') };
  }

  /**
   * A request whose answer is passed on chunk by chunk as it arrives (a followed log) until the
   * daemon ends it; an error answer throws an ApiError.
   */
  async stream(method: string, path: string, onChunk: (chunk: Buffer) => void): Promise<void> {
    const failed: Buffer[] = [];
    const status = await this.send(method, path, undefined, undefined, (chunk, code) => {
      if (code >= 200 && code < 300) onChunk(chunk);
      else failed.push(chunk);
    });
    if (status < 200 || status >= 300) {
      const bytes = Buffer.concat(failed);
      throw new ApiError(errorMessage({ status, body: bytes, text: bytes.toString('utf8') }), status);
    }
  }

  /** Send one request, handing each chunk of the answer to `onData`: resolves to the status. */
  private send(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number | undefined,
    onData: (chunk: Buffer, status: number) => void,
  ): Promise<number> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const target: RequestOptions =
      'url' in this.address
        ? { ...urlTarget(this.address.url), path }
        : { socketPath: this.address.socket, path };
    const options: RequestOptions = {
      ...target,
      method,
      agent: false,
      headers:
        payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
    };
    return new Promise<number>((resolvePromise, reject) => {
      const req = httpRequest(options, (res) => {
        const status = res.statusCode ?? 0;
        res.on('data', (chunk: Buffer) => onData(chunk, status));
        res.on('end', () => resolvePromise(status));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error: NodeJS.ErrnoException) =>
        reject(new EngineError(`cannot reach the daemon at ${this.where}: ${error.code ?? error.message}`)),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** A request that must succeed (2xx or 304); an error answer throws an ApiError. */
  async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const response = await this.raw(method, path, body);
    if ((response.status >= 200 && response.status < 300) || response.status === 304) return response;
    throw new ApiError(errorMessage(response), response.status);
  }

  /** A request whose answer is JSON. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.call(method, path, body);
    try {
      return JSON.parse(response.text) as T;
    } catch {
      throw new EngineError(`the daemon answered ${method} ${path} with something that is not JSON`);
    }
  }
}

/** The daemon of a state directory, or undefined when none runs there. */
export async function findDaemon(state: string): Promise<DaemonClient | undefined> {
  const address = readAddress(join(state, 'daemon.json'));
  if (address === undefined || !alive(address.pid)) return undefined;
  const client = new DaemonClient(address);
  try {
    const pong = await client.raw('GET', '/_ping', undefined, PING_TIMEOUT_MS);
    return pong.status === 200 ? client : undefined;
  } catch {
    return undefined;
  }
}

/** The daemon of a state directory; an EngineError (exit 125) when none runs. */
export async function needDaemon(state: string): Promise<DaemonClient> {
  const client = await findDaemon(state);
  if (client === undefined) throw new EngineError(NO_DAEMON);
  return client;
}

/** `{ message }` of an error answer, else its status line. */
function errorMessage(response: ApiResponse): string {
  try {
    const parsed = JSON.parse(response.text) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // not JSON: fall through
  }
  const text = response.text.trim().split('\n')[0] ?? '';
  return text !== '' ? text : `the daemon answered ${response.status}`;
}

function readAddress(path: string): DaemonAddress | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as { pid?: unknown; url?: unknown; socket?: unknown };
  if (typeof record.pid !== 'number') return undefined;
  if (typeof record.url === 'string') return { pid: record.pid, url: record.url };
  if (typeof record.socket === 'string') return { pid: record.pid, socket: record.socket };
  return undefined;
}

/** True when a process with this id exists (EPERM: it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function urlTarget(url: string): RequestOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EngineError(`daemon.json names a bad URL '${url}'`);
  }
  return { host: parsed.hostname, port: parsed.port === '' ? 80 : Number(parsed.port) };
}
