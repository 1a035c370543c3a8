/** gesso's public library API (style transfer part; the lead merges the other capabilities' exports). */
export { stylize, stylizeToFile, writeStyleImage, STYLE_METHODS, STYLE_RECIPE_FORMAT, type StyleMethod, type StyleRequest, type StyleResult, type StyleImageInput } from './style/stylize.ts';
export { gatysTransfer, GATYS_DEFAULTS, type GatysOptions, type WeightedStyle } from './style/gatys.ts';
export { defaultEncoder, randomWeightEncoder, tfjsEncoder, MOBILENET_V2_LAYERS, type FeatureEncoder } from './style/encoder.ts';
export { extractFeatures, type FeatureRequest, type HostFeature } from './style/features.ts';
export { preserveColor, luminance } from './style/color.ts';
export { loadImage, MAX_PIXELS } from './style/load-image.ts';
export { runImageModel, resizeImageModel } from './style/onnx-image-model.ts';
export { toPlanes, toPixels, resizePlanes, type RgbPlanes } from './style/planes.ts';
export { readGimpPattern } from './style/gimp-pattern.ts';
export { readTfjsModel, nsfwjsModelDir, type TfjsLayersModel, type KerasLayer, type NsfwjsModelName } from './tfjs/model-files.ts';
export { buildTfjsLayers, SUPPORTED_LAYERS, type BuildTfjsOptions } from './tfjs/layers-graph.ts';
export { onnxEncoder, vggLayerNames, type InputNormalisation } from './style/onnx-encoder.ts';
export { adainTransfer, loadAdainModel, DEFAULT_ADAIN_DIR, type AdainModel } from './style/adain-model.ts';
export { ADAIN_DEFAULT, adaptiveInstanceNorm, buildDecoder, channelStats, type AdainConfig } from './style/adain.ts';
export { trainAdainDecoder, TRAIN_ADAIN_DEFAULTS, type TrainAdainOptions } from './style/train-adain.ts';
export { trainFastStyle, exportFastNet, TRAIN_FAST_DEFAULTS, type TrainFastOptions } from './style/train-fast.ts';
export { buildFastNet, FAST_NET_DEFAULT, type FastNetConfig } from './style/fast-net.ts';
export { ContentSet } from './style/content-set.ts';
