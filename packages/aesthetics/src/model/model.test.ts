import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  AestheticsError,
  collapseModel,
  createModel,
  exportOnnx,
  float32ToFloat16,
  loadModel,
  saveModel,
  scoreEmbeddings,
  scoreEmbeddingsLayered,
  type AestheticModel,
} from '../index.js';
import { randomValues, tempDir } from '../test-support/tmp.js';

const DIM = 768;

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance,
      `${what}: row ${i} differs: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

/** A model whose scores spread over a realistic range (a fresh init scores everything near zero). */
function spreadModel(): AestheticModel {
  const model = createModel({ seed: 42, createdAt: new Date('2025-01-02T03:04:05Z') });
  for (const layer of model.layers) layer.weight.forEach((w, i) => (layer.weight[i] = w * 3));
  return model;
}

test('initialisation is deterministic from the seed', () => {
  const a = createModel({ seed: 1 });
  const b = createModel({ seed: 1 });
  const c = createModel({ seed: 2 });
  assert.deepEqual(a.layers, b.layers);
  assert.notDeepEqual(a.layers[0]!.weight.subarray(0, 10), c.layers[0]!.weight.subarray(0, 10));
  assert.deepEqual(
    a.layers.map((l) => [l.outputs, l.inputs]),
    [
      [1024, 768],
      [128, 1024],
      [64, 128],
      [16, 64],
      [1, 16],
    ],
  );
  const bound = 1 / Math.sqrt(768);
  assert.ok(a.layers[0]!.weight.every((w) => Math.abs(w) <= bound));
});

test('collapsed scoring equals the layer-by-layer forward pass, and normalises its input', () => {
  const model = spreadModel();
  const rows = randomValues(64 * DIM, 11);
  const layered = scoreEmbeddingsLayered(model, rows);
  const collapsed = scoreEmbeddings(model, rows);
  assertClose(collapsed, layered, 1e-4, 'collapsed vs layered');
  const spread = Math.max(...layered) - Math.min(...layered);
  assert.ok(spread > 0.1, `scores should differ between rows (spread ${spread})`);
  // Scaling an embedding does not change its score (L2 normalisation), and a zero row scores the bias.
  const scaled = rows.map((v) => v * 7.5);
  assertClose(scoreEmbeddings(model, scaled), collapsed, 1e-4, 'scaled input');
  const zero = scoreEmbeddings(model, new Float32Array(DIM));
  assert.ok(Math.abs(zero[0]! - collapseModel(model).bias) < 1e-9);
  assert.throws(() => scoreEmbeddings(model, new Float32Array(DIM + 1)), AestheticsError);
});

test('safetensors save/load round-trips weights and metadata', async (t) => {
  const dir = await tempDir(t);
  const model = spreadModel();
  model.metadata.training = {
    trainRows: 10,
    validationRows: 2,
    epochs: 3,
    bestEpoch: 2,
    validationMse: 0.5,
    validationSpearman: 0.9,
    validationPearson: 0.91,
    trainLoss: 0.4,
    samplesPerSecond: 1000,
    seed: 42,
    learningRate: 0.001,
    batchSize: 256,
  };
  const path = join(dir, 'model.safetensors');
  await saveModel(model, path);
  const loaded = await loadModel(path);
  assert.deepEqual(loaded, model);

  // The header is plain safetensors: u64 length, JSON with PyTorch names/shapes, 8-byte aligned data.
  const bytes = await readFile(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  assert.deepEqual((header['layers.0.weight'] as { shape: number[] }).shape, [1024, 768]);
  assert.deepEqual((header['layers.7.bias'] as { shape: number[] }).shape, [1]);
  assert.equal(
    (header.__metadata__ as Record<string, string>).embedding_model,
    'openai/clip-vit-large-patch14',
  );
});

/** Writes a safetensors file as `safetensors.torch.save_file(state_dict)` would for LAION's checkpoint. */
function torchStyleFile(model: AestheticModel): Buffer {
  const names = ['layers.0', 'layers.2', 'layers.4', 'layers.6', 'layers.7'];
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  model.layers.forEach((layer, i) => {
    for (const [suffix, data, shape] of [
      ['weight', layer.weight, [layer.outputs, layer.inputs]],
      ['bias', layer.bias, [layer.outputs]],
    ] as const) {
      // Stored as float16 here, to exercise the F16 path.
      const half = Buffer.alloc(data.length * 2);
      data.forEach((v, j) => half.writeUInt16LE(float32ToFloat16(v), j * 2));
      header[`${names[i]}.${suffix}`] = { dtype: 'F16', shape, data_offsets: [offset, offset + half.length] };
      offset += half.length;
      parts.push(half);
    }
  });
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...parts]);
}

test('loads a checkpoint converted from PyTorch (no metadata, F16, odd header length)', async (t) => {
  const dir = await tempDir(t);
  const model = spreadModel();
  const path = join(dir, 'laion.safetensors');
  await writeFile(path, torchStyleFile(model));
  const loaded = await loadModel(path);
  assert.equal(loaded.metadata.dim, 768);
  assert.equal(loaded.metadata.embeddingModel, 'openai/clip-vit-large-patch14');
  const rows = randomValues(8 * DIM, 5);
  assertClose(scoreEmbeddings(loaded, rows), scoreEmbeddings(model, rows), 0.05, 'f16 checkpoint');

  const broken = join(dir, 'broken.safetensors');
  const bytes = torchStyleFile(model);
  await writeFile(broken, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(loadModel(broken), (error: unknown) => {
    assert.ok(error instanceof AestheticsError);
    assert.equal(error.code, 'model_format');
    assert.equal(error.file, broken);
    return true;
  });
});

test('exported ONNX (layered and collapsed) scores like our code in onnxruntime-node', async (t) => {
  const dir = await tempDir(t);
  const model = spreadModel();
  const rows = randomValues(50 * DIM, 9);
  const ours = scoreEmbeddings(model, rows);
  for (const collapsed of [false, true]) {
    const path = join(dir, `model-${collapsed ? 'collapsed' : 'layered'}.onnx`);
    await exportOnnx(model, path, { collapsed });
    const session = await ort.InferenceSession.create(path);
    t.after(() => session.release());
    assert.deepEqual(session.inputNames, ['embedding']);
    assert.deepEqual(session.outputNames, ['score']);
    const result = await session.run({ embedding: new ort.Tensor('float32', rows, [50, DIM]) });
    const score = result.score!;
    assert.deepEqual(score.dims, [50, 1]);
    assertClose(score.data as Float32Array, ours, 1e-4, `onnx ${collapsed ? 'collapsed' : 'layered'}`);
  }
});
