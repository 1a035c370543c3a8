/**
 * The body of a session worker: one in-process `Session`, driven by messages from a `WorkerSession`.
 * Runs inside the worker thread (from sources it is started through worker-thread-boot.mjs, which registers tsx;
 * compiled, as dist/runtime/worker-thread.js directly). WorkerSession (worker-session.ts) is the other end.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Session } from './session.ts';
import { serializeError, transferables, type CloseRequest, type WorkerInit, type WorkerReply, type WorkerRequest } from './worker-protocol.ts';
import type { HostTensor } from './tensor.ts';

const port: MessagePort = parentPort ?? notInWorker();
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

const init = workerData as WorkerInit;
try {
  serve(await Session.create(init.model, init.options));
} catch (e) {
  post({ kind: 'failed', error: serializeError(e) });
  port.close();
}

function serve(session: Session): void {
  post({ kind: 'ready', name: session.name, inputs: [...session.inputs], outputs: [...session.outputs] });
  port.on('message', (request: WorkerRequest | CloseRequest) => {
    if (request.kind === 'close') {
      // Session.release() waits for a run in progress; then nothing is left and the thread ends.
      void session.release().finally(() => port.close());
      return;
    }
    handle(session, request).then(
      // Every tensor sent back is fresh (outputs, or copies of state), so its buffer can move.
      (value) => post({ kind: 'done', id: request.id, value }, value ? transferables(Object.values(value)) : []),
      (e: unknown) => post({ kind: 'error', id: request.id, error: serializeError(e) }),
    );
  });
}

async function handle(session: Session, request: WorkerRequest): Promise<Record<string, HostTensor> | null> {
  switch (request.kind) {
    case 'run':
      return session.run(request.feeds, { fetch: request.fetch, carry: request.carry });
    case 'setState':
      // The tensors arrived by transfer or copy: this thread owns them, so the session keeps them as-is.
      await session.setState(request.tensors, { transfer: true });
      return null;
    case 'getState':
      return session.getState(request.names);
  }
}

function notInWorker(): never {
  throw new Error('worker-thread.ts must run in a worker thread (see WorkerSession)');
}
