/** Redis connection settings from a redis:// URL, as BullMQ and ioredis take them. */
import { GessoError, InputError } from '../../core/errors.ts';

export interface RedisOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /** BullMQ's blocking commands need this to be null (retry for ever). */
  maxRetriesPerRequest: null;
}

export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`--redis ${JSON.stringify(url)}: expected a URL like redis://127.0.0.1:6379`);
  }
  if (parsed.protocol !== 'redis:') throw new InputError(`--redis ${JSON.stringify(url)}: expected the redis:// scheme`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new InputError(`--redis ${JSON.stringify(url)}: database ${parsed.pathname.slice(1)} is not a number`);
  return {
    host: parsed.hostname,
    port,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    maxRetriesPerRequest: null,
  };
}

/** BullMQ queue name for a gesso queue (workers and the server must agree). */
export const DEFAULT_QUEUE_NAME = 'gesso-jobs';
export const cancelChannel = (queueName: string): string => `${queueName}:cancel`;

/** `ready`, or a GessoError naming the Redis URL when it does not answer within timeoutMs. */
export async function untilReady(ready: Promise<unknown>, url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GessoError(`Redis at ${url} did not answer within ${timeoutMs / 1000} s; is redis-server running there?`)), timeoutMs);
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
