// OCI runtime-spec bundles: validation with one-line errors, the untrusted-volume policy, and the
// spec built from an image configuration and run options.
import { describe, expect, it } from 'vitest';
import {
  BundleError,
  execPolicyOf,
  OCI_VERSION,
  parseRuntimeSpec,
  specFromImage,
} from '../../../src/runtime/bundle/spec.js';

const minimal = {
  ociVersion: '1.0.2',
  process: { args: ['sh'], cwd: '/' },
  root: { path: 'rootfs' },
};

describe('config.json', () => {
  it('accepts a minimal bundle and refuses bad ones naming the field', () => {
    expect(parseRuntimeSpec(JSON.stringify(minimal)).process.args).toEqual(['sh']);
    const bad = (patch: object): string => {
      try {
        parseRuntimeSpec(JSON.stringify({ ...minimal, ...patch }));
      } catch (e) {
        if (e instanceof BundleError) return e.message;
      }
      throw new Error('expected a BundleError');
    };
    expect(bad({ ociVersion: '2.0.0' })).toBe('config.json: ociVersion: unsupported runtime-spec version');
    expect(bad({ process: { args: [], cwd: '/' } })).toBe(
      'config.json: process.args: needs at least one argument',
    );
    expect(bad({ process: { args: ['sh'], cwd: 'tmp' } })).toBe(
      'config.json: process.cwd: must be an absolute path',
    );
    expect(bad({ process: { args: ['sh'], cwd: '/', env: ['NOEQUALS'] } })).toMatch(
      /process.env.0: must be NAME=value/,
    );
    expect(bad({ linux: { namespaces: [{ type: 'time' }] } })).toMatch(
      /^config.json: linux.namespaces.0.type:/,
    );
    expect(() => parseRuntimeSpec('{')).toThrow(/^config.json is not JSON/);
    expect(bad({ annotations: { 'org.rcontainer.exec-policy': 'sometimes' } })).toBe(
      "config.json: annotations.org.rcontainer.exec-policy: 'sometimes' is not one of measuredOnly, allow, deny",
    );
  });

  it('names the exec policy in an annotation, measuredOnly by default', () => {
    const plain = parseRuntimeSpec(JSON.stringify(minimal));
    expect(execPolicyOf(plain)).toBe('measuredOnly');
    const denied = parseRuntimeSpec(
      JSON.stringify({ ...minimal, annotations: { 'org.rcontainer.exec-policy': 'deny' } }),
    );
    expect(execPolicyOf(denied)).toBe('deny');
  });

  it('turns every bind mount into an untrusted, noexec volume', () => {
    const spec = parseRuntimeSpec(
      JSON.stringify({
        ...minimal,
        mounts: [
          { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rw'] },
          { destination: '/proc', type: 'proc', source: 'proc' },
        ],
      }),
    );
    expect(spec.mounts![0]!.options).toEqual(['rbind', 'rw', 'noexec']);
    expect(spec.mounts![1]!.options).toBeUndefined();
    expect(spec.annotations).toEqual({ 'org.rcontainer.untrusted-volumes': '/data' });
  });
});

describe('a bundle from an image', () => {
  const image = {
    Entrypoint: null,
    Cmd: ['kv-server', '6379'],
    Env: ['PATH=/bin', 'MODE=a'],
    WorkingDir: '/srv',
  };

  it('takes the image command, env and workdir, with run options on top', () => {
    const spec = specFromImage(image, {
      env: ['MODE=b', 'EXTRA=1'],
      hostname: 'kv',
      volumes: [{ source: '/tmp/x', destination: '/x', readonly: true }],
      memoryBytes: 64 * 2 ** 20,
      user: { uid: 1000, gid: 1000 },
    });
    expect(spec.ociVersion).toBe(OCI_VERSION);
    expect(spec.process).toEqual({
      args: ['kv-server', '6379'],
      env: ['PATH=/bin', 'MODE=b', 'EXTRA=1'],
      cwd: '/srv',
      user: { uid: 1000, gid: 1000 },
    });
    expect(spec.hostname).toBe('kv');
    expect(spec.linux?.resources?.memory?.limit).toBe(64 * 2 ** 20);
    expect(spec.mounts!.find((m) => m.destination === '/x')!.options).toEqual(['rbind', 'ro', 'noexec']);
  });

  it('lets run arguments replace Cmd but not Entrypoint, and refuses a missing command', () => {
    expect(specFromImage(image, { args: ['kv-client', 'PING'] }).process.args).toEqual(['kv-client', 'PING']);
    expect(specFromImage({ ...image, Entrypoint: ['env'] }, { args: ['true'] }).process.args).toEqual([
      'env',
      'true',
    ]);
    expect(() => specFromImage({ Cmd: null }, {})).toThrow(
      'no command: the image has no Cmd and none was given',
    );
    expect(() => specFromImage(image, { env: ['BARE'] })).toThrow(
      "environment entry 'BARE' is not NAME=value",
    );
    expect(() => specFromImage({ ...image, User: 'nobody' }, {})).toThrow(
      "image user 'nobody' is not numeric uid[:gid]",
    );
  });
});
