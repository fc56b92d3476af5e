// Layer extraction: OCI whiteouts and replacement rules, and every refusal of a hostile layer, each
// naming the entry. The hostile tars are written with tar-stream directly (no checks on the way).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../../src/runtime/image/errors.js';
import { DEFAULT_UNPACK_LIMITS } from '../../../src/runtime/image/limits.js';
import { unpackLayers } from '../../../src/runtime/image/tree.js';
import type { ImageTree, TreeEntry } from '../../../src/runtime/image/tree-types.js';
import { tarOf, utf8, type RawEntry } from './helpers.js';

function paths(tree: ImageTree): string[] {
  return tree.entries.map((e) => e.path);
}

function entry(tree: ImageTree, path: string): TreeEntry | undefined {
  return tree.entries.find((e) => e.path === path);
}

function text(e: TreeEntry | undefined): string | undefined {
  return e?.type === 'file' || e?.type === 'hardlink' ? new TextDecoder().decode(e.content) : undefined;
}

async function unpack(...layers: RawEntry[][]): Promise<ImageTree> {
  return unpackLayers(await Promise.all(layers.map((l) => tarOf(l))));
}

async function refusal(layers: RawEntry[][], limits = {}): Promise<string> {
  try {
    await unpackLayers(await Promise.all(layers.map((l) => tarOf(l))), limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ImageError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('the layers were accepted');
}

describe('unpackLayers', () => {
  it('builds a sorted tree with implicit parents, modes, symlinks and hard links', async () => {
    const tree = await unpack([
      { name: './usr/bin/tool', mode: 0o4755, content: 'x' },
      { name: 'bin/', type: 'directory', mode: 0o750 },
      { name: 'bin/sh', mode: 0o755, content: 'shell' },
      { name: 'bin/ash', type: 'link', linkname: 'bin/sh' },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'usr/lib/up', type: 'symlink', linkname: '../../bin/sh' },
      { name: '/etc/hostname', content: 'box' },
    ]);
    expect(paths(tree)).toEqual([
      '/',
      '/bin',
      '/bin/ash',
      '/bin/sh',
      '/etc',
      '/etc/hostname',
      '/lib',
      '/usr',
      '/usr/bin',
      '/usr/bin/tool',
      '/usr/lib',
      '/usr/lib/up',
    ]);
    expect(entry(tree, '/bin')).toMatchObject({ type: 'dir', mode: 0o750 });
    expect(entry(tree, '/usr')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0 });
    expect(entry(tree, '/usr/bin/tool')).toMatchObject({ type: 'file', mode: 0o4755 });
    expect(entry(tree, '/bin/ash')).toMatchObject({ type: 'file' });
    expect(entry(tree, '/bin/sh')).toMatchObject({ type: 'hardlink', target: '/bin/ash' });
    expect(text(entry(tree, '/bin/sh'))).toBe('shell');
    expect(entry(tree, '/lib')).toMatchObject({ type: 'symlink', target: 'usr/lib' });
    expect(tree.fileBytes).toBe('x'.length + 'shell'.length + 'box'.length);
  });

  it('accepts gzip-compressed layers', async () => {
    const tree = await unpackLayers([gzipSync(await tarOf([{ name: 'a', content: 'A' }]))]);
    expect(text(entry(tree, '/a'))).toBe('A');
  });

  it('lets upper layers replace files, and a file replace a directory with its contents', async () => {
    const tree = await unpack(
      [
        { name: 'etc/motd', content: 'old' },
        { name: 'opt/app/data', content: 'd' },
        { name: 'dir/', type: 'directory', mode: 0o700 },
        { name: 'dir/keep', content: 'k' },
      ],
      [
        { name: 'etc/motd', content: 'new' },
        { name: 'opt/app', content: 'now a file' },
        { name: 'dir/', type: 'directory', mode: 0o755 },
      ],
    );
    expect(text(entry(tree, '/etc/motd'))).toBe('new');
    expect(entry(tree, '/opt/app')?.type).toBe('file');
    expect(entry(tree, '/opt/app/data')).toBeUndefined();
    expect(entry(tree, '/dir')?.mode).toBe(0o755);
    expect(text(entry(tree, '/dir/keep'))).toBe('k');
  });
});

describe('whiteouts', () => {
  it('.wh.<name> deletes a file or a whole directory of the lower layers', async () => {
    const tree = await unpack(
      [
        { name: 'etc/passwd', content: 'p' },
        { name: 'etc/shadow', content: 's' },
        { name: 'var/cache/a/b', content: 'b' },
      ],
      [{ name: 'etc/.wh.shadow' }, { name: 'var/.wh.cache' }, { name: 'nothere/.wh.x' }],
    );
    expect(paths(tree)).toEqual(['/', '/etc', '/etc/passwd', '/var']);
  });

  it('.wh..wh..opq empties a directory of lower-layer content but keeps its own layer', async () => {
    const tree = await unpack(
      [
        { name: 'app/old1', content: '1' },
        { name: 'app/sub/old2', content: '2' },
        { name: 'other/x', content: 'x' },
      ],
      [{ name: 'app/new', content: 'n' }, { name: 'app/.wh..wh..opq' }],
    );
    expect(paths(tree)).toEqual(['/', '/app', '/app/new', '/other', '/other/x']);
  });

  it('never hides an entry of its own layer, and a later layer can hide it', async () => {
    const layer: RawEntry[] = [{ name: 'f', content: 'same layer' }, { name: '.wh.f' }];
    expect(text(entry(await unpack(layer), '/f'))).toBe('same layer');
    expect(entry(await unpack(layer, [{ name: '.wh.f' }]), '/f')).toBeUndefined();
  });

  it('refuses other .wh..wh. names', async () => {
    expect(await refusal([[{ name: 'a/.wh..wh.plnk' }]])).toBe(
      "layer 1 of 1: entry '/a/.wh..wh.plnk' is an unsupported whiteout",
    );
  });
});

describe('hostile layers are refused, naming the entry', () => {
  it('path traversal', async () => {
    expect(await refusal([[{ name: '../etc/passwd', content: 'x' }]])).toBe(
      "layer 1 of 1: entry '../etc/passwd' escapes the image root ('..' in its path)",
    );
    expect(await refusal([[{ name: 'a/', type: 'directory' }], [{ name: 'a/../../b', content: 'x' }]])).toBe(
      "layer 2 of 2: entry 'a/../../b' escapes the image root ('..' in its path)",
    );
  });

  it('absolute entry names are read relative to the root', async () => {
    const tree = await unpack([
      { name: '/etc/x', content: 'x' },
      { name: '//etc///y', content: 'y' },
    ]);
    expect(paths(tree)).toEqual(['/', '/etc', '/etc/x', '/etc/y']);
  });

  it('absolute and escaping symlinks', async () => {
    expect(await refusal([[{ name: 'etc/shadow', type: 'symlink', linkname: '/host/etc/shadow' }]])).toBe(
      "layer 1 of 1: symlink '/etc/shadow' -> '/host/etc/shadow' is absolute",
    );
    expect(await refusal([[{ name: 'a/b/up', type: 'symlink', linkname: '../../../etc' }]])).toBe(
      "layer 1 of 1: symlink '/a/b/up' -> '../../../etc' escapes the image root",
    );
    expect(await refusal([[{ name: 'top', type: 'symlink', linkname: 'x/../..' }]])).toContain(
      'escapes the image root',
    );
    expect(await refusal([[{ name: 'empty', type: 'symlink', linkname: '' }]])).toContain(
      "symlink '/empty' has an empty target",
    );
  });

  it('writing through a symlink or a file', async () => {
    expect(
      await refusal([
        [{ name: 'lib', type: 'symlink', linkname: 'usr/lib' }],
        [{ name: 'lib/evil', content: 'x' }],
      ]),
    ).toBe("layer 2 of 2: entry '/lib/evil' is under '/lib', which is not a directory");
    expect(
      await refusal([
        [
          { name: 'f', content: 'x' },
          { name: 'f/g', content: 'y' },
        ],
      ]),
    ).toContain("entry '/f/g' is under '/f', which is not a directory");
  });

  it('hard links outside the tree, not yet seen, or to a non-file', async () => {
    expect(await refusal([[{ name: 'pw', type: 'link', linkname: '../../etc/passwd' }]])).toBe(
      "layer 1 of 1: entry '../../etc/passwd' escapes the image root ('..' in its path)",
    );
    expect(
      await refusal([
        [
          { name: 'early', type: 'link', linkname: 'late' },
          { name: 'late', content: 'x' },
        ],
      ]),
    ).toBe("layer 1 of 1: hard link '/early' -> '/late' names a file not in the image (yet)");
    expect(
      await refusal([
        [
          { name: 'd/', type: 'directory' },
          { name: 'l', type: 'link', linkname: 'd' },
        ],
      ]),
    ).toBe("layer 1 of 1: hard link '/l' -> '/d' does not name a regular file");
    // A hard link to a file of a lower layer is fine.
    const tree = await unpack([{ name: 'a', content: 'A' }], [{ name: 'b', type: 'link', linkname: '/a' }]);
    expect(entry(tree, '/b')).toMatchObject({ type: 'hardlink', target: '/a' });
  });

  it('device nodes and fifos', async () => {
    expect(await refusal([[{ name: 'dev/mem', type: 'character-device' }]])).toBe(
      "layer 1 of 1: entry '/dev/mem' is a character-device (device nodes are not allowed in images)",
    );
    expect(await refusal([[{ name: 'dev/sda', type: 'block-device' }]])).toBe(
      "layer 1 of 1: entry '/dev/sda' is a block-device (device nodes are not allowed in images)",
    );
    expect(await refusal([[{ name: 'run/pipe', type: 'fifo' }]])).toBe(
      "layer 1 of 1: entry '/run/pipe' is a fifo (not allowed in images)",
    );
  });

  it('a file over the per-file limit', async () => {
    const limits = { maxFileBytes: 1000 };
    expect(
      await refusal(
        [
          [
            { name: 'ok', content: new Uint8Array(1000) },
            { name: 'big', content: new Uint8Array(1001) },
          ],
        ],
        limits,
      ),
    ).toBe("layer 1 of 1: entry 'big' is 1001 bytes, over the limit of 1000");
  });

  it('an image over the total size limit, counted over all layers', async () => {
    const limits = { maxImageBytes: 2500 };
    const layer = (name: string): RawEntry[] => [{ name, content: new Uint8Array(1000) }];
    await expect(
      unpackLayers([await tarOf(layer('a')), await tarOf(layer('b'))], limits),
    ).resolves.toBeDefined();
    expect(await refusal([layer('a'), layer('b'), layer('c')], limits)).toBe(
      'layer 3 of 3: too much content (the limit is 2500 bytes in total)',
    );
  });

  it('too many entries, counted over all layers', async () => {
    const limits = { maxEntries: 10 };
    const layer = (prefix: string): RawEntry[] =>
      Array.from({ length: 6 }, (_, i) => ({ name: `${prefix}${i}` }));
    expect(await refusal([layer('a'), layer('b')], limits)).toBe(
      'layer 2 of 2: too many entries (the limit is 10)',
    );
  });

  it('control characters are escaped so the message stays on one line', async () => {
    expect(await refusal([[{ name: 'x\n/../y', content: '' }]])).toContain("entry 'x\\x0a/../y' escapes");
  });

  it('a damaged tar', async () => {
    const tar = await tarOf([{ name: 'a', content: 'A' }]);
    tar[0] = tar[0]! ^ 0xff;
    await expect(unpackLayers([tar])).rejects.toThrow('layer 1 of 1 is not a valid tar archive');
    await expect(unpackLayers([tar.subarray(0, 700)])).rejects.toThrow(ImageError);
  });

  it('has documented default limits', () => {
    expect(DEFAULT_UNPACK_LIMITS).toEqual({
      maxFileBytes: 64 * 1024 * 1024,
      maxImageBytes: 256 * 1024 * 1024,
      maxEntries: 65_536,
      maxPathLength: 4096,
    });
    expect(utf8('')).toHaveLength(0);
  });
});
