/**
 * Moving pixels between channels and space (sub-pixel convolution, Shi et al. 2016, "ESPCN").
 *
 * DepthToSpace is always emitted in ONNX's DCR mode ("depth-column-row"): input channel
 * (by·b + bx)·C + c lands at output (c, y·b + by, x·b + bx). DCR is exactly the inverse of ONNX
 * SpaceToDepth (which has no mode), so each op's gradient is the other op, with no reshape that would
 * bake H and W into the graph. PyTorch's nn.PixelShuffle is CRD (channel c·b² + by·b + bx): to load
 * PyTorch weights, permute the output channels of the conv before the shuffle accordingly.
 */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape } from '../types.ts';

function checkBlock(op: string, x: Tensor, block: number): [number, number, number, number] {
  if (!Number.isInteger(block) || block < 1) throw new ShapeError(`${op}: block size ${block} must be a positive integer`);
  if (x.rank !== 4) throw new ShapeError(`${op}: needs (N, C, H, W), got ${formatShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** (N, C·b², H, W) -> (N, C, H·b, W·b), DCR order (see the file comment). */
export function depthToSpace(x: Tensor, block: number): Tensor {
  const [n, c, h, w] = checkBlock('DepthToSpace', x, block);
  if (c % (block * block) !== 0) throw new ShapeError(`DepthToSpace: ${c} channels of ${formatShape(x.shape)} do not divide by block² = ${block * block}`);
  const shape = [n, c / (block * block), h * block, w * block];
  const attrs = { blocksize: { i: block }, mode: { s: 'DCR' } };
  return x.graph.addNode('DepthToSpace', [x], attrs, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** (N, C, H·b, W·b) -> (N, C·b², H, W): the inverse of `depthToSpace`. */
export function spaceToDepth(x: Tensor, block: number): Tensor {
  const [n, c, h, w] = checkBlock('SpaceToDepth', x, block);
  if (h % block !== 0 || w % block !== 0) throw new ShapeError(`SpaceToDepth: H and W of ${formatShape(x.shape)} do not divide by block size ${block}`);
  const shape = [n, c * block * block, h / block, w / block];
  return x.graph.addNode('SpaceToDepth', [x], { blocksize: { i: block } }, [{ shape, dtype: x.dtype }])[0] as Tensor;
}
