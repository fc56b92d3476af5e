// rmi: untagging, deleting an image and the blobs only it needed, IDs with several tags, and
// images in use (the engine passes the digests its containers use, or a callback naming them).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../../src/runtime/image/errors.js';
import { freshStore, snapshot } from './helpers.js';

function blobNames(root: string): string[] {
  return fs.readdirSync(path.join(root, 'blobs', 'sha256')).sort();
}

describe('remove (rmi)', () => {
  it('deletes an image with its last tag, keeping the blobs other images share', async () => {
    const { store } = freshStore();
    const busybox = await store.ensureBuiltin('busybox');
    const kv = await store.ensureBuiltin('kv');
    const result = store.remove('kv');
    expect(result.untagged).toEqual(['kv:latest']);
    expect(result.deleted).toBe(kv.manifestDigest);
    expect([...result.deletedBlobs].sort()).toEqual(
      [kv.manifestDigest, kv.configDigest, kv.manifest.layers[1]!.digest].sort(),
    );
    expect(blobNames(store.root)).toEqual(
      [busybox.manifestDigest, busybox.configDigest, busybox.manifest.layers[0]!.digest]
        .map((d) => d.slice(7))
        .sort(),
    );
    expect(() => store.resolve('kv')).toThrow('no such image: kv');
    expect(store.list().map((i) => i.tags)).toEqual([['busybox:latest']]);
  });

  it('only untags while other tags remain', async () => {
    const { store } = freshStore();
    const image = await store.ensureBuiltin('httpd');
    store.tag('httpd', 'web:1');
    const before = blobNames(store.root);
    expect(store.remove('httpd')).toEqual({
      untagged: ['httpd:latest'],
      deleted: undefined,
      deletedBlobs: [],
    });
    expect(store.resolve('web:1').manifestDigest).toBe(image.manifestDigest);
    expect(blobNames(store.root)).toEqual(before);
  });

  it('refuses an ID with several tags unless forced', async () => {
    const { store } = freshStore();
    const image = await store.ensureBuiltin('hackbench');
    store.tag('hackbench', 'hb:2');
    expect(() => store.remove(image.id.slice(7, 19))).toThrow(
      /has several tags \(hackbench:latest, hb:2\): remove them by name, or force/,
    );
    const result = store.remove(image.id.slice(7, 19), { force: true });
    expect(result.untagged).toEqual(['hackbench:latest', 'hb:2']);
    expect(store.list()).toEqual([]);
    expect(blobNames(store.root)).toEqual([]);
  });

  it('never deletes an image in use, but may untag it while it keeps a tag', async () => {
    const { store, stateDir } = freshStore();
    const image = await store.ensureBuiltin('busybox');
    const before = snapshot(stateDir);
    expect(() => store.remove('busybox', { inUse: new Set([image.id]) })).toThrow(
      new ImageError('image busybox is in use by a container'),
    );
    expect(() =>
      store.remove(image.manifestDigest, {
        inUse: (used) => (used.manifestDigest === image.manifestDigest ? 'container web-1' : undefined),
      }),
    ).toThrow('is in use by container web-1');
    expect(snapshot(stateDir)).toEqual(before);
    store.tag('busybox', 'keep:1');
    expect(store.remove('busybox', { inUse: new Set([image.manifestDigest]) }).untagged).toEqual([
      'busybox:latest',
    ]);
    expect(() => store.remove('keep:1', { inUse: new Set([image.manifestDigest]), force: true })).toThrow(
      'in use',
    );
    expect(store.remove('keep:1', { inUse: new Set(['sha256:unrelated']) }).deleted).toBe(
      image.manifestDigest,
    );
  });

  it('removes a dangling image by ID, and refuses unknown references', async () => {
    const { store } = freshStore();
    const busybox = await store.ensureBuiltin('busybox');
    const kv = await store.ensureBuiltin('kv');
    store.tag('kv', 'busybox');
    expect(store.list().map((i) => [i.id, i.tags])).toEqual([
      [kv.id, ['busybox:latest', 'kv:latest']],
      [busybox.id, []],
    ]);
    expect(store.remove(busybox.id).deleted).toBe(busybox.manifestDigest);
    expect(() => store.remove('nothere:1')).toThrow('no such image: nothere:1');
  });
});
