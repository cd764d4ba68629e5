/** Model-folder validation: every missing or malformed file is reported by name, by inspect and by load. */
import assert from 'node:assert/strict';
import { copyFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fingerprintModel, inspectModelFolder, isDiffusionError, loadPipeline } from './index.js';
import type { DiffusionErrorCode } from './index.js';
import { tinyModel, tinyModelCopy } from './test-support/tiny.js';

function namesFile(code: DiffusionErrorCode, file: string) {
  return (error: unknown) => {
    assert.ok(isDiffusionError(error), `not a DiffusionError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.file, file);
    assert.ok(error.message.includes(file), error.message);
    return true;
  };
}

describe('inspectModelFolder', () => {
  it('lists what a complete folder has', async () => {
    const info = await inspectModelFolder(await tinyModel({ unetExternalData: true }));
    assert.deepEqual(info.files, [
      'model_index.json',
      'scheduler/scheduler_config.json',
      'text_encoder/model.onnx',
      'tokenizer/merges.txt',
      'tokenizer/special_tokens_map.json',
      'tokenizer/tokenizer_config.json',
      'tokenizer/vocab.json',
      'unet/model.onnx',
      'unet/model.onnx_data',
      'vae_decoder/config.json',
      'vae_decoder/model.onnx',
      'vae_encoder/model.onnx',
    ]);
    assert.equal(info.img2img, true);
    assert.equal(info.scalingFactor, 0.18215);
    assert.equal(info.scheduler.stepsOffset, 1);
    assert.equal(info.pipelineClass, 'StableDiffusionPipeline');
  });

  for (const file of [
    'model_index.json',
    'tokenizer/vocab.json',
    'tokenizer/merges.txt',
    'tokenizer/tokenizer_config.json',
    'scheduler/scheduler_config.json',
    'text_encoder/model.onnx',
    'unet/model.onnx',
    'vae_decoder/model.onnx',
  ]) {
    it(`missing ${file} → model_file_missing naming it`, async () => {
      const dir = await tinyModelCopy();
      await rm(join(dir, file));
      await assert.rejects(inspectModelFolder(dir), namesFile('model_file_missing', file));
      await assert.rejects(loadPipeline(dir), namesFile('model_file_missing', file));
    });
  }

  for (const file of ['model_index.json', 'scheduler/scheduler_config.json', 'vae_decoder/config.json']) {
    it(`malformed ${file} → model_file_malformed naming it`, async () => {
      const dir = await tinyModelCopy();
      await writeFile(join(dir, file), '{ "beta_start": ');
      await assert.rejects(inspectModelFolder(dir), namesFile('model_file_malformed', file));
    });
  }

  it('an ONNX file that is not ONNX → model_file_malformed naming it', async () => {
    const dir = await tinyModelCopy();
    await writeFile(join(dir, 'text_encoder/model.onnx'), 'not a protobuf');
    await assert.rejects(
      inspectModelFolder(dir),
      namesFile('model_file_malformed', 'text_encoder/model.onnx'),
    );
  });

  it('a truncated ONNX file passes the cheap check but fails loading, naming the file', async () => {
    const dir = await tinyModelCopy();
    const path = join(dir, 'vae_decoder/model.onnx');
    await truncate(path, Math.floor((await readFile(path)).length / 2));
    await inspectModelFolder(dir);
    await assert.rejects(loadPipeline(dir), namesFile('model_file_malformed', 'vae_decoder/model.onnx'));
  });

  it('a UNet whose inputs are not the expected ones → error naming unet/model.onnx', async () => {
    const dir = await tinyModelCopy();
    await copyFile(join(dir, 'text_encoder/model.onnx'), join(dir, 'unet/model.onnx'));
    await assert.rejects(loadPipeline(dir), namesFile('model_unsupported', 'unet/model.onnx'));
  });

  it('missing external data → model_file_missing naming unet/model.onnx_data', async () => {
    const dir = await tinyModelCopy({ unetExternalData: true });
    await rm(join(dir, 'unet/model.onnx_data'));
    await assert.rejects(loadPipeline(dir), namesFile('model_file_missing', 'unet/model.onnx_data'));
  });

  it('an SDXL index needs tokenizer_2/; SDXL refiners are refused; a missing folder is missing', async () => {
    const dir = await tinyModelCopy();
    const index = JSON.parse(await readFile(join(dir, 'model_index.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const rewrite = (changes: Record<string, unknown>) =>
      writeFile(join(dir, 'model_index.json'), JSON.stringify({ ...index, ...changes }));
    await rewrite({ _class_name: 'StableDiffusionXLPipeline' });
    await assert.rejects(
      inspectModelFolder(dir),
      (e) => isDiffusionError(e, 'model_file_missing') && e.file!.startsWith('tokenizer_2/'),
    );
    await rewrite({
      _class_name: 'StableDiffusionXLImg2ImgPipeline',
      text_encoder: [null, null],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    });
    await assert.rejects(inspectModelFolder(dir), (e) => isDiffusionError(e, 'model_unsupported'));
    await assert.rejects(inspectModelFolder(join(dir, 'nope')), (e) =>
      isDiffusionError(e, 'model_folder_missing'),
    );
  });
});

describe('fingerprintModel', () => {
  it('hashes the weight files, and changes when a weight byte changes', async () => {
    const dir = await tinyModelCopy({ unetExternalData: true });
    const first = await fingerprintModel(dir);
    assert.deepEqual(
      first.files.map((f) => f.path),
      [
        'text_encoder/model.onnx',
        'unet/model.onnx',
        'unet/model.onnx_data',
        'vae_decoder/model.onnx',
        'vae_encoder/model.onnx',
      ],
    );
    assert.match(first.sha256, /^[0-9a-f]{64}$/);
    const { createHash } = await import('node:crypto');
    const unetData = await readFile(join(dir, 'unet/model.onnx_data'));
    assert.equal(first.files[2]!.sha256, createHash('sha256').update(unetData).digest('hex'));
    assert.equal(first.files[2]!.bytes, unetData.length);
    assert.deepEqual(await fingerprintModel(dir), first);
    unetData[0] = unetData[0]! ^ 1;
    await writeFile(join(dir, 'unet/model.onnx_data'), unetData);
    assert.notEqual((await fingerprintModel(dir)).sha256, first.sha256);
  });
});
