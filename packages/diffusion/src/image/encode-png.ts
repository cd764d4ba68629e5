/** VAE output (NCHW float in [-1, 1]) → 8-bit RGB PNG with the `parameters` text chunk. */
import sharp from 'sharp';
import { writePngParameters } from '@dreamfold/protocol/png';

export async function encodePng(pixels: Float32Array, width: number, height: number, parameters: string) {
  const plane = width * height;
  const rgb = Buffer.allocUnsafe(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.round((pixels[c * plane + p]! / 2 + 0.5) * 255);
      rgb[p * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return writePngParameters(png, parameters);
}
