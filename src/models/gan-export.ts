/**
 * The generator as inference ONNX models (weights baked in, batch dim dynamic):
 *   generator.onnx  z (B, zDim) -> image (B, 3, S, S) in [-1, 1]
 *   mapping.onnx    z (B, zDim) -> w (B, wDim)
 *   synthesis.onnx  w (B, wDim) -> image
 * All three come from one graph with the trained (EMA) weights, so generator(z) = synthesis(mapping(z)).
 */
import { Rng } from '../core/rng.ts';
import { exportOnnx, type ExportedModel } from '../graph/export.ts';
import { Graph } from '../graph/graph.ts';
import { Generator, type GanConfig } from './gan.ts';

export interface GeneratorModels {
  generator: ExportedModel;
  mapping: ExportedModel;
  synthesis: ExportedModel;
}

/** `values`: parameter name (`G.*`) -> trained value; every generator parameter must be given. */
export function exportGenerator(config: GanConfig, values: ReadonlyMap<string, Float32Array>, metadata: Record<string, string> = {}): GeneratorModels {
  const g = new Graph();
  const gen = new Generator(g, new Rng(0), config);
  const mine = new Map([...values].filter(([name]) => g.params.has(name)));
  g.setValues(mine, { complete: true });
  const z = g.input('z', [1, config.zDim]);
  const wIn = g.input('w', [1, config.wDim]);
  const batch = { 0: 'batch' };
  const common = { params: 'initializers' as const, metadata };
  return {
    generator: exportOnnx(g, { ...common, name: 'gan_generator', outputs: { image: gen.forward(z) }, dynamicAxes: { z: batch, image: batch } }),
    mapping: exportOnnx(g, { ...common, name: 'gan_mapping', outputs: { w: gen.map(z) }, dynamicAxes: { z: batch, w: batch } }),
    synthesis: exportOnnx(g, { ...common, name: 'gan_synthesis', outputs: { image: gen.synthesize(wIn) }, dynamicAxes: { w: batch, image: batch } }),
  };
}
