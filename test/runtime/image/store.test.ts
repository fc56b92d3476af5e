// The image store on disk: the OCI layout, blobs addressed by their SHA-256, built-in images
// (layers, determinism), verified reads, reference resolution.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_IMAGE_NAMES } from '../../../src/runtime/image/builtin.js';
import { ImageError } from '../../../src/runtime/image/errors.js';
import { RCX_MAGIC } from '../../../src/runtime/image/executables.js';
import {
  executableKind,
  imageRunConfig,
  ImageStore,
  listExecutables,
  MEDIA_TYPE,
} from '../../../src/runtime/image/index.js';
import { EXECUTABLE_MAGIC, executableImage } from '../../../src/user/program.js';
import { APPLET_NAMES } from '../../../src/user/programs/index.js';
import { freshStore, sha256, tempStateDir, utf8 } from './helpers.js';

describe('image store layout', () => {
  it('creates an empty OCI image layout under <state>/images', () => {
    const { store, stateDir } = freshStore();
    expect(store.root).toBe(path.join(stateDir, 'images'));
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(fs.readFileSync(path.join(store.root, 'index.json'), 'utf8'));
    expect(index).toEqual({ schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests: [] });
    expect(fs.readdirSync(path.join(store.root, 'blobs', 'sha256'))).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('stores every blob under the SHA-256 of its content', async () => {
    const { store } = freshStore();
    for (const name of BUILTIN_IMAGE_NAMES) await store.ensureBuiltin(name);
    const dir = path.join(store.root, 'blobs', 'sha256');
    const names = fs.readdirSync(dir);
    // Five manifests, five configs, one shared base layer, four app layers.
    expect(names).toHaveLength(15);
    for (const hex of names) expect(sha256(fs.readFileSync(path.join(dir, hex)))).toBe(`sha256:${hex}`);
    const index = JSON.parse(fs.readFileSync(path.join(store.root, 'index.json'), 'utf8'));
    expect(
      index.manifests.map(
        (d: { annotations: Record<string, string> }) => d.annotations['org.opencontainers.image.ref.name'],
      ),
    ).toEqual(['build:latest', 'busybox:latest', 'hackbench:latest', 'httpd:latest', 'kv:latest']);
  });

  it('leaves no temporary file behind', async () => {
    const { store, stateDir } = freshStore();
    await store.ensureBuiltin('kv');
    store.tag('kv', 'mine:1');
    store.remove('mine:1');
    expect(fs.readdirSync(path.join(stateDir, 'tmp'))).toEqual([]);
    expect(fs.readdirSync(store.root).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });
});

describe('built-in images', () => {
  it('are layered images with the documented commands', async () => {
    const { store } = freshStore();
    const cmds: Record<string, string[]> = {};
    for (const name of BUILTIN_IMAGE_NAMES) {
      const image = await store.ensureBuiltin(name);
      expect(image.tags).toEqual([`${name}:latest`]);
      expect(image.manifest.mediaType).toBe(MEDIA_TYPE.imageManifest);
      expect(image.manifest.config.mediaType).toBe(MEDIA_TYPE.imageConfig);
      expect(image.manifest.layers.every((l) => l.mediaType === MEDIA_TYPE.layerTar)).toBe(true);
      expect(image.config.architecture).toBe('arm64');
      expect(image.config.rootfs.diff_ids).toEqual(image.manifest.layers.map((l) => l.digest));
      expect(image.config.history).toHaveLength(image.manifest.layers.length);
      expect(image.manifest.layers).toHaveLength(name === 'busybox' ? 1 : 2);
      cmds[name] = [...imageRunConfig(image.config).cmd];
    }
    expect(cmds).toEqual({
      busybox: ['sh'],
      kv: ['kv-server', '-p', '6379'],
      httpd: ['httpd', '-p', '8080'],
      hackbench: ['hackbench'],
      build: ['build', '10'],
    });
  });

  it('hold the programs as executable files of the user layer', async () => {
    const { store } = freshStore();
    const tree = await store.unpack((await store.ensureBuiltin('httpd')).id);
    const byPath = new Map(tree.entries.map((e) => [e.path, e]));
    for (const name of ['sh', ...APPLET_NAMES, 'httpd', 'http-load']) {
      const entry = byPath.get(`/bin/${name}`);
      expect(entry?.type).toBe('file');
      if (entry?.type === 'file') expect(entry.content).toEqual(executableImage(name));
    }
    expect(byPath.get('/tmp')?.mode).toBe(0o1777);
    const passwd = byPath.get('/etc/passwd');
    expect(passwd?.type === 'file' && new TextDecoder().decode(passwd.content)).toContain('root:x:0:0:');
    expect(byPath.get('/var/www/index.html')?.type).toBe('file');
    const executables = listExecutables(tree);
    expect(executables.map((e) => e.path)).toContain('/bin/httpd');
    for (const exe of executables) {
      expect(exe.kind).toBe('rcx');
      expect(exe.digest).toBe(sha256(executableImage(exe.path.slice('/bin/'.length))));
    }
  });

  it('are deterministic: the same digests in two fresh stores', async () => {
    const first = freshStore().store;
    const second = freshStore().store;
    const bases = new Set<string>();
    for (const name of BUILTIN_IMAGE_NAMES) {
      const a = await first.ensureBuiltin(name);
      const b = await second.ensureBuiltin(`${name}:latest`);
      expect(b.manifestDigest).toBe(a.manifestDigest);
      expect(b.id).toBe(a.id);
      bases.add(a.manifest.layers[0]!.digest);
    }
    expect(bases.size).toBe(1);
  });

  it('are generated once, then found in the store', async () => {
    const { store } = freshStore();
    const first = await store.ensureBuiltin('busybox');
    const reopened = ImageStore.open(path.dirname(store.root));
    expect((await reopened.ensureBuiltin('busybox')).manifestDigest).toBe(first.manifestDigest);
  });

  it('refuse unknown names, and generation without a program catalogue', async () => {
    const { store } = freshStore();
    await expect(store.ensureBuiltin('nginx')).rejects.toThrow("'nginx' is not a built-in image");
    const bare = ImageStore.open(tempStateDir());
    await expect(bare.ensureBuiltin('busybox')).rejects.toThrow('need a program catalogue');
  });
});

describe('verified reads', () => {
  it('refuse a tampered layer blob', async () => {
    const { store } = freshStore();
    const image = await store.ensureBuiltin('kv');
    const layer = image.manifest.layers[1]!.digest;
    expect(store.readLayer(layer)).toHaveLength(image.manifest.layers[1]!.size);
    const file = path.join(store.root, 'blobs', 'sha256', layer.slice(7));
    const bytes = fs.readFileSync(file);
    bytes[600] = bytes[600]! ^ 1;
    fs.writeFileSync(file, bytes);
    expect(() => store.readLayer(layer)).toThrow(ImageError);
    expect(() => store.readLayer(layer)).toThrow(`blob ${layer} is corrupted`);
    await expect(store.unpack('kv')).rejects.toThrow(`blob ${layer} is corrupted`);
    // The other images do not use that layer.
    await store.ensureBuiltin('busybox');
    await expect(store.unpack('busybox')).resolves.toBeDefined();
  });

  it('refuse a tampered config or manifest, and a missing blob', async () => {
    const { store } = freshStore();
    const image = await store.ensureBuiltin('busybox');
    const configFile = path.join(store.root, 'blobs', 'sha256', image.configDigest.slice(7));
    fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace('"sh"', '"id"'));
    expect(() => store.readConfig(image.configDigest)).toThrow(`blob ${image.configDigest} is corrupted`);
    expect(() => store.resolve('busybox')).toThrow(`blob ${image.configDigest} is corrupted`);
    fs.rmSync(path.join(store.root, 'blobs', 'sha256', image.manifestDigest.slice(7)));
    expect(() => store.readManifest(image.manifestDigest)).toThrow(`blob ${image.manifestDigest} is missing`);
    expect(() => store.readBlob('sha256:../../etc/passwd')).toThrow('is not a sha256 digest');
  });
});

describe('references', () => {
  it('resolve names, tags, IDs and digests', async () => {
    const { store } = freshStore();
    const image = await store.ensureBuiltin('busybox');
    await store.ensureBuiltin('kv');
    for (const ref of [
      'busybox',
      'busybox:latest',
      'docker.io/library/busybox:latest',
      image.id,
      image.id.slice(7, 19),
      image.id.slice(0, 19),
      image.manifestDigest,
      `busybox@${image.manifestDigest}`,
    ]) {
      expect(store.resolve(ref).manifestDigest, ref).toBe(image.manifestDigest);
    }
    expect(() => store.resolve('busybox:1.36')).toThrow('no such image: busybox:1.36');
    expect(() => store.resolve('Busybox')).toThrow("invalid image name 'Busybox'");
    expect(() => store.resolve(`kv@${image.manifestDigest}`)).toThrow('no such image');
    expect(() => store.resolve('sha256:zz')).toThrow('invalid image ID');
    expect(store.has('kv')).toBe(true);
    expect(store.has('nothere')).toBe(false);
  });

  it('tag adds a name, and moving a tag leaves the old image dangling', async () => {
    const { store } = freshStore();
    const busybox = await store.ensureBuiltin('busybox');
    const kv = await store.ensureBuiltin('kv');
    expect(store.tag('busybox', 'registry.local:5000/team/shell:v1').tags).toEqual([
      'busybox:latest',
      'registry.local:5000/team/shell:v1',
    ]);
    store.tag(kv.id, 'busybox');
    expect(store.resolve('busybox').manifestDigest).toBe(kv.manifestDigest);
    expect(store.resolve(busybox.id).tags).toEqual(['registry.local:5000/team/shell:v1']);
  });
});

describe('executables', () => {
  it('are told apart by their first bytes', () => {
    expect(new TextDecoder().decode(RCX_MAGIC)).toBe(EXECUTABLE_MAGIC);
    expect(executableKind(executableImage('sh'))).toBe('rcx');
    expect(executableKind(utf8('#!/bin/sh\necho hi\n'))).toBe('script');
    expect(executableKind(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]))).toBe('elf');
    expect(executableKind(utf8('hello'))).toBe('unknown');
    expect(executableKind(new Uint8Array(0))).toBe('unknown');
  });
});
