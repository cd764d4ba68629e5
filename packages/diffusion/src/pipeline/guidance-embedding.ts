/**
 * The guidance-scale embedding that LCM-distilled UNets take as `timestep_cond` (diffusers'
 * get_guidance_scale_embedding, after VDM's timestep embedding): w = guidance_scale − 1, scaled by 1000, times
 * `dim/2` frequencies 10000^(−k/(dim/2 − 1)), as [sin … | cos …], zero-padded when `dim` is odd. Such a UNet
 * applies the guidance itself, so the pipeline runs it once per step on the prompt alone (no CFG batch).
 */
export function guidanceScaleEmbedding(guidanceScale: number, dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const w = (guidanceScale - 1) * 1000;
  const step = Math.log(10000) / (half - 1);
  const out = new Float32Array(dim);
  for (let k = 0; k < half; k++) {
    const angle = w * Math.exp(-k * step);
    out[k] = Math.sin(angle);
    out[half + k] = Math.cos(angle);
  }
  return out;
}
