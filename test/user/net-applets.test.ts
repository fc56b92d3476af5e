// nc and nsenter on the whole system: a client in the container, and a host process that joins the
// container's network namespace (as the daemon's port relay does), under both designs.
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../src/designs/system.js';

const text = (bytes: readonly number[]): string => new TextDecoder().decode(new Uint8Array(bytes));

describe.each(['native', 'rcontainer'] as const)('nc and nsenter under %s', (design) => {
  it('talk to a server in the container, from inside and from the host', () => {
    const system = new SimSystem({ design });
    const init = system.spawn({
      argv: [
        'sh',
        '-c',
        'kv-server -p 6379 & sleep 0.01; echo PING | nc 127.0.0.1 6379; nc 127.0.0.1 1; echo "refused $?"; sleep 1',
      ],
    });
    system.runFor(50_000_000);
    const server = [...system.kernel.allGroups()].find((g) => g.cid === init.cid && g !== init)!;
    expect(text(system.kernel.consoleDevice.log(init.cid))).toBe(
      'kv-server: listening on port 6379\n+PONG\r\nnc: 127.0.0.1:1: Connection refused\nrefused 1\n',
    );
    // From the host: join the server's network namespace, then connect to its loopback.
    const relay = system.startProcess(0, {
      argv: ['nsenter', '-t', String(server.tgid), '-n', 'nc', 'localhost', '6379'],
      ownSession: true,
    });
    const session = system.consoleSession(relay);
    expect(session).toBeGreaterThan(0);
    system.kernel.consoleDevice.setInput(0, session, new TextEncoder().encode('SET k v\r\nGET k\r\n'));
    system.runFor(50_000_000);
    expect(text(system.kernel.consoleDevice.log(0, session))).toBe('+OK\r\n$1\r\nv\r\n');
    // Its input ended: nc shut its sending side, the server closed the connection, nc exited.
    expect(relay.exitStatus).toBe(0);
  });

  it('refuse bad arguments with their exit codes', () => {
    const system = new SimSystem({ design });
    const init = system.spawn({
      argv: [
        'sh',
        '-c',
        'nc; echo $?; nc 1.2.3 80; nc 127.0.0.1 99999; nsenter; echo $?; nsenter --net=/nope true; echo $?; nsenter --net=/proc/self/ns/net nosuch; echo $?; nsenter --net=/proc/self/ns/net echo joined',
      ],
    });
    system.run(50_000_000);
    expect(init.exitStatus).toBe(0);
    expect(text(system.kernel.consoleDevice.log(init.cid))).toBe(
      [
        'nc: usage: nc HOST PORT',
        '1',
        "nc: bad address '1.2.3'",
        "nc: bad port '99999'",
        'nsenter: usage: nsenter --net=FILE | -t PID -n [--] PROGRAM [ARGS...]',
        '1',
        'nsenter: cannot open /nope: No such file or directory',
        '1',
        'nsenter: failed to execute nosuch: No such file or directory',
        '127',
        'joined',
        '',
      ].join('\n'),
    );
  });
});
