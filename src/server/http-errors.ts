/**
 * One place that turns errors into HTTP answers: a user's mistake (InputError) is 400 with its message,
 * a missing or foreign thing 404, a role that does not allow the action 403, an over-limit upload 413,
 * schema validation 400 naming the field. The OpenAI- and A1111-compatible routes answer in their own
 * shapes (see their route files); anything else is a 500 whose details stay in the server log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GessoError } from '../core/errors.ts';
import { ForbiddenError } from '../studio/collections.ts';
import { NotFoundError } from '../studio/library.ts';
import { TooLargeError } from '../studio/upload-limits.ts';

export class HttpError extends GessoError {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorInfo {
  status: number;
  message: string;
  /** The request field at fault, when known. */
  param: string | null;
}

export function describeError(err: unknown): ErrorInfo {
  const e = err as FastifyError & { validation?: { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } }[] };
  if (e.validation && e.validation.length > 0) {
    const v = e.validation[0]!;
    const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const param = v.params?.missingProperty ?? v.params?.additionalProperty ?? (path || null);
    return { status: 400, message: e.message, param };
  }
  if (err instanceof HttpError) return { status: err.statusCode, message: err.message, param: err.param };
  if (err instanceof NotFoundError) return { status: 404, message: err.message, param: null };
  if (err instanceof ForbiddenError) return { status: 403, message: err.message, param: null };
  if (err instanceof TooLargeError) return { status: 413, message: err.message, param: null };
  if (err instanceof GessoError) return { status: 400, message: err.message, param: null };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, message: e.message, param: null };
  return { status: 500, message: 'internal error (see the server log)', param: null };
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const info = describeError(err);
  if (info.status >= 500) request.log.error(err);
  const url = request.url;
  if (url.startsWith('/v1/')) {
    // OpenAI's error shape.
    void reply
      .status(info.status)
      .send({ error: { message: info.message, type: info.status === 400 ? 'invalid_request_error' : 'api_error', param: info.param, code: null } });
  } else if (url.startsWith('/sdapi/')) {
    // A1111 (FastAPI) answers errors with `detail`.
    void reply.status(info.status).send({ error: info.status === 400 ? 'BadRequest' : 'Error', detail: info.message, errors: info.message });
  } else {
    void reply.status(info.status).send({ error: info.message, ...(info.param !== null ? { param: info.param } : {}) });
  }
}
