// A child process of lock.test.ts, run with `node --import tsx lock-worker.ts <state> <name> <count>`:
// it prints `ready` once its archives are built, waits for a line on stdin (so that both workers
// start together), then `count` times loads an image `<name>-keep:<i>`, tags it `<name>-alias:<i>`,
// loads `<name>-tmp:<i>` and removes it again (garbage collection), and prints `done`.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ImageStore } from '../../../src/runtime/image/store.js';
import { legacyDockerSave, tarOf } from './helpers.js';

const [stateDir, name, countText] = process.argv.slice(2);
if (stateDir === undefined || name === undefined || countText === undefined) {
  throw new Error('usage: lock-worker.ts <state> <name> <count>');
}
const count = Number(countText);
const store = ImageStore.open(stateDir);
const base = await tarOf([{ name: 'etc/base', content: 'shared by every image' }]);

/** An archive of one image, `base` plus a layer only it has, tagged `tag`. */
async function archive(tag: string): Promise<Uint8Array> {
  const own = await tarOf([{ name: 'etc/own', content: tag }]);
  return legacyDockerSave([base, own], [tag]);
}

const archives: { keep: Uint8Array; tmp: Uint8Array }[] = [];
for (let i = 0; i < count; i++) {
  archives.push({ keep: await archive(`${name}-keep:${i}`), tmp: await archive(`${name}-tmp:${i}`) });
}
process.stdout.write('ready\n');
const go = createInterface({ input: process.stdin });
await once(go, 'line');
go.close();
for (const [i, { keep, tmp }] of archives.entries()) {
  await store.import(keep);
  store.tag(`${name}-keep:${i}`, `${name}-alias:${i}`);
  await store.import(tmp);
  store.remove(`${name}-tmp:${i}`);
}
process.stdout.write('done\n');
