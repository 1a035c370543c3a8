import type { Command } from '../command.ts';
import { trainXor, XOR_INPUTS } from '../../train/xor-demo.ts';

export const demoCommand: Command = {
  usage: `Usage: gesso demo

Builds a 2-16-1 MLP with gesso's graph builder, derives its training step with gesso's autodiff,
trains it on XOR for 500 Adam steps in ONNX Runtime and prints its predictions.`,
  async run(): Promise<number> {
    const t0 = Date.now();
    const r = await trainXor();
    console.log(`\nXOR learned in ${r.steps} steps (${((Date.now() - t0) / 1000).toFixed(1)} s): loss ${r.firstLoss.toFixed(4)} -> ${r.lastLoss.toFixed(5)}`);
    for (let i = 0; i < 4; i++) {
      console.log(`  ${XOR_INPUTS[2 * i]} xor ${XOR_INPUTS[2 * i + 1]} -> ${r.predictions[i]?.toFixed(3)}`);
    }
    return 0;
  },
};
