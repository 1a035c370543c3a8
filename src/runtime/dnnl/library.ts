/**
 * oneDNN 2.x (Debian's `libdnnl2`, the library PyTorch's CPU convolutions run on) called from Node
 * through the FFI package `koffi`. Both are optional: `koffi` is an optionalDependency and the library a
 * system package, so `dnnlLibrary()` returns a reason instead of the bindings when either is missing,
 * and nothing else in gesso depends on them.
 *
 * Only the C functions the convolution passes need are bound. Signatures, enum values and struct sizes
 * are those of oneDNN 2.6's `oneapi/dnnl/dnnl.h` and `dnnl_types.h` (Debian's `libdnnl-dev` 2.6.3);
 * oneDNN 3 removed the `*_desc_init` functions, so only major version 2 is accepted.
 *
 * Descriptors (`dnnl_memory_desc_t`, `dnnl_convolution_desc_t`) are plain C structs that oneDNN fills
 * and copies by value, so gesso keeps them as byte buffers of the header's size and never reads their
 * fields. Handles (engine, stream, primitive, memory) are pointers, which koffi gives as bigints.
 */
import { createRequire } from 'node:module';
import { InternalError } from '../../core/errors.ts';

/** A C pointer as koffi passes it: a bigint address, or null for NULL. */
export type Pointer = bigint | null;

/** The part of koffi's API used here (koffi ships its own types; this keeps gesso's typecheck independent of the optional package). */
interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  struct(name: string, fields: Record<string, string>): unknown;
  decode(pointer: Pointer, type: unknown): unknown;
  view(pointer: Pointer, bytes: number): ArrayBuffer;
  version: string;
}

/** sizeof(dnnl_memory_desc_t) and sizeof(dnnl_convolution_desc_t) in oneDNN 2.x on 64-bit systems. */
export const MEMORY_DESC_BYTES = 696;
export const CONV_DESC_BYTES = 5976;

/** Enum values from oneDNN 2.6's dnnl_types.h. */
export const DNNL = {
  f32: 3,
  engineCpu: 1,
  streamDefaultFlags: 1,
  formatAny: 1,
  /** Plain row-major tags by rank: a, ab, abc, abcd (nchw / oihw), abcde (goihw). */
  plainTag: { 1: 2, 2: 3, 3: 4, 4: 5, 5: 7 } as Record<number, number>,
  forwardTraining: 64,
  forwardInference: 96,
  backwardData: 160,
  backwardWeights: 192,
  convolutionDirect: 1,
  convolutionAuto: 3,
  argSrc: 1,
  argDst: 17,
  argWeights: 33,
  argBias: 41,
  argDiffSrc: 129,
  argDiffDst: 145,
  argDiffWeights: 161,
  argDiffBias: 169,
  querySrcMd: 129,
  queryDiffSrcMd: 130,
  queryWeightsMd: 131,
  queryDiffWeightsMd: 132,
  queryDstMd: 133,
  queryDiffDstMd: 134,
  queryImplInfoStr: 8,
} as const;

const STATUS_NAMES = ['success', 'out_of_memory', 'invalid_arguments', 'unimplemented', 'iterator_ends', 'runtime_error', 'not_required'];

/** The bound C functions; each returns oneDNN's dnnl_status_t (0 = success) unless noted. */
export interface DnnlFunctions {
  engineCreate(out: Pointer[], kind: number, index: number): number;
  streamCreate(out: Pointer[], engine: Pointer, flags: number): number;
  streamWait(stream: Pointer): number;
  memoryDescInitByTag(md: Uint8Array, ndims: number, dims: BigInt64Array, dtype: number, tag: number): number;
  /** Returns the byte size (size_t), not a status. */
  memoryDescGetSize(md: Uint8Array | Pointer): number | bigint;
  /** Returns 1 when equal (int), not a status. */
  memoryDescEqual(a: Uint8Array | Pointer, b: Uint8Array | Pointer): number;
  memoryCreate(out: Pointer[], md: Uint8Array | Pointer, engine: Pointer, handle: Float32Array | Pointer): number;
  memorySetDataHandle(memory: Pointer, handle: Float32Array | Pointer): number;
  memoryGetDataHandle(memory: Pointer, out: Pointer[]): number;
  memoryDestroy(memory: Pointer): number;
  convForwardDescInit(
    desc: Uint8Array,
    prop: number,
    alg: number,
    src: Uint8Array,
    weights: Uint8Array,
    bias: Uint8Array | null,
    dst: Uint8Array,
    strides: BigInt64Array,
    dilates: BigInt64Array,
    padL: BigInt64Array,
    padR: BigInt64Array,
  ): number;
  convBackwardDataDescInit(
    desc: Uint8Array,
    alg: number,
    diffSrc: Uint8Array,
    weights: Uint8Array,
    diffDst: Uint8Array,
    strides: BigInt64Array,
    dilates: BigInt64Array,
    padL: BigInt64Array,
    padR: BigInt64Array,
  ): number;
  convBackwardWeightsDescInit(
    desc: Uint8Array,
    alg: number,
    src: Uint8Array,
    diffWeights: Uint8Array,
    diffBias: Uint8Array | null,
    diffDst: Uint8Array,
    strides: BigInt64Array,
    dilates: BigInt64Array,
    padL: BigInt64Array,
    padR: BigInt64Array,
  ): number;
  primitiveDescCreate(out: Pointer[], opDesc: Uint8Array, attr: Pointer, engine: Pointer, hint: Pointer): number;
  reorderPrimitiveDescCreate(
    out: Pointer[],
    src: Uint8Array | Pointer,
    srcEngine: Pointer,
    dst: Uint8Array | Pointer,
    dstEngine: Pointer,
    attr: Pointer,
  ): number;
  /** Returns a pointer into the primitive descriptor (valid while it lives), not a status. */
  primitiveDescQueryMd(pd: Pointer, what: number, index: number): Pointer;
  primitiveDescQueryString(pd: Pointer, what: number, index: number, out: Pointer[]): number;
  primitiveDescDestroy(pd: Pointer): number;
  primitiveCreate(out: Pointer[], pd: Pointer): number;
  primitiveExecute(primitive: Pointer, stream: Pointer, nargs: number, args: { arg: number; memory: Pointer }[]): number;
  primitiveDestroy(primitive: Pointer): number;
}

/** The loaded library: its functions, one CPU engine and stream, and what was loaded. */
export interface DnnlLibrary {
  fn: DnnlFunctions;
  engine: Pointer;
  stream: Pointer;
  /** "2.6.3" */
  version: string;
  koffiVersion: string;
  /** Sets the OpenMP thread count of later oneDNN calls from this thread (libgomp's omp_set_num_threads). */
  setThreads(n: number): void;
  /** Reads a C string (e.g. an implementation name) at a pointer. */
  readString(p: Pointer): string;
  /** An ArrayBuffer over native memory at a pointer (no copy; valid while the memory lives). */
  view(p: Pointer, bytes: number): ArrayBuffer;
}

export type DnnlAvailability = { available: true; library: DnnlLibrary } | { available: false; reason: string };

/** The default library file: Debian's libdnnl2 package installs libdnnl.so.2. */
export const DEFAULT_DNNL_LIBRARY = 'libdnnl.so.2';

const loaded = new Map<string, DnnlAvailability>();

/**
 * oneDNN through koffi, loaded on first call and cached per library path. Never throws for a missing
 * piece: `{ available: false, reason }` names what is missing and how to install it.
 */
export function dnnlLibrary(path: string = DEFAULT_DNNL_LIBRARY): DnnlAvailability {
  let result = loaded.get(path);
  if (result === undefined) {
    result = load(path);
    loaded.set(path, result);
  }
  return result;
}

function load(path: string): DnnlAvailability {
  let koffi: Koffi;
  try {
    const require = createRequire(import.meta.url);
    koffi = require('koffi') as Koffi;
  } catch (err) {
    return {
      available: false,
      reason: `the optional npm package koffi could not be loaded (${firstLine(err)}); npm installs it where it has a prebuilt binary for this platform`,
    };
  }
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = withPassiveOpenMpWait(() => koffi.load(path));
  } catch (err) {
    return { available: false, reason: `oneDNN (${path}) could not be loaded (${firstLine(err)}); on Debian or Ubuntu: apt-get install libdnnl2` };
  }
  const versionType = koffi.struct('gesso_dnnl_version_t', {
    major: 'int',
    minor: 'int',
    patch: 'int',
    hash: 'const char *',
    cpu_runtime: 'unsigned int',
    gpu_runtime: 'unsigned int',
  });
  const version = koffi.decode(lib.func('void *dnnl_version()')() as Pointer, versionType) as { major: number; minor: number; patch: number };
  const versionText = `${version.major}.${version.minor}.${version.patch}`;
  if (version.major !== 2) return { available: false, reason: `${path} is oneDNN ${versionText}; gesso binds oneDNN 2.x (its convolution descriptor API)` };

  const f = (signature: string) => lib.func(signature) as never;
  const fn: DnnlFunctions = {
    engineCreate: f('int dnnl_engine_create(_Out_ void **engine, int kind, size_t index)'),
    streamCreate: f('int dnnl_stream_create(_Out_ void **stream, void *engine, unsigned int flags)'),
    streamWait: f('int dnnl_stream_wait(void *stream)'),
    memoryDescInitByTag: f('int dnnl_memory_desc_init_by_tag(void *md, int ndims, const int64_t *dims, int dtype, int tag)'),
    memoryDescGetSize: f('size_t dnnl_memory_desc_get_size(const void *md)'),
    memoryDescEqual: f('int dnnl_memory_desc_equal(const void *a, const void *b)'),
    memoryCreate: f('int dnnl_memory_create(_Out_ void **memory, const void *md, void *engine, void *handle)'),
    memorySetDataHandle: f('int dnnl_memory_set_data_handle(void *memory, void *handle)'),
    memoryGetDataHandle: f('int dnnl_memory_get_data_handle(void *memory, _Out_ void **handle)'),
    memoryDestroy: f('int dnnl_memory_destroy(void *memory)'),
    convForwardDescInit: f(
      'int dnnl_dilated_convolution_forward_desc_init(void *desc, int prop, int alg, const void *src, const void *weights, const void *bias, const void *dst, const int64_t *strides, const int64_t *dilates, const int64_t *padL, const int64_t *padR)',
    ),
    convBackwardDataDescInit: f(
      'int dnnl_dilated_convolution_backward_data_desc_init(void *desc, int alg, const void *diffSrc, const void *weights, const void *diffDst, const int64_t *strides, const int64_t *dilates, const int64_t *padL, const int64_t *padR)',
    ),
    convBackwardWeightsDescInit: f(
      'int dnnl_dilated_convolution_backward_weights_desc_init(void *desc, int alg, const void *src, const void *diffWeights, const void *diffBias, const void *diffDst, const int64_t *strides, const int64_t *dilates, const int64_t *padL, const int64_t *padR)',
    ),
    primitiveDescCreate: f('int dnnl_primitive_desc_create(_Out_ void **pd, const void *opDesc, const void *attr, void *engine, const void *hint)'),
    reorderPrimitiveDescCreate: f(
      'int dnnl_reorder_primitive_desc_create(_Out_ void **pd, const void *src, void *srcEngine, const void *dst, void *dstEngine, const void *attr)',
    ),
    primitiveDescQueryMd: f('void *dnnl_primitive_desc_query_md(const void *pd, int what, int index)'),
    primitiveDescQueryString: f('int dnnl_primitive_desc_query(const void *pd, int what, int index, _Out_ void **result)'),
    primitiveDescDestroy: f('int dnnl_primitive_desc_destroy(void *pd)'),
    primitiveCreate: f('int dnnl_primitive_create(_Out_ void **primitive, const void *pd)'),
    primitiveExecute: (() => {
      koffi.struct('gesso_dnnl_exec_arg_t', { arg: 'int', memory: 'void *' });
      return f('int dnnl_primitive_execute(const void *primitive, void *stream, int nargs, const gesso_dnnl_exec_arg_t *args)');
    })(),
    primitiveDestroy: f('int dnnl_primitive_destroy(void *primitive)'),
  };

  const engine: Pointer[] = [null];
  check(fn.engineCreate(engine, DNNL.engineCpu, 0), 'dnnl_engine_create');
  const stream: Pointer[] = [null];
  check(fn.streamCreate(stream, engine[0] ?? null, DNNL.streamDefaultFlags), 'dnnl_stream_create');

  // Debian's libdnnl2 is built with DNNL_CPU_RUNTIME=OMP (dnnl_config.h), so its threads are libgomp's.
  const setNumThreads = koffi.load('libgomp.so.1').func('void omp_set_num_threads(int n)') as (n: number) => void;
  const libc = koffi.load('libc.so.6');
  const strlen = libc.func('size_t strlen(const void *s)') as (p: Pointer) => number | bigint;
  // Keep both libraries mapped until the process is gone: koffi closes them while Node exits, and an
  // OpenMP thread still spinning in libgomp then jumps into unmapped code (a segfault at exit, seen
  // with OMP_WAIT_POLICY=active). dlopen with RTLD_NOW | RTLD_NODELETE marks the loaded objects.
  const dlopen = libc.func('void *dlopen(const char *file, int mode)') as (file: string, mode: number) => Pointer;
  for (const file of [path, 'libgomp.so.1'])
    if (dlopen(file, 0x2 | 0x1000) === null) throw new InternalError(`dlopen(${file}, RTLD_NODELETE) failed after koffi loaded it`);
  const library: DnnlLibrary = {
    fn,
    engine: engine[0] ?? null,
    stream: stream[0] ?? null,
    version: versionText,
    koffiVersion: koffi.version,
    setThreads: (n) => setNumThreads(n),
    readString: (p) => (p === null ? '' : Buffer.from(koffi.view(p, Number(strlen(p)))).toString('utf8')),
    view: (p, bytes) => koffi.view(p, bytes),
  };
  return { available: true, library };
}

/**
 * Runs `load` with OMP_WAIT_POLICY=passive unless the user set it: libgomp reads it once, when oneDNN
 * loads it. Waiting OpenMP threads then sleep instead of spinning. On the 2-core machine, busy with
 * other jobs, fwd + dX + dW of the 64→64 3×3 conv on 8×64×64 at 2 threads took 124–144 ms wall and
 * 86–110 CPU-ms with spinning, 76–96 ms and 46–50 CPU-ms without (1 thread: no difference, 45–52
 * CPU-ms). The variable is removed again so child processes (e.g. a PyTorch peer) do not inherit it.
 */
function withPassiveOpenMpWait<T>(load: () => T): T {
  if (process.env.OMP_WAIT_POLICY !== undefined) return load();
  process.env.OMP_WAIT_POLICY = 'passive';
  try {
    return load();
  } finally {
    delete process.env.OMP_WAIT_POLICY;
  }
}

/** Throws when a oneDNN call did not return dnnl_success; names the call and the status. */
export function check(status: number, call: string): void {
  if (status !== 0) throw new InternalError(`oneDNN ${call} failed: dnnl_${STATUS_NAMES[status] ?? `status ${status}`}`);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
