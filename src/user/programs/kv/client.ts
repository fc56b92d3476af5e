/**
 * `kv-client [-h HOST] [-p PORT] [-n REQUESTS] [-d BYTES] [COMMAND [ARG...]]`: send one command and
 * print the reply like redis-cli, or with -n run a benchmark of N requests (alternating SET and GET
 * of `key:<i>` with values of -d bytes), checking every GET, and report the simulated time.
 */
import { strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs, parseCount } from '../../libc/args.js';
import { decodeUtf8 } from '../../libc/cstring.js';
import { fail } from '../../libc/errors.js';
import { format } from '../../libc/format.js';
import { writeBytes } from '../../libc/io.js';
import { parseIpv4, tcpConnectRetry } from '../../libc/net.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close } from '../../libc/sys-fs.js';
import { clockNs } from '../../libc/time.js';
import { ReplyReader } from './reply-reader.js';
import { encodeCommand, formatReply } from './resp.js';
import { KV_DEFAULT_PORT } from './server.js';

/** The value the benchmark stores under key i. */
export function benchmarkValue(i: number, bytes: number): string {
  const seed = `v${i}-`;
  return seed.repeat(Math.ceil(bytes / seed.length)).slice(0, bytes);
}

function* benchmark(p: Proc, fd: number, requests: number, valueBytes: number): Call<number> {
  const reader = new ReplyReader(p, fd);
  const start = yield* clockNs(p);
  let errors = 0;
  for (let i = 0; i < requests; i++) {
    const key = `key:${Math.floor(i / 2)}`;
    const expected = benchmarkValue(Math.floor(i / 2), valueBytes);
    const command = i % 2 === 0 ? ['SET', key, expected] : ['GET', key];
    const sent = yield* writeBytes(p, fd, encodeCommand(command));
    if (isError(sent)) return yield* fail(p, `write: ${strerror(sent)}`);
    const reply = yield* reader.next();
    if (typeof reply === 'string') return yield* fail(p, reply);
    const ok =
      i % 2 === 0
        ? reply.type === 'simple'
        : reply.type === 'bulk' && reply.data !== undefined && decodeUtf8(reply.data) === expected;
    if (!ok) errors++;
  }
  const end = yield* clockNs(p);
  yield* reader.close();
  const ms = (end - start) / 1e6;
  const rate = ms > 0 ? (requests * 1000) / ms : 0;
  yield* p.stdout.print(
    format(
      'kv-client: %d requests in %.3f ms (simulated), %.1f requests/s, %d errors\n',
      requests,
      ms,
      rate,
      errors,
    ),
  );
  return errors === 0 ? 0 : 1;
}

/** The program `kv-client`. */
export const kvClientMain = defineProgram(function* kvClient(p) {
  const args = parseArgs(p.argv.slice(1), { values: 'hpnd', stopAtOperand: true, long: { port: 'p' } });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const address = parseIpv4(args.values.get('h') ?? '127.0.0.1');
  const port = parseCount(args.values.get('p') ?? String(KV_DEFAULT_PORT));
  const requests = parseCount(args.values.get('n') ?? '0');
  const valueBytes = parseCount(args.values.get('d') ?? '3');
  if (address === undefined || port === undefined || requests === undefined || valueBytes === undefined) {
    return yield* fail(p, 'usage: kv-client [-h HOST] [-p PORT] [-n REQUESTS] [-d BYTES] [COMMAND [ARG...]]');
  }
  const command = args.operands.length > 0 ? args.operands : requests === 0 ? ['PING'] : [];
  const fd = yield* tcpConnectRetry(p, port, address);
  if (isError(fd)) return yield* fail(p, `can't connect to port ${port}: ${strerror(fd)}`);
  try {
    if (requests > 0) return yield* benchmark(p, fd, requests, valueBytes);
    const sent = yield* writeBytes(p, fd, encodeCommand(command));
    if (isError(sent)) return yield* fail(p, `write: ${strerror(sent)}`);
    if (command[0]?.toUpperCase() === 'SHUTDOWN') return 0;
    const reader = new ReplyReader(p, fd);
    const reply = yield* reader.next();
    yield* reader.close();
    if (typeof reply === 'string') return yield* fail(p, reply);
    yield* p.stdout.print(`${formatReply(reply)}\n`);
    return reply.type === 'error' ? 1 : 0;
  } finally {
    yield* close(fd);
  }
});
