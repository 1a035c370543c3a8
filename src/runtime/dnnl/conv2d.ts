/**
 * A 2-D convolution's three training passes run by oneDNN: forward, backward-data (dX) and
 * backward-weights (dW, plus the bias gradient), for float32 NCHW activations and OIHW weights, with
 * stride, asymmetric padding, dilation and groups. One `DnnlConv2d` holds the primitives for one shape;
 * `dnnlConv2d()` caches one per shape, so a training step pays the set-up once.
 *
 * Callers pass and get plain row-major arrays. oneDNN's fast kernels want blocked layouts (e.g.
 * nChw16c, and their own weight blocking): each primitive is created with the layouts it prefers and
 * plain arrays are reordered into and out of them around the call (`activations: 'blocked'`, the
 * default), or activations stay plain and only the weights are reordered (`activations: 'plain'`).
 * bench/engine_dnnl.ts times both.
 *
 * Caller arrays are handed to oneDNN by address, without a copy: the address is set on a memory object
 * and used by the primitive in the same synchronous call. Typed arrays of this size live outside V8's
 * moving heap, so the address is stable for that call.
 */
import { InputError } from '../../core/errors.ts';
import { check, CONV_DESC_BYTES, DNNL, type DnnlLibrary, MEMORY_DESC_BYTES, type Pointer } from './library.ts';

export interface DnnlConvGeometry {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  /** [kh, kw] */
  kernel: [number, number];
  /** [sh, sw]; default [1, 1] */
  stride?: [number, number];
  /** [top, left, bottom, right], as ONNX's `pads` in NCHW order; default zeros */
  padding?: [number, number, number, number];
  /** [dh, dw]; 1 = no dilation (ONNX's convention; oneDNN counts dilation − 1); default [1, 1] */
  dilation?: [number, number];
  /** default 1 */
  groups?: number;
  /** Forward adds a bias; backward-weights also gives its gradient. Default false. */
  bias?: boolean;
}

export type DnnlConvPass = 'forward' | 'backwardData' | 'backwardWeights';

export interface DnnlConvOptions {
  /** 'blocked' (default): activations reordered to the primitive's preferred layout; 'plain': NCHW kept. */
  activations?: 'blocked' | 'plain';
}

interface ResolvedGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pads: [number, number, number, number];
  dh: number;
  dw: number;
  groups: number;
  bias: boolean;
  oh: number;
  ow: number;
}

/** One argument of a primitive: the memory the caller's array is set on, and a reorder when the primitive wants another layout. */
interface Port {
  arg: number;
  input: boolean;
  /** Memory over the caller's plain array (its address set per call). */
  user: Pointer;
  /** Memory the primitive reads or writes: `user`, or a oneDNN-allocated buffer in the preferred layout. */
  inner: Pointer;
  /** user → inner (inputs) or inner → user (outputs); null when the layouts match. */
  reorder: Pointer;
}

interface Plan {
  primitive: Pointer;
  ports: Port[];
  implementation: string;
}

/** The resolved geometry, after checking every value; throws InputError naming the bad one. */
export function resolveConvGeometry(g: DnnlConvGeometry): ResolvedGeometry {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`conv ${name} must be a positive integer, got ${v}`);
    return v;
  };
  const n = positive('batch', g.batch);
  const c = positive('inChannels', g.inChannels);
  const h = positive('height', g.height);
  const w = positive('width', g.width);
  const o = positive('outChannels', g.outChannels);
  const [kh, kw] = g.kernel.map((k, i) => positive(`kernel[${i}]`, k)) as [number, number];
  const [sh, sw] = (g.stride ?? [1, 1]).map((s, i) => positive(`stride[${i}]`, s)) as [number, number];
  const [dh, dw] = (g.dilation ?? [1, 1]).map((d, i) => positive(`dilation[${i}]`, d)) as [number, number];
  const groups = positive('groups', g.groups ?? 1);
  const pads = g.padding ?? [0, 0, 0, 0];
  for (const [i, p] of pads.entries()) if (!Number.isInteger(p) || p < 0) throw new InputError(`conv padding[${i}] must be a non-negative integer, got ${p}`);
  if (c % groups !== 0 || o % groups !== 0) throw new InputError(`conv groups ${groups} must divide inChannels ${c} and outChannels ${o}`);
  const oh = Math.floor((h + pads[0] + pads[2] - ((kh - 1) * dh + 1)) / sh) + 1;
  const ow = Math.floor((w + pads[1] + pads[3] - ((kw - 1) * dw + 1)) / sw) + 1;
  if (oh < 1 || ow < 1) throw new InputError(`conv kernel ${kh}×${kw} (dilation ${dh}×${dw}) does not fit the padded ${h}×${w} input`);
  return { n, c, h, w, o, kh, kw, sh, sw, pads: [pads[0], pads[1], pads[2], pads[3]], dh, dw, groups, bias: g.bias === true, oh, ow };
}

export class DnnlConv2d {
  readonly geometry: ResolvedGeometry;
  readonly activations: 'blocked' | 'plain';
  private readonly lib: DnnlLibrary;
  private readonly plans = new Map<DnnlConvPass, Plan>();
  /** Primitive descriptors and memories to free on release (descriptors also back the queried layouts). */
  private readonly owned: { pds: Pointer[]; memories: Pointer[]; primitives: Pointer[] } = { pds: [], memories: [], primitives: [] };
  private forwardHint: Pointer = null;

  constructor(lib: DnnlLibrary, geometry: DnnlConvGeometry, options: DnnlConvOptions = {}) {
    this.lib = lib;
    this.geometry = resolveConvGeometry(geometry);
    this.activations = options.activations ?? 'blocked';
  }

  /** Output shape (N, O, OH, OW). */
  get outputDims(): [number, number, number, number] {
    const g = this.geometry;
    return [g.n, g.o, g.oh, g.ow];
  }

  /** y = conv(x, w) + b. x (N, C, H, W), w (O, C/groups, KH, KW), b (O) when the geometry has a bias; returns y (N, O, OH, OW). */
  forward(x: Float32Array, w: Float32Array, b: Float32Array | null = null, out?: Float32Array): Float32Array {
    const g = this.geometry;
    const y = out ?? new Float32Array(g.n * g.o * g.oh * g.ow);
    this.checkSizes('forward', { x, w, y });
    if (g.bias !== (b !== null))
      throw new InputError(g.bias ? `conv forward needs a bias of ${g.o} values` : 'conv forward got a bias, but the geometry has bias: false');
    if (b !== null && b.length !== g.o) throw new InputError(`conv bias has ${b.length} values, expected ${g.o}`);
    const arrays = new Map<number, Float32Array>([
      [DNNL.argSrc, x],
      [DNNL.argWeights, w],
      [DNNL.argDst, y],
    ]);
    if (b !== null) arrays.set(DNNL.argBias, b);
    this.execute('forward', arrays);
    return y;
  }

  /** dX from the output gradient dy (N, O, OH, OW) and w; returns dx (N, C, H, W). */
  backwardData(w: Float32Array, dy: Float32Array, out?: Float32Array): Float32Array {
    const g = this.geometry;
    const dx = out ?? new Float32Array(g.n * g.c * g.h * g.w);
    this.checkSizes('backwardData', { w, dy, x: dx });
    this.execute(
      'backwardData',
      new Map([
        [DNNL.argWeights, w],
        [DNNL.argDiffDst, dy],
        [DNNL.argDiffSrc, dx],
      ]),
    );
    return dx;
  }

  /** dW (O, C/groups, KH, KW) and, with a bias, db (O) from x and the output gradient dy. */
  backwardWeights(x: Float32Array, dy: Float32Array, out?: { dw: Float32Array; db?: Float32Array }): { dw: Float32Array; db: Float32Array | null } {
    const g = this.geometry;
    const dw = out?.dw ?? new Float32Array(this.weightSize());
    const db = g.bias ? (out?.db ?? new Float32Array(g.o)) : null;
    this.checkSizes('backwardWeights', { x, dy, w: dw });
    if (db !== null && db.length !== g.o) throw new InputError(`conv bias gradient buffer has ${db.length} values, expected ${g.o}`);
    const arrays = new Map<number, Float32Array>([
      [DNNL.argSrc, x],
      [DNNL.argDiffDst, dy],
      [DNNL.argDiffWeights, dw],
    ]);
    if (db !== null) arrays.set(DNNL.argDiffBias, db);
    this.execute('backwardWeights', arrays);
    return { dw, db };
  }

  /** The oneDNN implementation a pass runs (e.g. "jit:avx512_core"); builds the pass if needed. */
  implementation(pass: DnnlConvPass): string {
    return this.plan(pass).implementation;
  }

  /** Frees every oneDNN object this convolution made. */
  release(): void {
    const fn = this.lib.fn;
    for (const p of this.owned.primitives) fn.primitiveDestroy(p);
    for (const m of this.owned.memories) fn.memoryDestroy(m);
    for (const pd of this.owned.pds) fn.primitiveDescDestroy(pd);
    this.owned.primitives.length = 0;
    this.owned.memories.length = 0;
    this.owned.pds.length = 0;
    this.plans.clear();
    this.forwardHint = null;
  }

  private weightSize(): number {
    const g = this.geometry;
    return (g.o * g.c * g.kh * g.kw) / g.groups;
  }

  private checkSizes(pass: DnnlConvPass, arrays: { x?: Float32Array; w?: Float32Array; y?: Float32Array; dy?: Float32Array }): void {
    const g = this.geometry;
    const expected: Record<string, [number, string]> = {
      x: [g.n * g.c * g.h * g.w, `(N, C, H, W) = (${g.n}, ${g.c}, ${g.h}, ${g.w})`],
      w: [this.weightSize(), `(O, C/groups, KH, KW) = (${g.o}, ${g.c / g.groups}, ${g.kh}, ${g.kw})`],
      y: [g.n * g.o * g.oh * g.ow, `(N, O, OH, OW) = (${g.n}, ${g.o}, ${g.oh}, ${g.ow})`],
      dy: [g.n * g.o * g.oh * g.ow, `(N, O, OH, OW) = (${g.n}, ${g.o}, ${g.oh}, ${g.ow})`],
    };
    for (const [name, array] of Object.entries(arrays)) {
      const [size, shape] = expected[name] as [number, string];
      if (!(array instanceof Float32Array)) throw new InputError(`conv ${pass}: ${name} must be a Float32Array`);
      if (array.length !== size) throw new InputError(`conv ${pass}: ${name} has ${array.length} values, expected ${size} ${shape}`);
    }
  }

  private execute(pass: DnnlConvPass, arrays: Map<number, Float32Array>): void {
    const { fn, stream } = this.lib;
    const plan = this.plan(pass);
    // Every address set below is used before this function returns (see the file comment).
    for (const port of plan.ports) {
      const array = arrays.get(port.arg);
      if (array === undefined) throw new InputError(`conv ${pass}: missing argument ${port.arg}`);
      check(fn.memorySetDataHandle(port.user, array), 'dnnl_memory_set_data_handle');
    }
    for (const port of plan.ports) if (port.input && port.reorder !== null) this.reorder(port.reorder, port.user, port.inner);
    const args = plan.ports.map((p) => ({ arg: p.arg, memory: p.inner }));
    check(fn.primitiveExecute(plan.primitive, stream, args.length, args), `dnnl_primitive_execute (conv ${pass})`);
    for (const port of plan.ports) if (!port.input && port.reorder !== null) this.reorder(port.reorder, port.inner, port.user);
    check(fn.streamWait(stream), 'dnnl_stream_wait');
  }

  private reorder(primitive: Pointer, from: Pointer, to: Pointer): void {
    const args = [
      { arg: DNNL.argSrc, memory: from },
      { arg: DNNL.argDst, memory: to },
    ];
    check(this.lib.fn.primitiveExecute(primitive, this.lib.stream, 2, args), 'dnnl_primitive_execute (reorder)');
  }

  private plan(pass: DnnlConvPass): Plan {
    let plan = this.plans.get(pass);
    if (plan === undefined) {
      plan = this.buildPlan(pass);
      this.plans.set(pass, plan);
    }
    return plan;
  }

  /** Memory descriptors: plain (the caller's layout) and what the primitive is asked for. */
  private descriptors() {
    const g = this.geometry;
    const act = this.activations === 'blocked' ? DNNL.formatAny : (DNNL.plainTag[4] as number);
    const weightDims = g.groups === 1 ? [g.o, g.c, g.kh, g.kw] : [g.groups, g.o / g.groups, g.c / g.groups, g.kh, g.kw];
    return {
      src: { plain: this.md([g.n, g.c, g.h, g.w]), asked: this.md([g.n, g.c, g.h, g.w], act) },
      dst: { plain: this.md([g.n, g.o, g.oh, g.ow]), asked: this.md([g.n, g.o, g.oh, g.ow], act) },
      weights: { plain: this.md(weightDims), asked: this.md(weightDims, DNNL.formatAny) },
      bias: g.bias ? this.md([g.o]) : null,
      strides: new BigInt64Array([BigInt(g.sh), BigInt(g.sw)]),
      dilates: new BigInt64Array([BigInt(g.dh - 1), BigInt(g.dw - 1)]),
      padL: new BigInt64Array([BigInt(g.pads[0]), BigInt(g.pads[1])]),
      padR: new BigInt64Array([BigInt(g.pads[2]), BigInt(g.pads[3])]),
    };
  }

  private md(dims: number[], tag: number = DNNL.plainTag[dims.length] as number): Uint8Array {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    check(this.lib.fn.memoryDescInitByTag(md, dims.length, new BigInt64Array(dims.map(BigInt)), DNNL.f32, tag), 'dnnl_memory_desc_init_by_tag');
    return md;
  }

  private primitiveDesc(desc: Uint8Array, hint: Pointer, what: string): Pointer {
    const out: Pointer[] = [null];
    check(this.lib.fn.primitiveDescCreate(out, desc, null, this.lib.engine, hint), `dnnl_primitive_desc_create (${what})`);
    const pd = out[0] ?? null;
    this.owned.pds.push(pd);
    return pd;
  }

  /** The forward primitive descriptor, which the backward passes need as a hint. */
  private forwardPd(): Pointer {
    if (this.forwardHint === null) {
      const d = this.descriptors();
      const desc = new Uint8Array(CONV_DESC_BYTES);
      check(
        this.lib.fn.convForwardDescInit(
          desc,
          DNNL.forwardTraining,
          DNNL.convolutionDirect,
          d.src.asked,
          d.weights.asked,
          d.bias,
          d.dst.asked,
          d.strides,
          d.dilates,
          d.padL,
          d.padR,
        ),
        'dnnl_dilated_convolution_forward_desc_init',
      );
      this.forwardHint = this.primitiveDesc(desc, null, 'conv forward');
    }
    return this.forwardHint;
  }

  private buildPlan(pass: DnnlConvPass): Plan {
    const fn = this.lib.fn;
    const d = this.descriptors();
    const hint = this.forwardPd();
    let pd: Pointer;
    let ports: Port[];
    if (pass === 'forward') {
      pd = hint;
      ports = [
        this.port(pd, DNNL.argSrc, true, d.src.plain, DNNL.querySrcMd, 0),
        this.port(pd, DNNL.argWeights, true, d.weights.plain, DNNL.queryWeightsMd, 0),
        this.port(pd, DNNL.argDst, false, d.dst.plain, DNNL.queryDstMd, 0),
      ];
      if (d.bias !== null) ports.push(this.port(pd, DNNL.argBias, true, d.bias, DNNL.queryWeightsMd, 1));
    } else if (pass === 'backwardData') {
      const desc = new Uint8Array(CONV_DESC_BYTES);
      check(
        fn.convBackwardDataDescInit(desc, DNNL.convolutionDirect, d.src.asked, d.weights.asked, d.dst.asked, d.strides, d.dilates, d.padL, d.padR),
        'dnnl_dilated_convolution_backward_data_desc_init',
      );
      pd = this.primitiveDesc(desc, hint, 'conv backward data');
      ports = [
        this.port(pd, DNNL.argWeights, true, d.weights.plain, DNNL.queryWeightsMd, 0),
        this.port(pd, DNNL.argDiffDst, true, d.dst.plain, DNNL.queryDiffDstMd, 0),
        this.port(pd, DNNL.argDiffSrc, false, d.src.plain, DNNL.queryDiffSrcMd, 0),
      ];
    } else {
      const desc = new Uint8Array(CONV_DESC_BYTES);
      check(
        fn.convBackwardWeightsDescInit(desc, DNNL.convolutionDirect, d.src.asked, d.weights.asked, d.bias, d.dst.asked, d.strides, d.dilates, d.padL, d.padR),
        'dnnl_dilated_convolution_backward_weights_desc_init',
      );
      pd = this.primitiveDesc(desc, hint, 'conv backward weights');
      ports = [
        this.port(pd, DNNL.argSrc, true, d.src.plain, DNNL.querySrcMd, 0),
        this.port(pd, DNNL.argDiffDst, true, d.dst.plain, DNNL.queryDiffDstMd, 0),
        this.port(pd, DNNL.argDiffWeights, false, d.weights.plain, DNNL.queryDiffWeightsMd, 0),
      ];
      if (d.bias !== null) ports.push(this.port(pd, DNNL.argDiffBias, false, d.bias, DNNL.queryDiffWeightsMd, 1));
    }
    const out: Pointer[] = [null];
    check(fn.primitiveCreate(out, pd), `dnnl_primitive_create (conv ${pass})`);
    const primitive = out[0] ?? null;
    this.owned.primitives.push(primitive);
    const impl: Pointer[] = [null];
    check(fn.primitiveDescQueryString(pd, DNNL.queryImplInfoStr, 0, impl), 'dnnl_primitive_desc_query (impl_info_str)');
    return { primitive, ports, implementation: this.lib.readString(impl[0] ?? null) };
  }

  /** One argument: a memory over the caller's plain layout, plus a buffer and reorder if the primitive chose another. */
  private port(pd: Pointer, arg: number, input: boolean, plain: Uint8Array, query: number, index: number): Port {
    const { fn, engine } = this.lib;
    const chosen = fn.primitiveDescQueryMd(pd, query, index);
    const user = this.memory(plain, null);
    if (fn.memoryDescEqual(chosen, plain) === 1) return { arg, input, user, inner: user, reorder: null };
    const inner = this.memory(chosen, -1n); // DNNL_MEMORY_ALLOCATE: oneDNN owns the buffer
    const rpd: Pointer[] = [null];
    if (input) check(fn.reorderPrimitiveDescCreate(rpd, plain, engine, chosen, engine, null), 'dnnl_reorder_primitive_desc_create');
    else check(fn.reorderPrimitiveDescCreate(rpd, chosen, engine, plain, engine, null), 'dnnl_reorder_primitive_desc_create');
    this.owned.pds.push(rpd[0] ?? null);
    const reorder: Pointer[] = [null];
    check(fn.primitiveCreate(reorder, rpd[0] ?? null), 'dnnl_primitive_create (reorder)');
    this.owned.primitives.push(reorder[0] ?? null);
    return { arg, input, user, inner, reorder: reorder[0] ?? null };
  }

  private memory(md: Uint8Array | Pointer, handle: Pointer): Pointer {
    const out: Pointer[] = [null];
    // A bigint -1 is DNNL_MEMORY_ALLOCATE ((void *)-1 as an unsigned address).
    const address = handle === -1n ? 0xffff_ffff_ffff_ffffn : handle;
    check(this.lib.fn.memoryCreate(out, md, this.lib.engine, address), 'dnnl_memory_create');
    const memory = out[0] ?? null;
    this.owned.memories.push(memory);
    return memory;
  }
}
