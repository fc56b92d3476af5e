// Import and export: docker save (legacy and Docker 25+) and OCI layout archives, round trips that
// keep digests, platform selection, and the guarantee that a failed import changes nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { MEDIA_TYPE } from '../../../src/runtime/image/index.js';
import {
  configFor,
  freshStore,
  json,
  legacyDockerSave,
  manifestFor,
  ociArchive,
  sha256,
  snapshot,
  tarOf,
  type RawEntry,
} from './helpers.js';

/** The names and contents of a tar's files. */
async function filesOf(tar: Uint8Array): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const archive = extract();
  archive.end(Buffer.from(tar));
  for await (const entry of archive) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    files.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
  }
  return files;
}

const BASE: RawEntry[] = [
  { name: 'bin/', type: 'directory' },
  { name: 'bin/sh', mode: 0o755, content: '\x7fRCX sh\n' },
  { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
];

describe('export and import (docker save format)', () => {
  it('round-trips with the same manifest and config digests', async () => {
    const { store } = freshStore();
    const kv = await store.ensureBuiltin('kv');
    const saved = await store.export('kv');
    expect(await store.export('kv')).toEqual(saved);
    const files = await filesOf(saved);
    expect(JSON.parse(files.get('manifest.json')!)).toEqual([
      {
        Config: `blobs/sha256/${kv.configDigest.slice(7)}`,
        RepoTags: ['kv:latest'],
        Layers: kv.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      },
    ]);
    expect(JSON.parse(files.get('index.json')!).manifests[0].annotations).toEqual({
      'io.containerd.image.name': 'docker.io/library/kv:latest',
      'org.opencontainers.image.ref.name': 'latest',
    });
    const other = freshStore().store;
    const [loaded] = await other.import(saved);
    expect(loaded?.tags).toEqual(['kv:latest']);
    expect(loaded?.manifestDigest).toBe(kv.manifestDigest);
    expect(loaded?.configDigest).toBe(kv.configDigest);
    expect(snapshot(path.join(other.root, 'blobs'))).toEqual(snapshot(path.join(store.root, 'blobs')));
    // And back again: the same archive.
    expect(await other.export('kv')).toEqual(saved);
  });

  it('exports several images and every tag of an image given by ID', async () => {
    const { store } = freshStore();
    const busybox = await store.ensureBuiltin('busybox');
    await store.ensureBuiltin('httpd');
    store.tag('busybox', 'shell:1');
    const saved = await store.export([busybox.id, 'httpd']);
    const manifest = JSON.parse((await filesOf(saved)).get('manifest.json')!);
    expect(manifest.map((m: { RepoTags: string[] }) => m.RepoTags)).toEqual([
      ['busybox:latest', 'shell:1'],
      ['httpd:latest'],
    ]);
    const other = freshStore().store;
    const loaded = await other.import(saved);
    expect(loaded.map((image) => image.tags)).toEqual([['busybox:latest', 'shell:1'], ['httpd:latest']]);
  });

  it('imports a gzip-compressed archive', async () => {
    const { store } = freshStore();
    await store.ensureBuiltin('hackbench');
    const other = freshStore().store;
    const [loaded] = await other.import(gzipSync(await store.export('hackbench')));
    expect(loaded?.tags).toEqual(['hackbench:latest']);
  });

  it('imports a legacy docker save archive (<id>.json, <id>/layer.tar)', async () => {
    const base = await tarOf(BASE);
    const app = await tarOf([{ name: 'bin/app', mode: 0o755, content: '#!/bin/sh\necho app\n' }]);
    const config = configFor([base, app], ['app']);
    const { store } = freshStore();
    const [image] = await store.import(
      await legacyDockerSave([base, app], ['myapp:1.0', 'docker.io/library/myapp:latest'], config),
    );
    expect(image?.tags).toEqual(['myapp:1.0', 'myapp:latest']);
    expect(image?.id).toBe(sha256(config));
    expect(image?.manifest.layers.map((l) => [l.mediaType, l.digest])).toEqual([
      [MEDIA_TYPE.layerTar, sha256(base)],
      [MEDIA_TYPE.layerTar, sha256(app)],
    ]);
    expect(image?.manifestDigest).toBe(sha256(manifestFor(config, [base, app])));
    expect(store.resolve('myapp:1.0').config.config?.Entrypoint).toBeNull();
    const tree = await store.unpack('myapp:1.0');
    expect(tree.entries.map((e) => e.path)).toContain('/bin/app');
    // Its export round-trips too.
    const other = freshStore().store;
    const [again] = await other.import(await store.export('myapp:1.0'));
    expect(again?.manifestDigest).toBe(image?.manifestDigest);
  });

  it('imports gzip-compressed layers and checks them against the diff_ids', async () => {
    const base = await tarOf(BASE);
    const config = configFor([base]);
    const archive = await tarOf([
      { name: 'c.json', content: config },
      { name: 'l/layer.tar', content: gzipSync(base) },
      {
        name: 'manifest.json',
        content: json([{ Config: 'c.json', RepoTags: ['gz:1'], Layers: ['l/layer.tar'] }]),
      },
    ]);
    const { store } = freshStore();
    const [image] = await store.import(archive);
    expect(image?.manifest.layers[0]?.mediaType).toBe(MEDIA_TYPE.layerTarGzip);
    expect(store.readLayer(image!.manifest.layers[0]!.digest)).toEqual(base);
    expect(store.layers(image!)[0]).toEqual(base);
  });

  it('follows layer symlinks of a legacy archive inside the archive only', async () => {
    const base = await tarOf(BASE);
    const config = configFor([base, base]);
    const entries: RawEntry[] = [
      { name: 'c.json', content: config },
      { name: 'a/layer.tar', content: base },
      { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
    ];
    const manifest = (layers: string[]): RawEntry => ({
      name: 'manifest.json',
      content: json([{ Config: 'c.json', RepoTags: ['twice:1'], Layers: layers }]),
    });
    const ok = freshStore().store;
    expect(
      (await ok.import(await tarOf([...entries, manifest(['a/layer.tar', 'b/layer.tar'])])))[0]?.tags,
    ).toEqual(['twice:1']);
    const escaping: RawEntry = { name: 'c/layer.tar', type: 'symlink', linkname: '../../../etc/passwd' };
    await expect(
      freshStore().store.import(
        await tarOf([...entries, escaping, manifest(['a/layer.tar', 'c/layer.tar'])]),
      ),
    ).rejects.toThrow("archive: 'c/layer.tar' leads outside the archive");
  });
});

describe('import of OCI image layout archives', () => {
  it('imports an OCI layout (OCI format export) with its names', async () => {
    const { store } = freshStore();
    const build = await store.ensureBuiltin('build');
    const saved = await store.export('build', { format: 'oci' });
    const files = await filesOf(saved);
    expect(files.has('manifest.json')).toBe(false);
    expect(JSON.parse(files.get('oci-layout')!)).toEqual({ imageLayoutVersion: '1.0.0' });
    const other = freshStore().store;
    const [loaded] = await other.import(saved);
    expect(loaded?.tags).toEqual(['build:latest']);
    expect(loaded?.manifestDigest).toBe(build.manifestDigest);
  });

  it('picks the linux/arm64 image of a multi-platform index', async () => {
    const layer = await tarOf(BASE);
    const arm = configFor([layer], ['arm']);
    const amd = json({
      ...JSON.parse(new TextDecoder().decode(configFor([layer], ['amd']))),
      architecture: 'amd64',
    });
    const armManifest = manifestFor(arm, [layer]);
    const amdManifest = manifestFor(amd, [layer]);
    const nested = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.imageIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPE.imageManifest,
          digest: sha256(amdManifest),
          size: amdManifest.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MEDIA_TYPE.imageManifest,
          digest: sha256(armManifest),
          size: armManifest.length,
          platform: { os: 'linux', architecture: 'arm64' },
        },
      ],
    });
    const archive = await ociArchive([layer, arm, amd, armManifest, amdManifest, nested], {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MEDIA_TYPE.imageIndex,
          digest: sha256(nested),
          size: nested.length,
          annotations: {
            'io.containerd.image.name': 'ghcr.io/acme/tool:2',
            'org.opencontainers.image.ref.name': '2',
          },
        },
      ],
    });
    const { store } = freshStore();
    const [image] = await store.import(archive);
    expect(image?.tags).toEqual(['ghcr.io/acme/tool:2']);
    expect(image?.manifestDigest).toBe(sha256(armManifest));
    expect(image?.config.config?.Cmd).toEqual(['arm']);
    // Only the blobs of the chosen image are stored.
    expect(fs.readdirSync(path.join(store.root, 'blobs', 'sha256')).sort()).toEqual(
      [layer, arm, armManifest].map((b) => sha256(b).slice(7)).sort(),
    );
  });

  it('imports an untagged image as a dangling one', async () => {
    const layer = await tarOf(BASE);
    const config = configFor([layer]);
    const manifest = manifestFor(config, [layer]);
    const archive = await ociArchive([layer, config, manifest], {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MEDIA_TYPE.imageManifest,
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': 'v1' },
        },
      ],
    });
    const { store } = freshStore();
    const [image] = await store.import(archive);
    expect(image?.tags).toEqual([]);
    expect(store.list().map((i) => i.id)).toEqual([sha256(config)]);
  });
});

describe('a failed import changes nothing', () => {
  async function expectUnchanged(archive: Uint8Array, message: string): Promise<void> {
    const { store, stateDir } = freshStore();
    await store.ensureBuiltin('busybox');
    const before = snapshot(stateDir);
    await expect(store.import(archive)).rejects.toThrow(message);
    expect(snapshot(stateDir)).toEqual(before);
  }

  it('for a hostile layer', async () => {
    const good = await tarOf(BASE);
    const evil = await tarOf([{ name: 'etc/cron', type: 'symlink', linkname: '/host/etc/cron' }]);
    await expectUnchanged(
      await legacyDockerSave([good, evil], ['evil:1']),
      "layer 2 of 2: symlink '/etc/cron' -> '/host/etc/cron' is absolute",
    );
    await expectUnchanged(
      await legacyDockerSave(
        [await tarOf([{ name: '../../../root/.ssh/authorized_keys', content: 'key' }])],
        ['evil:2'],
      ),
      'escapes the image root',
    );
  });

  it('for a corrupted blob, a diff_id mismatch, a missing layer, a bad manifest or garbage', async () => {
    const layer = await tarOf(BASE);
    const config = configFor([layer]);
    const manifest = manifestFor(config, [layer]);
    const index = (m: Uint8Array): unknown => ({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MEDIA_TYPE.imageManifest,
          digest: sha256(m),
          size: m.length,
          annotations: { 'io.containerd.image.name': 'x:1' },
        },
      ],
    });
    const tampered = await tarOf([
      { name: 'oci-layout', content: json({ imageLayoutVersion: '1.0.0' }) },
      { name: 'index.json', content: json(index(manifest)) },
      { name: `blobs/sha256/${sha256(manifest).slice(7)}`, content: manifest },
      { name: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
      {
        name: `blobs/sha256/${sha256(layer).slice(7)}`,
        content: layer.map((b, i) => (i === 100 ? b ^ 1 : b)),
      },
    ]);
    await expectUnchanged(tampered, `blob ${sha256(layer)} is corrupted`);

    const wrongDiff = configFor([await tarOf([{ name: 'other', content: 'o' }])]);
    await expectUnchanged(
      await ociArchive(
        [layer, wrongDiff, manifestFor(wrongDiff, [layer])],
        index(manifestFor(wrongDiff, [layer])),
      ),
      `layer ${sha256(layer)} does not match diff_id`,
    );
    await expectUnchanged(
      await ociArchive([config, manifest], index(manifest)),
      'which is not in the archive',
    );
    const badManifest = json({
      schemaVersion: 2,
      config: { mediaType: MEDIA_TYPE.imageConfig, digest: 'md5:1', size: 1 },
      layers: [],
    });
    await expectUnchanged(
      await ociArchive([badManifest], index(badManifest)),
      'is not valid at config.digest',
    );
    await expectUnchanged(
      new TextEncoder().encode('not a tar at all'.repeat(64)),
      'archive is not a valid tar archive',
    );
    await expectUnchanged(
      await tarOf([{ name: 'hello', content: 'x' }]),
      'archive is neither a docker save archive',
    );
  });

  it('for an archive with a good image and a bad one', async () => {
    const good = await tarOf(BASE);
    const bad = await tarOf([{ name: 'dev/kmem', type: 'character-device' }]);
    const goodConfig = configFor([good]);
    const badConfig = configFor([good, bad]);
    const archive = await tarOf([
      { name: 'g.json', content: goodConfig },
      { name: 'b.json', content: badConfig },
      { name: 'g/layer.tar', content: good },
      { name: 'b/layer.tar', content: bad },
      {
        name: 'manifest.json',
        content: json([
          { Config: 'g.json', RepoTags: ['good:1'], Layers: ['g/layer.tar'] },
          { Config: 'b.json', RepoTags: ['bad:1'], Layers: ['g/layer.tar', 'b/layer.tar'] },
        ]),
      },
    ]);
    await expectUnchanged(archive, "entry '/dev/kmem' is a character-device");
  });

  it('for a layer over the limits the store was opened with', async () => {
    const { store, stateDir } = freshStore({ limits: { maxFileBytes: 64 } });
    const before = snapshot(stateDir);
    const layer = await tarOf([{ name: 'big', content: new Uint8Array(65) }]);
    await expect(store.import(await legacyDockerSave([layer], ['big:1']))).rejects.toThrow(
      "layer 1 of 1: entry 'big' is 65 bytes, over the limit of 64",
    );
    expect(snapshot(stateDir)).toEqual(before);
  });
});
