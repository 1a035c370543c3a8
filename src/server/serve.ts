/**
 * startServer(): what `gesso serve` runs, as a library function. Local mode binds 127.0.0.1 and serves
 * one owner; `listen` binds the given address and requires API tokens: on first start it creates an
 * "admin" account and writes its token to <data>/admin-token (mode 0600), never to the log.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InputError } from '../core/errors.ts';
import { buildApp } from './app.ts';
import { Studio, type StudioOptions } from './studio.ts';

export interface ServeOptions extends StudioOptions {
  /** TCP port (default 7860, A1111's); 0 picks a free one. */
  port?: number;
  /** Address to listen on with accounts (e.g. 0.0.0.0); unset = local mode on 127.0.0.1. */
  listen?: string;
  /** Host names clients may use (DNS rebinding protection); with --listen, empty = any. */
  allowedHosts?: string[];
  allowedOrigins?: string[];
  logger?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  app: FastifyInstance;
  studio: Studio;
  /** In accounts mode, where the admin token was written on first start (else null). */
  adminTokenFile: string | null;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 7860;

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port ${port}: expected 0 to 65535`);
  const studio = await Studio.open(options);
  try {
    const accounts = options.listen !== undefined;
    let adminTokenFile: string | null = null;
    if (accounts && !studio.users.byName('admin')) {
      const admin = studio.users.create('admin', { role: 'admin' });
      adminTokenFile = join(studio.dataDir, 'admin-token');
      if (!existsSync(adminTokenFile)) writeFileSync(adminTokenFile, `${studio.users.createToken(admin.id, 'first admin token')}\n`, { mode: 0o600 });
    }
    const app = await buildApp(studio, {
      mode: accounts ? 'accounts' : 'local',
      allowedHosts: options.allowedHosts ?? [],
      allowedOrigins: options.allowedOrigins ?? [],
      logger: options.logger ?? false,
    });
    const host = options.listen ?? '127.0.0.1';
    await app.listen({ host, port });
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    return {
      url: `http://${shown}:${actualPort}`,
      port: actualPort,
      app,
      studio,
      adminTokenFile,
      async close() {
        await app.close();
        await studio.close();
      },
    };
  } catch (e) {
    await studio.close();
    throw e;
  }
}
