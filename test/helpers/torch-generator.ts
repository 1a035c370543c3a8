/**
 * PyTorch's CPU `torch.randn` for a `torch.manual_seed(seed)` generator, for tests that reproduce
 * published diffusers results drawn with torch noise. Written from the algorithm's published description:
 * - the generator is MT19937 (Matsumoto & Nishimura 1998) seeded with init_genrand(seed);
 * - a float32 uniform is (32-bit draw & (2^24 − 1)) · 2^−24;
 * - randn of n ≥ 16 float32 values first draws n uniforms, then turns each block of 16 into normals with
 *   Box–Muller: u1 = 1 − data[j], u2 = data[j+8], data[j] = √(−2 ln u1)·cos(2π u2), data[j+8] = … sin …
 *   (j < 8); when n is not a multiple of 16, the last 16 are drawn again and transformed once more.
 * torch evaluates ln/sin/cos with float32 vector approximations; this uses float64 and rounds, so values
 * agree to ~1e-7 relative, not bit for bit. Only `normal` is torch's; the other Rng methods refuse.
 */
import { Rng } from '../../src/core/rng.ts';

const N = 624;
const M = 397;

class Mt19937 {
  readonly #state = new Uint32Array(N);
  #index = N;

  constructor(seed: number) {
    this.#state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.#state[i - 1] as number;
      this.#state[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  next(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#state[this.#index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  #twist(): void {
    const s = this.#state;
    for (let i = 0; i < N; i++) {
      const y = ((s[i] as number) & 0x80000000) | ((s[(i + 1) % N] as number) & 0x7fffffff);
      s[i] = ((s[(i + M) % N] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.#index = 0;
  }
}

export class TorchCpuGenerator extends Rng {
  readonly #mt: Mt19937;

  constructor(seed: number) {
    super(seed);
    this.#mt = new Mt19937(seed);
  }

  #uniform32(): number {
    return Math.fround((this.#mt.next() & 0xffffff) * 2 ** -24);
  }

  /** torch.randn(n) (float32, n ≥ 16), scaled by std and shifted by mean. */
  override normal(n: number, std = 1, mean = 0): Float32Array {
    if (n < 16) throw new RangeError(`TorchCpuGenerator reproduces torch.randn for 16 or more values, not ${n}`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = this.#uniform32();
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(data, i);
    if (n % 16 !== 0) {
      for (let i = n - 16; i < n; i++) data[i] = this.#uniform32();
      boxMuller16(data, n - 16);
    }
    return std === 1 && mean === 0 ? data : data.map((v) => mean + std * v);
  }

  override uniform(): number {
    throw new Error('TorchCpuGenerator only reproduces torch.randn (normal)');
  }

  override gaussian(): number {
    throw new Error('TorchCpuGenerator only reproduces torch.randn (normal)');
  }
}

function boxMuller16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = Math.fround(1 - (data[at + j] as number));
    const u2 = data[at + j + 8] as number;
    const radius = Math.sqrt(-2 * Math.log(u1));
    const theta = Math.fround(2 * Math.PI) * u2;
    data[at + j] = radius * Math.cos(theta);
    data[at + j + 8] = radius * Math.sin(theta);
  }
}
