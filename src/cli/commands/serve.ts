import { InputError } from '../../core/errors.ts';
import { DEFAULT_PORT, startServer } from '../../server/serve.ts';
import { parseFlags } from '../flags.ts';
import type { Command } from '../command.ts';

const usage = `Usage: gesso serve [--data DIR] [--port N] [--redis URL] [--listen ADDR] [options]

Starts the studio server: the image library (search, ratings, tags, collections, comparisons), the job
queue with progress events (SSE and WebSocket), gesso's REST API (OpenAPI 3.1 at /openapi.json), and
AUTOMATIC1111-compatible (/sdapi/v1/...) and OpenAI-compatible (/v1/images/...) endpoints.

By default it listens on 127.0.0.1 only, for one owner, and runs jobs in this process. Stop with Ctrl-C:
running jobs are queued again and run at the next start.

Options:
  --data DIR            data folder: gesso.db and images/ (default ./gesso-data)
  --port N              port (default ${DEFAULT_PORT}; 0 picks a free one)
  --models DIR          a folder of model folders (repeatable; default: the shipped models/)
  --loras DIR           a folder of LoRA files offered on the Generate page (repeatable; DIR/loras of the
                        data folder always, where LoRAs trained on the Train page are installed)
  --datasets DIR        a folder of datasets built by \`gesso data\` that can be registered (repeatable)
  --redis URL           render farm: queue jobs on Redis (redis://127.0.0.1:6379) for \`gesso worker\`
  --window N            render farm: jobs handed to Redis at once (default 4)
  --concurrency N       in-process jobs at once (default 1)
  --listen ADDR         accept connections on ADDR (e.g. 0.0.0.0) with accounts and API tokens; the first
                        start writes the admin token to DIR/admin-token
  --allowed-host NAME   host name clients use (repeatable; DNS rebinding protection)
  --allowed-origin URL  web origin allowed to send requests (repeatable)
  --log                 log every request`;

export const serveCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const values = parseFlags('serve', {
      args,
      options: {
        data: { type: 'string' },
        port: { type: 'string' },
        models: { type: 'string', multiple: true },
        datasets: { type: 'string', multiple: true },
        loras: { type: 'string', multiple: true },
        redis: { type: 'string' },
        window: { type: 'string' },
        concurrency: { type: 'string' },
        listen: { type: 'string' },
        'allowed-host': { type: 'string', multiple: true },
        'allowed-origin': { type: 'string', multiple: true },
        log: { type: 'boolean', default: false },
      },
    }).values;
    const server = await startServer({
      dataDir: values.data ?? 'gesso-data',
      port: integer('--port', values.port, DEFAULT_PORT),
      ...(values.models ? { modelFolders: values.models } : {}),
      ...(values.datasets ? { datasetFolders: values.datasets } : {}),
      ...(values.loras ? { loraFolders: values.loras } : {}),
      ...(values.redis !== undefined ? { redisUrl: values.redis } : {}),
      ...(values.window !== undefined ? { dispatchWindow: integer('--window', values.window, 4) } : {}),
      ...(values.concurrency !== undefined ? { concurrency: integer('--concurrency', values.concurrency, 1) } : {}),
      ...(values.listen !== undefined ? { listen: values.listen } : {}),
      allowedHosts: values['allowed-host'] ?? [],
      allowedOrigins: values['allowed-origin'] ?? [],
      logger: values.log === true,
    });
    console.log(
      `gesso serve: ${server.url} (data ${server.studio.dataDir}, jobs ${server.studio.queue.kind === 'bullmq' ? `on Redis ${values.redis}` : 'in this process'})`,
    );
    console.log(`  API: ${server.url}/openapi.json · A1111: ${server.url}/sdapi/v1/txt2img · OpenAI: ${server.url}/v1/images/generations`);
    if (server.adminTokenFile) console.log(`  accounts on: the admin API token is in ${server.adminTokenFile}`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('gesso serve: stopping (running jobs will run again at the next start)');
    await server.close();
    return 0;
  },
};

export function integer(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) throw new InputError(`${flag} "${text}": expected a whole number`);
  return n;
}
