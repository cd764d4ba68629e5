import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AestheticsError,
  NpyReader,
  NpyWriter,
  float16ToFloat32,
  float32ToFloat16,
  readNpy,
  writeNpy,
} from '../index.js';
import { randomValues, tempDir } from '../test-support/tmp.js';

function roundedToHalf(values: Float32Array): Float32Array {
  return values.map((v) => float16ToFloat32(float32ToFloat16(v)));
}

test('npy round-trips f4 and f2 with format 1.0, 2.0 and 3.0 headers', async (t) => {
  const dir = await tempDir(t);
  const dim = 768;
  const values = randomValues(5 * dim, 7);
  values[0] = 65504;
  values[1] = 2 ** -24; // subnormal half
  values[2] = -0;
  values[3] = 1e6; // overflows to +inf in half precision
  for (const dtype of ['<f4', '<f2'] as const) {
    for (const version of [1, 2, 3] as const) {
      const path = join(dir, `x_${dtype === '<f4' ? 'f4' : 'f2'}_v${version}.npy`);
      await writeNpy(path, values, { dim, dtype, version });
      const bytes = await readFile(path);
      assert.equal(bytes[6], version, 'format version byte');
      const headerEnd = bytes.indexOf(0x0a) + 1;
      assert.equal(headerEnd % 64, 0, 'data starts on a 64-byte boundary');
      const read = await readNpy(path);
      assert.equal(read.rows, 5);
      assert.equal(read.dim, dim);
      assert.equal(read.dtype, dtype);
      const expected = dtype === '<f4' ? values : roundedToHalf(values);
      assert.deepEqual(read.data, expected);
      if (dtype === '<f2') {
        assert.equal(read.data[3], Infinity);
        assert.equal(read.data[1], 2 ** -24);
        assert.ok(Object.is(read.data[2], -0));
      }
    }
  }
});

// A file exactly as NumPy 2.x writes `np.save('a.npy', np.array([[1, 2], [3, 4]], dtype='<f2'))`.
function numpyWrittenHalfFile(): Buffer {
  const dict = "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }";
  const header = Buffer.from(dict.padEnd(128 - 10 - 1, ' ') + '\n', 'latin1');
  const prefix = Buffer.from([
    0x93,
    0x4e,
    0x55,
    0x4d,
    0x50,
    0x59,
    1,
    0,
    header.length & 0xff,
    header.length >> 8,
  ]);
  const data = Buffer.from([0x00, 0x3c, 0x00, 0x40, 0x00, 0x42, 0x00, 0x44]); // 1, 2, 3, 4 as <f2
  return Buffer.concat([prefix, header, data]);
}

test('reads a file laid out as NumPy writes it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'numpy.npy');
  await writeFile(path, numpyWrittenHalfFile());
  const read = await readNpy(path, { dim: 2 });
  assert.deepEqual([...read.data], [1, 2, 3, 4]);
});

test('streams rows in chunks, reusing one buffer', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'stream.npy');
  const dim = 16;
  const values = randomValues(1003 * dim, 3);
  const writer = await NpyWriter.create(path, { dim, dtype: '<f2' });
  for (let start = 0; start < 1003; start += 100) {
    await writer.append(values.subarray(start * dim, Math.min(1003, start + 100) * dim));
  }
  assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n === 'stream.npy')), []);
  await writer.close();
  const reader = await NpyReader.open(path, { dim });
  t.after(() => reader.close());
  assert.equal(reader.rows, 1003);
  const seen: number[] = [];
  const halves = roundedToHalf(values);
  let buffer: Float32Array | undefined;
  for await (const chunk of reader.chunks(256)) {
    seen.push(chunk.rows);
    if (buffer) assert.equal(chunk.data.buffer, buffer.buffer, 'chunks share one buffer');
    buffer = chunk.data;
    assert.deepEqual(
      chunk.data.subarray(0, chunk.rows * dim),
      halves.subarray(chunk.start * dim, (chunk.start + chunk.rows) * dim),
    );
  }
  assert.deepEqual(seen, [256, 256, 256, 235]);
  assert.deepEqual(await reader.readRows(1000, 3), halves.subarray(1000 * dim));
});

async function expectError(promise: Promise<unknown>, code: string, file: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AestheticsError, `expected AestheticsError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.file, file);
    assert.ok(error.message.includes(file), 'message names the file');
    return true;
  });
}

test('malformed .npy files fail with a coded error naming the file', async (t) => {
  const dir = await tempDir(t);
  const good = numpyWrittenHalfFile();
  const variant = async (name: string, bytes: Buffer): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };
  const replaceDict = (from: string, to: string): Buffer => {
    const text = good.toString('latin1').replace(from, to.padEnd(from.length, ' '));
    return Buffer.from(text, 'latin1');
  };

  const magic = await variant('magic.npy', Buffer.concat([Buffer.from('PK\x03\x04'), good.subarray(4)]));
  await expectError(readNpy(magic, { dim: 2 }), 'npy_magic', magic);

  const dtype = await variant('dtype.npy', replaceDict("'<f2'", "'<f8'"));
  await expectError(readNpy(dtype, { dim: 2 }), 'npy_dtype', dtype);

  const bigEndian = await variant('big-endian.npy', replaceDict("'<f2'", "'>f2'"));
  await expectError(readNpy(bigEndian, { dim: 2 }), 'npy_dtype', bigEndian);

  const fortran = await variant(
    'fortran.npy',
    replaceDict("'fortran_order': False", "'fortran_order': True"),
  );
  await expectError(readNpy(fortran, { dim: 2 }), 'npy_fortran_order', fortran);

  const oneD = await variant('one-d.npy', replaceDict("'shape': (2, 2)", "'shape': (4,)"));
  await expectError(readNpy(oneD, { dim: 2 }), 'npy_shape', oneD);

  const wrongDim = await variant('dim.npy', good);
  await expectError(readNpy(wrongDim), 'dimension_mismatch', wrongDim); // 768 expected by default

  const truncated = await variant('truncated.npy', good.subarray(0, good.length - 1));
  await expectError(readNpy(truncated, { dim: 2 }), 'truncated', truncated);

  const headerCut = await variant('header-cut.npy', good.subarray(0, 40));
  await expectError(readNpy(headerCut, { dim: 2 }), 'truncated', headerCut);

  const trailing = await variant('trailing.npy', Buffer.concat([good, Buffer.from([0, 0])]));
  await expectError(readNpy(trailing, { dim: 2 }), 'trailing_bytes', trailing);

  const version = await variant(
    'version.npy',
    Buffer.concat([good.subarray(0, 6), Buffer.from([9, 0]), good.subarray(8)]),
  );
  await expectError(readNpy(version, { dim: 2 }), 'npy_version', version);

  const garbage = await variant('garbage.npy', replaceDict("{'descr'", '{descr:'));
  await expectError(readNpy(garbage, { dim: 2 }), 'npy_header', garbage);
  assert.ok((await stat(garbage)).size > 0);
});
