/**
 * `rcontainer gpt [--json]`: the daemon machine's granule protection tables: granules per owner
 * and how many of them each GPT view leaves accessible, and which machine cid each container has.
 */
import type { GptResult } from './api.js';
import { withDaemon, type ClientOptions } from './session.js';
import { printTable } from './table.js';

/** `gpt [--json]`. */
export async function gptCommand(options: ClientOptions & { json?: boolean }): Promise<number> {
  return withDaemon(options, async (client) => {
    const gpt = await client.json<GptResult>('GET', '/gpt');
    if (options.json === true) {
      console.log(JSON.stringify(gpt, undefined, 2));
      return 0;
    }
    console.log(`granules of ${gpt.granuleBytes} bytes; count open (accessible) in each view`);
    printTable(
      ['OWNER', 'GRANULES', ...gpt.views.map((view) => view.toUpperCase())],
      gpt.owners.map((row) => [
        row.owner,
        String(row.granules),
        ...gpt.views.map((_, i) => String(row.open[i] ?? '')),
      ]),
    );
    if (gpt.containers.length > 0) {
      console.log('');
      printTable(
        ['CID', 'CONTAINER ID', 'NAMES'],
        gpt.containers.map((c) => [String(c.cid), c.id.slice(0, 12), c.name]),
      );
    }
    return 0;
  });
}
