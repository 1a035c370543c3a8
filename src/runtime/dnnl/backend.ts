/**
 * The optional oneDNN convolution backend as the rest of gesso sees it: whether it is available (and
 * why not), convolutions cached per shape, and its thread count. Nothing here loads oneDNN until it is
 * first asked for.
 */
import { GessoError } from '../../core/errors.ts';
import { checkThreadCount } from '../threads.ts';
import { DnnlConv2d, type DnnlConvGeometry, type DnnlConvOptions } from './conv2d.ts';
import { DEFAULT_DNNL_LIBRARY, type DnnlLibrary, dnnlLibrary } from './library.ts';

export interface DnnlStatus {
  available: boolean;
  /** Why not, and how to install the missing piece (when not available). */
  reason?: string;
  /** oneDNN's version, e.g. "2.6.3" (when available). */
  version?: string;
  koffi?: string;
}

/** Whether oneDNN can be used here; loads it on first call. `library` overrides the file name (tests). */
export function dnnlStatus(library: string = DEFAULT_DNNL_LIBRARY): DnnlStatus {
  const a = dnnlLibrary(library);
  return a.available ? { available: true, version: a.library.version, koffi: a.library.koffiVersion } : { available: false, reason: a.reason };
}

function requireLibrary(): DnnlLibrary {
  const a = dnnlLibrary();
  if (!a.available) throw new GessoError(`the oneDNN convolution backend is not available: ${a.reason}`);
  return a.library;
}

const convs = new Map<string, DnnlConv2d>();

/**
 * The oneDNN convolution for one shape, created on first use and cached: its primitives are built once
 * per pass. Throws a GessoError with the reason when oneDNN is not available (check `dnnlStatus()`).
 */
export function dnnlConv2d(geometry: DnnlConvGeometry, options: DnnlConvOptions = {}): DnnlConv2d {
  const lib = requireLibrary();
  const key = JSON.stringify([geometry, options.activations ?? 'blocked']);
  let conv = convs.get(key);
  if (conv === undefined) {
    conv = new DnnlConv2d(lib, geometry, options);
    convs.set(key, conv);
  }
  return conv;
}

/** Frees every cached convolution's oneDNN objects. */
export function releaseDnnlConvs(): void {
  for (const conv of convs.values()) conv.release();
  convs.clear();
}

/** Threads oneDNN uses for calls made from this thread (OpenMP); checked like ORT's thread counts. */
export function setDnnlThreads(threads: number): void {
  checkThreadCount(threads, 'oneDNN threads');
  requireLibrary().setThreads(threads);
}
