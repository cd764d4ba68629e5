/** The tiny model presents the interface of a real Optimum export: names, dtypes, ranks, dynamic dims. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTinyModel } from '../index.js';
import { tempDir } from '../test-support/temp.js';
import { signature } from '../test-support/signature.js';

describe('createTinyModel', () => {
  it('writes the Optimum graph interfaces (fp32, int64 timestep)', async () => {
    const { dir } = await createTinyModel(join(tempDir(), 'm'));
    assert.deepEqual(await signature(join(dir, 'text_encoder/model.onnx')), {
      inputs: ['input_ids:int32[batch_size,sequence_length]'],
      outputs: ['last_hidden_state:float32[batch_size,77,32]', 'pooler_output:float32[batch_size,32]'],
    });
    assert.deepEqual(await signature(join(dir, 'unet/model.onnx')), {
      inputs: [
        'sample:float32[batch_size,4,height,width]',
        'timestep:int64[steps]',
        'encoder_hidden_states:float32[batch_size,sequence_length,32]',
      ],
      outputs: ['out_sample:float32[batch_size,4,height,width]'],
    });
    assert.deepEqual(await signature(join(dir, 'vae_decoder/model.onnx')), {
      inputs: ['latent_sample:float32[batch_size,4,latent_height,latent_width]'],
      outputs: ['sample:float32[batch_size,3,height,width]'],
    });
    assert.deepEqual(await signature(join(dir, 'vae_encoder/model.onnx')), {
      inputs: ['sample:float32[batch_size,3,height,width]'],
      outputs: ['latent_sample:float32[batch_size,4,latent_height,latent_width]'],
    });
  });

  it('fp16 variant: float16 weights and float interfaces; external data for the UNet', async () => {
    const { dir, files } = await createTinyModel(join(tempDir(), 'm'), {
      precision: 'float16',
      timestepType: 'float',
      unetExternalData: true,
      hiddenSize: 16,
    });
    assert.ok(files.includes('unet/model.onnx_data'));
    assert.deepEqual((await signature(join(dir, 'unet/model.onnx'))).inputs, [
      'sample:float16[batch_size,4,height,width]',
      'timestep:float16[steps]',
      'encoder_hidden_states:float16[batch_size,sequence_length,16]',
    ]);
    // The UNet's weights live only in the data file: model.onnx references them by location.
    const graph = await readFile(join(dir, 'unet/model.onnx'));
    assert.ok(graph.includes('model.onnx_data'));
    assert.ok((await readFile(join(dir, 'unet/model.onnx_data'))).length > 0);
  });

  it('optionally writes an image encoder with the CLIPVisionModelWithProjection interface', async () => {
    const { dir, files } = await createTinyModel(join(tempDir(), 'm'), { imageEncoderDim: 12 });
    assert.ok(files.includes('image_encoder/preprocessor_config.json'));
    assert.deepEqual(await signature(join(dir, 'image_encoder/model.onnx')), {
      inputs: ['pixel_values:float32[batch_size,3,224,224]'],
      outputs: ['image_embeds:float32[batch_size,12]'],
    });
  });

  it('is deterministic: the same options write the same bytes', async () => {
    const a = await createTinyModel(join(tempDir(), 'a'));
    const b = await createTinyModel(join(tempDir(), 'b'));
    for (const file of a.files) {
      assert.ok((await readFile(join(a.dir, file))).equals(await readFile(join(b.dir, file))), file);
    }
  });
});
