/**
 * gesso's public library API. (Created on the engine-speed branch with only its exports; the lead
 * merges the full list.)
 */
/** The NCHWc channel block ONNX Runtime's CPU kernels use on this machine (0: unknown); training steps lower convolutions with it. */
export { nchwcBlockSize } from './core/cpu-features.ts';
/** ONNX Runtime's own answer for the NCHWc block, probed with a one-node model. */
export { ortNchwcBlockSize } from './runtime/nchwc-probe.ts';
/** Options of a training step, including `nchwcBlock` (0 turns the lowering off). */
export { buildTrainStep, type TrainStep, type TrainStepOptions } from './autodiff/train-step.ts';
