/**
 * The HTTP API of docs/api.md over an {@link Engine}, with hono: bodies validated with zod (a
 * one-line 400), Docker's statuses for refusals (LifecycleError and ApiError carry theirs), and
 * `{ "message": "..." }` for every error.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { EXEC_POLICIES } from '../../runtime/bundle/spec.js';
import { LifecycleError } from '../../runtime/engine/lifecycle.js';
import { joinRuns, multiplex } from './console-log.js';
import { followOutput } from './follow.js';
import type { Engine } from './engine.js';
import { ApiError } from './errors.js';
import { execOutputStream } from './exec-sessions.js';
import { attestContainer, gptOf, infoOf } from './inspection.js';
import { statsOf, topOf } from './stats.js';

/** What the server needs besides the engine: a way to wake the pump after a request. */
export interface ApiHooks {
  /** Called after every request. */
  readonly wake: () => void;
}

const portNumber = z.number().int().min(1).max(65535);

const createSchema = z.strictObject({
  image: z.string().min(1),
  name: z.string().optional(),
  cmd: z.array(z.string()).optional(),
  env: z.array(z.string()).optional(),
  workdir: z.string().optional(),
  user: z.string().optional(),
  hostname: z.string().optional(),
  memory: z
    .number()
    .int()
    .min(4 * 2 ** 20)
    .optional(),
  volumes: z
    .array(z.strictObject({ source: z.string(), destination: z.string(), readonly: z.boolean() }))
    .optional(),
  execPolicy: z.enum(EXEC_POLICIES).optional(),
  stdin: z.base64().optional(),
  openStdin: z.boolean().optional(),
  tty: z.boolean().optional(),
  init: z.boolean().optional(),
  ports: z
    .array(z.strictObject({ hostPort: portNumber, containerPort: portNumber }))
    .refine(
      (ports) => new Set(ports.map((p) => p.hostPort)).size === ports.length,
      'a host port is published twice',
    )
    .optional(),
  autoRemove: z.boolean().optional(),
});

const execSchema = z.strictObject({
  cmd: z.array(z.string()).min(1, 'needs at least one argument'),
  env: z.array(z.string()).optional(),
  stdin: z.base64().optional(),
  user: z.string().optional(),
  workdir: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** Answer `201 { id }` at once and stream (GET /exec/{id}/output) instead of answering whole. */
  stream: z.boolean().optional(),
  /** With `stream`: keep its input open for POST /exec/{id}/input. */
  openStdin: z.boolean().optional(),
  /** Its descriptors are a terminal (a shell prompts). */
  tty: z.boolean().optional(),
});

const execInputSchema = z.strictObject({
  data: z.base64().optional(),
  close: z.boolean().optional(),
});

/** The JSON body of `c` checked against `schema` (400 with the first issue). */
async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new ApiError('invalid JSON body', 400);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(`${issue.path.join('.') || 'body'}: ${issue.message}`, 400);
  }
  return parsed.data;
}

/** A non-negative integer query parameter (default if absent; 400 if malformed). */
function intQuery(c: Context, name: string, fallback: number): number {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new ApiError(`${name} must be a non-negative integer, not '${value}'`, 400);
  return Number(value);
}

const flag = (c: Context, name: string): boolean => ['1', 'true'].includes(c.req.query(name) ?? '');

/** The hono app serving `engine`. */
export function createApi(engine: Engine, hooks: ApiHooks): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof ApiError || error instanceof LifecycleError)
      return c.json({ message: error.message }, error.status as 400);
    return c.json({ message: (error as Error).message.split('\n')[0] ?? 'engine error' }, 500);
  });
  // Whatever a request did (start, kill, exec), the machine goes on if something runs.
  app.use(async (_c, next) => {
    await next();
    hooks.wake();
  });
  app.notFound((c) => c.json({ message: `page not found: ${c.req.method} ${c.req.path}` }, 404));

  app.get('/_ping', (c) => c.text('OK'));
  app.get('/info', (c) => c.json(infoOf(engine)));
  app.get('/images/json', (c) => c.json(engine.images()));
  app.get('/gpt', (c) => c.json(gptOf(engine)));

  app.post('/containers/create', async (c) => {
    const request = await body(c, createSchema);
    return c.json(await engine.create(request), 201);
  });
  app.post('/containers/:id/start', async (c) => {
    const started = await engine.start(c.req.param('id'));
    return c.body(null, started ? 204 : 304);
  });
  app.post('/containers/:id/stop', (c) => {
    const stopped = engine.stop(c.req.param('id'), intQuery(c, 't', 10));
    return c.body(null, stopped ? 204 : 304);
  });
  app.post('/containers/:id/restart', async (c) => {
    const id = c.req.param('id');
    engine.stop(id, intQuery(c, 't', 10));
    await engine.start(id);
    return c.body(null, 204);
  });
  app.post('/containers/:id/wait', async (c) => c.json({ exitCode: await engine.wait(c.req.param('id')) }));
  app.post('/containers/:id/kill', (c) => {
    engine.kill(c.req.param('id'), intQuery(c, 'signal', 9));
    return c.body(null, 204);
  });
  app.post('/containers/:id/exec', async (c) => {
    const request = await body(c, execSchema);
    if (request.openStdin === true && request.stream !== true)
      throw new ApiError('openStdin: needs "stream": true', 400);
    const exec = {
      cmd: request.cmd,
      env: request.env,
      input: request.stdin === undefined ? undefined : new Uint8Array(Buffer.from(request.stdin, 'base64')),
      user: request.user,
      workdir: request.workdir,
      openInput: request.openStdin,
      tty: request.tty,
    };
    if (request.stream === true) return c.json({ id: engine.startExec(c.req.param('id'), exec) }, 201);
    return c.json(await engine.exec(c.req.param('id'), exec));
  });
  app.post('/containers/:id/input', async (c) => {
    const request = await body(c, execInputSchema);
    const bytes =
      request.data === undefined ? new Uint8Array(0) : new Uint8Array(Buffer.from(request.data, 'base64'));
    engine.containerInput(c.req.param('id'), bytes, request.close === true);
    return c.body(null, 204);
  });
  app.post('/exec/:id/input', async (c) => {
    const request = await body(c, execInputSchema);
    const bytes =
      request.data === undefined ? new Uint8Array(0) : new Uint8Array(Buffer.from(request.data, 'base64'));
    engine.execInput(c.req.param('id'), bytes, request.close === true);
    return c.body(null, 204);
  });
  app.get('/exec/:id/output', (c) =>
    c.body(
      execOutputStream(
        engine.execs,
        c.req.param('id'),
        (listener) => engine.watch(listener),
        () => engine.wake(),
      ),
      200,
      { 'content-type': 'application/vnd.docker.multiplexed-stream' },
    ),
  );
  app.get('/exec/:id/json', (c) => c.json(engine.execs.inspect(c.req.param('id'))));
  app.get('/containers/json', (c) => c.json(engine.list(flag(c, 'all'))));
  app.get('/containers/:id/json', (c) => c.json(engine.inspect(c.req.param('id'))));
  app.get('/containers/:id/logs', (c) => {
    const id = c.req.param('id');
    const tail = c.req.query('tail');
    const since = Math.max(
      intQuery(c, 'since', 0),
      tail === undefined || tail === 'all' ? 0 : engine.tailOffset(id, intQuery(c, 'tail', 0)),
    );
    const framed = flag(c, 'multiplex');
    const runs = engine.logRuns(id, since); // 404 before anything is sent
    const headers = {
      'content-type': framed ? 'application/vnd.docker.multiplexed-stream' : 'text/plain; charset=utf-8',
    };
    if (flag(c, 'follow')) return c.body(followOutput(engine, id, since, framed), 200, headers);
    return c.body(new Uint8Array(framed ? multiplex(runs) : joinRuns(runs)), 200, headers);
  });
  app.delete('/containers/:id', (c) => {
    engine.remove(c.req.param('id'), flag(c, 'force'));
    return c.body(null, 204);
  });
  app.get('/containers/:id/stats', (c) => c.json(statsOf(engine, c.req.param('id'))));
  app.get('/containers/:id/top', (c) => c.json(topOf(engine, c.req.param('id'))));
  app.get('/containers/:id/attest', (c) =>
    c.json(attestContainer(engine, c.req.param('id'), c.req.query('nonce'))),
  );
  return app;
}
