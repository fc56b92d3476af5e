/**
 * `nc HOST PORT`: connect to HOST:PORT over TCP and relay, as busybox nc does: standard input to
 * the connection (its end shuts the sending side, a FIN), the connection to standard output. It
 * exits when the peer ends the connection (0), or with 1 when it cannot connect. HOST is an IPv4
 * address or `localhost`. With no poll(2) here, a child process carries standard input while the
 * parent reads the connection.
 */
import { INADDR_LOOPBACK, SHUT, SIG } from '../../../kernel/uapi/flags.js';
import { fail, perror } from '../../libc/errors.js';
import { fork } from '../../libc/fork.js';
import { parseIpv4, tcpConnect } from '../../libc/net.js';
import { defineProgram } from '../../libc/program.js';
import { isError } from '../../libc/syscall.js';
import { close } from '../../libc/sys-fs.js';
import { shutdown } from '../../libc/sys-net.js';
import { kill } from '../../libc/sys-proc.js';
import { waitpid } from '../../libc/wait.js';
import { copyFd } from './tree.js';

/** The program `nc`. */
export const ncMain = defineProgram(function* nc(p) {
  const [host, portText] = p.argv.slice(1);
  if (host === undefined || portText === undefined || p.argv.length !== 3)
    return yield* fail(p, 'usage: nc HOST PORT');
  const address = host === 'localhost' ? INADDR_LOOPBACK : parseIpv4(host);
  if (address === undefined) return yield* fail(p, `bad address '${host}'`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return yield* fail(p, `bad port '${portText}'`);
  const fd = yield* tcpConnect(p, port, address);
  if (isError(fd)) {
    yield* perror(p, `${host}:${port}`, fd);
    return 1;
  }
  const sender = yield* fork(p, function* (child) {
    yield* copyFd(child, 0, fd);
    yield* shutdown(fd, SHUT.WR);
    return 0;
  });
  const received = yield* copyFd(p, fd, 1);
  // The peer ended: what is still typed has nowhere to go.
  if (!isError(sender)) {
    yield* kill(sender, SIG.KILL);
    yield* waitpid(p, sender);
  }
  yield* close(fd);
  if (isError(received)) {
    yield* perror(p, 'read', received);
    return 1;
  }
  return 0;
});
