/**
 * The layer name of the image itself: its Gram matrix (3 × 3) carries the palette, which an encoder's
 * first features capture only loosely (without it MobileNetV2 transferred texture but not colour).
 */
export const PIXELS = 'pixels';
