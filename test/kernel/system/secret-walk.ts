/**
 * The canary search of DESIGN.md §3: walk a JS object graph (own properties, array elements, Map
 * keys and values, Set values) and report every place that holds a secret, as bytes in a typed
 * array, an ArrayBuffer or an array of byte values, or as text in a string (property names
 * included).
 *
 * What a walk cannot see: variables captured by closures, module-level state that no object
 * references, WeakMap/WeakSet entries and #private fields. A clean walk is therefore evidence, not
 * proof; the negative controls in canary.test.ts show that it does find what it can see.
 */

/** A secret and the forms it may take. */
export interface Secret {
  readonly label: string;
  /** Byte sequences to look for in binary data (fragments of the raw or encoded secret). */
  readonly byteFragments: readonly Uint8Array[];
  /** Strings to look for in JS strings. */
  readonly textFragments: readonly string[];
}

/** Where a secret was found. */
export interface Hit {
  readonly secret: string;
  /** Property path from the root, e.g. `kernel.output` or `root.x.<map value 'k'>`. */
  readonly path: string;
}

/** Objects not to enter, and buffers whose bytes are simulated memory (not JS state). */
export interface WalkOptions {
  readonly skip: readonly object[];
  readonly skipBuffers?: readonly ArrayBufferLike[];
}

/** Statistics of a walk (to show it was not vacuous). */
export interface WalkStats {
  objects: number;
  strings: number;
  binaryBytes: number;
}

const FRAGMENT_BYTES = 8;
const FRAGMENT_CHARS = 16;

/**
 * A secret given as raw bytes; its fragments are the aligned 8-byte pieces of the raw bytes and the
 * aligned 16-character pieces of its lowercase hex (every leaked run of at least 15 raw bytes or 31
 * hex characters contains one), plus the raw pieces as latin1 text.
 */
export function secretOf(label: string, raw: Uint8Array): Secret {
  const hex = Buffer.from(raw).toString('hex');
  const byteFragments: Uint8Array[] = [];
  const textFragments: string[] = [];
  for (let at = 0; at + FRAGMENT_BYTES <= raw.length; at += FRAGMENT_BYTES) {
    const piece = raw.subarray(at, at + FRAGMENT_BYTES);
    byteFragments.push(piece);
    textFragments.push(Buffer.from(piece).toString('latin1'));
  }
  for (let at = 0; at + FRAGMENT_CHARS <= hex.length; at += FRAGMENT_CHARS) {
    const piece = hex.slice(at, at + FRAGMENT_CHARS);
    textFragments.push(piece);
    byteFragments.push(new TextEncoder().encode(piece));
  }
  return { label, byteFragments, textFragments };
}

interface Node {
  readonly value: unknown;
  readonly parent: number;
  readonly key: string;
}

function isTypedArray(value: object): value is ArrayBufferView {
  return ArrayBuffer.isView(value);
}

/** An array of byte values (every element an integer 0..255), as bytes; else undefined. */
function byteArray(values: readonly unknown[]): Uint8Array | undefined {
  if (values.length < FRAGMENT_BYTES) return undefined;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/**
 * Everything searchable in a graph at one moment: copies of its binary data and its strings, with
 * their paths. Collect now, search later (the secrets may be learnt only after the graph changed).
 */
export interface GraphCorpus {
  readonly binaries: readonly { readonly node: number; readonly bytes: Uint8Array }[];
  readonly texts: readonly { readonly node: number; readonly text: string; readonly suffix: string }[];
  readonly stats: WalkStats;
  /** Property path from the root, e.g. `kernel.output` or `kernel.x.<map value 0>`. */
  pathOf(node: number): string;
}

/** Walk everything reachable from `root` (named `rootName` in paths) and copy what can be searched. */
export function collectGraph(root: unknown, rootName: string, options: WalkOptions): GraphCorpus {
  const stats: WalkStats = { objects: 0, strings: 0, binaryBytes: 0 };
  const binaries: { node: number; bytes: Uint8Array }[] = [];
  const texts: { node: number; text: string; suffix: string }[] = [];
  const seen = new Set<unknown>([...options.skip, globalThis, process]);
  const skipBuffers = new Set<ArrayBufferLike>(options.skipBuffers ?? []);
  const nodes: Node[] = [{ value: root, parent: -1, key: rootName }];
  const addBytes = (bytes: Uint8Array, node: number): void => {
    stats.binaryBytes += bytes.length;
    binaries.push({ node, bytes: bytes.slice() });
  };
  const addText = (text: string, node: number, suffix: string): void => {
    stats.strings++;
    texts.push({ node, text, suffix });
  };
  const queue: number[] = [0];
  const push = (value: unknown, parent: number, key: string): void => {
    if (typeof value === 'string') {
      nodes.push({ value: undefined, parent, key });
      addText(value, nodes.length - 1, '');
    } else if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      if (seen.has(value)) return;
      seen.add(value);
      nodes.push({ value, parent, key });
      queue.push(nodes.length - 1);
    }
  };
  seen.add(root);
  while (queue.length > 0) {
    const index = queue.pop()!;
    const value = nodes[index]!.value as object;
    stats.objects++;
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      if (!skipBuffers.has(value)) addBytes(new Uint8Array(value), index);
      continue;
    }
    if (isTypedArray(value)) {
      if (!skipBuffers.has(value.buffer)) {
        addBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), index);
      }
      continue;
    }
    if (value instanceof Map) {
      let i = 0;
      for (const [k, v] of value) {
        push(k, index, `<map key ${i}>`);
        push(v, index, `<map value ${i}>`);
        i++;
      }
    } else if (value instanceof Set) {
      let i = 0;
      for (const v of value) push(v, index, `<set ${i++}>`);
    }
    if (Array.isArray(value)) {
      const bytes = byteArray(value);
      if (bytes !== undefined) {
        addBytes(bytes, index);
        continue;
      }
      for (let i = 0; i < value.length; i++) push(value[i], index, `[${i}]`);
      continue;
    }
    for (const key of Reflect.ownKeys(value)) {
      const name = typeof key === 'symbol' ? key.toString() : key;
      addText(name, index, `.<key ${name.slice(0, 20)}>`);
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
      // Accessors are not called (a getter may compute or change state); data properties only.
      if (descriptor !== undefined && 'value' in descriptor) push(descriptor.value, index, name);
    }
  }
  return {
    binaries,
    texts,
    stats,
    pathOf(node: number): string {
      const parts: string[] = [];
      for (let at = node; at >= 0; at = nodes[at]!.parent) parts.push(nodes[at]!.key);
      return parts.reverse().join('.');
    },
  };
}

/** Every place of the corpus where a fragment of a secret occurs. */
export function searchCorpus(corpus: GraphCorpus, secrets: readonly Secret[]): Hit[] {
  const hits: Hit[] = [];
  for (const { node, bytes } of corpus.binaries) {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const secret of secrets) {
      if (secret.byteFragments.some((fragment) => buffer.indexOf(fragment) >= 0))
        hits.push({ secret: secret.label, path: corpus.pathOf(node) });
    }
  }
  for (const { node, text, suffix } of corpus.texts) {
    for (const secret of secrets) {
      if (secret.textFragments.some((fragment) => text.includes(fragment)))
        hits.push({ secret: secret.label, path: `${corpus.pathOf(node)}${suffix}` });
    }
  }
  return hits;
}

/** Walk and search at once. */
export function findSecrets(
  root: unknown,
  rootName: string,
  secrets: readonly Secret[],
  options: WalkOptions,
): Hit[] {
  return searchCorpus(collectGraph(root, rootName, options), secrets);
}
