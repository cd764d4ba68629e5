// plain-png.ts against sharp as the oracle: the same pixels for every filter type, channel count, chunk
// layout and size; corrupt or truncated data refused; every PNG outside its kind left to sharp.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import { decodePlainPng, encodePlainPng, PngDataError } from './plain-png.js';
import { PLAIN_CODEC_MAX_PIXELS, validateUpload } from './validate-upload.js';
import { AppError } from '../errors.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer, crcDelta = 0): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) + crcDelta) >>> 0, 8 + data.length);
  return out;
}

function ihdr(width: number, height: number, colourType: number): Buffer {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(width, 0);
  h.writeUInt32BE(height, 4);
  h.set([8, colourType, 0, 0, 0], 8);
  return chunk('IHDR', h);
}

/** The PNG filters of the spec (§9.2), written out plainly here as the encoder's side of the test. */
function filterRow(f: number, row: Uint8Array, prev: Uint8Array, bpp: number): Buffer {
  const out = Buffer.alloc(row.length + 1);
  out[0] = f;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? (row[i - bpp] as number) : 0;
    const b = prev[i] as number;
    const c = i >= bpp ? (prev[i - bpp] as number) : 0;
    const p = a + b - c;
    const paeth =
      Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
        ? a
        : Math.abs(p - b) <= Math.abs(p - c)
          ? b
          : c;
    const predictor = [0, a, b, (a + b) >> 1, paeth][f] as number;
    out[i + 1] = ((row[i] as number) - predictor) & 255;
  }
  return out;
}

interface Layout {
  width: number;
  height: number;
  channels: 3 | 4;
  pixels: Uint8Array;
  filters: number[];
  idatParts: number;
  textBefore: boolean;
}

function buildPng(l: Layout): Buffer {
  const stride = l.width * l.channels;
  const rows: Buffer[] = [];
  let prev: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < l.height; y++) {
    const row = l.pixels.subarray(y * stride, (y + 1) * stride);
    rows.push(filterRow(l.filters[y % l.filters.length] as number, row, prev, l.channels));
    prev = row;
  }
  const z = deflateSync(Buffer.concat(rows));
  const cut = Math.ceil(z.length / l.idatParts);
  const idats = Array.from({ length: l.idatParts }, (_, i) =>
    chunk('IDAT', z.subarray(i * cut, (i + 1) * cut)),
  );
  return Buffer.concat([
    SIGNATURE,
    ihdr(l.width, l.height, l.channels === 3 ? 2 : 6),
    ...(l.textBefore ? [chunk('tEXt', Buffer.from('Comment\0hello', 'latin1'))] : []),
    ...idats,
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Scanlines (filter byte + RGB) → bare RGB, to compare with sharp's raw output. */
function rgbOf(scanlines: Buffer, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(scanlines[y * (width * 3 + 1)], 0, 'every row is led by filter byte 0');
    scanlines.copy(out, y * width * 3, y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
  }
  return out;
}

const sharpRgb = (png: Buffer) => sharp(png).removeAlpha().raw().toBuffer();

const layouts = fc
  .record({
    width: fc.integer({ min: 1, max: 24 }),
    height: fc.integer({ min: 1, max: 24 }),
    channels: fc.constantFrom(3 as const, 4 as const),
    filters: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
    idatParts: fc.integer({ min: 1, max: 3 }),
    textBefore: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ seed, ...l }) => {
    // Gradients, noise and a few values close together (which make Paeth's predictor tie), so that
    // every filter sees small and large differences and wraps around 0 and 255.
    const few = [0, 1, 2, 5, 10, 15, 254, 255];
    const pixels = new Uint8Array(l.width * l.height * l.channels);
    let s = seed >>> 0;
    for (let i = 0; i < pixels.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const pick = s >>> 30;
      pixels[i] =
        pick === 0 ? (i * 3) & 255 : pick === 1 ? (s >>> 16) & 255 : (few[(s >>> 13) & 7] as number);
    }
    return { ...l, pixels } satisfies Layout;
  });

describe('plain PNG codec', () => {
  test('decodes to the pixels sharp decodes: every filter type, RGB and RGBA, split IDAT, text chunks', async () => {
    await fc.assert(
      fc.asyncProperty(layouts, async (l) => {
        const png = buildPng(l);
        const decoded = decodePlainPng(png, l.width, l.height);
        assert.ok(decoded, 'a plain PNG');
        assert.deepEqual(rgbOf(decoded, l.width, l.height), await sharpRgb(png));
      }),
      { numRuns: 150 },
    );
  });

  test('decodes what sharp itself writes (adaptive filters, any zlib level)', async () => {
    for (const [i, options] of [
      { compressionLevel: 0 },
      { compressionLevel: 6, adaptiveFiltering: true },
      { compressionLevel: 9, adaptiveFiltering: true },
    ].entries()) {
      const raw = Buffer.alloc(37 * 29 * 4);
      for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) + (p >> 5)) & 255;
      const png = await sharp(raw, { raw: { width: 37, height: 29, channels: 4 } })
        .png(options)
        .toBuffer();
      const decoded = decodePlainPng(png, 37, 29);
      assert.ok(decoded);
      assert.deepEqual(rgbOf(decoded, 37, 29), await sharpRgb(png));
    }
  });

  test('its encoding reads back, in sharp, as the same pixels', async () => {
    await fc.assert(
      fc.asyncProperty(layouts, async (l) => {
        const decoded = decodePlainPng(buildPng(l), l.width, l.height) as Buffer;
        const encoded = encodePlainPng(decoded, l.width, l.height);
        const meta = await sharp(encoded).metadata();
        assert.deepEqual([meta.width, meta.height, meta.channels], [l.width, l.height, 3]);
        assert.deepEqual(await sharpRgb(encoded), rgbOf(decoded, l.width, l.height));
      }),
      { numRuns: 50 },
    );
  });

  test('corrupt data is refused', () => {
    const l: Layout = {
      width: 8,
      height: 8,
      channels: 3,
      pixels: new Uint8Array(192).map((_, i) => i),
      filters: [0, 1, 2, 3, 4],
      idatParts: 1,
      textBefore: true,
    };
    const good = buildPng(l);
    // 8 rows of filter byte 0 and 24 bytes that do not compress away.
    const rows = Buffer.concat(
      Array.from({ length: 8 }, (_, y) =>
        Buffer.from([0, ...Array.from({ length: 24 }, (_, x) => (x * 37 + y * 101) & 255)]),
      ),
    );
    const withData = (data: Buffer, w = 8, h = 8) =>
      Buffer.concat([SIGNATURE, ihdr(w, h, 2), chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
    const flipped = Buffer.from(good);
    flipped[good.length - 20] = (flipped[good.length - 20] as number) ^ 0x10; // inside IDAT: its CRC fails
    const badFilter = Buffer.from(rows);
    badFilter[25] = 5;
    const cases: [string, Buffer, RegExp][] = [
      ['a flipped bit in IDAT', flipped, /IDAT chunk fails its CRC/],
      [
        'a bad CRC on a text chunk',
        Buffer.concat([good.subarray(0, 33), chunk('tEXt', Buffer.from('a\0b'), 1), good.subarray(33)]),
        /tEXt chunk fails its CRC/,
      ],
      ['no IEND', good.subarray(0, good.length - 12), /ends before its IEND/],
      ['a filter type PNG does not define', withData(deflateSync(badFilter)), /filter type 5/],
      // A header of 8×8 with a stream that inflates to 10 MB: inflating stops at the declared size.
      ['more data than declared', withData(deflateSync(Buffer.alloc(10_000_000))), /more image data/],
      ['less data than declared', withData(deflateSync(rows.subarray(0, 100))), /less image data/],
      ['a zlib stream cut short', withData(deflateSync(rows).subarray(0, 100)), /unexpected end/],
      [
        'a zlib stream with a wrong checksum',
        withData(Buffer.concat([deflateSync(rows).subarray(0, -1), Buffer.from([1])])),
        /check/,
      ],
      ['a header that disagrees with the job', withData(deflateSync(rows), 8, 9), /declares 8×9/],
    ];
    for (const [name, png, message] of cases) {
      assert.throws(
        () => decodePlainPng(png, 8, 8),
        (err: Error) => err instanceof PngDataError && message.test(err.message),
        name,
      );
    }
    // Cut anywhere before IEND's end, the file is refused (after it, the rest is trailing bytes).
    for (let cut = 33; cut < good.length; cut++) {
      assert.throws(() => decodePlainPng(good.subarray(0, cut), 8, 8), PngDataError, `cut at ${cut}`);
    }
  });

  test('any other kind of PNG is left to sharp', async () => {
    const raw = Buffer.alloc(16 * 16 * 3, 90);
    const image = () => sharp(raw, { raw: { width: 16, height: 16, channels: 3 } });
    const others: [string, Buffer][] = [
      ['palette', await image().png({ palette: true }).toBuffer()],
      ['grey', await image().toColourspace('b-w').png().toBuffer()],
      ['16-bit', await image().toColourspace('rgb16').png().toBuffer()],
      ['interlaced', await image().png({ progressive: true }).toBuffer()],
      ['an ICC profile', await image().withIccProfile('p3').png().toBuffer()],
    ];
    for (const [name, png] of others) {
      assert.equal(png.toString('latin1', 12, 16), 'IHDR', name);
      assert.equal(decodePlainPng(png, 16, 16), undefined, name);
    }
    const plain = await image().png().toBuffer();
    const unknown = Buffer.concat([
      plain.subarray(0, 33),
      chunk('vpAg', Buffer.alloc(9)),
      plain.subarray(33),
    ]);
    assert.equal(decodePlainPng(unknown, 16, 16), undefined, 'an unknown chunk');
    const split = buildPng({
      width: 16,
      height: 16,
      channels: 3,
      pixels: new Uint8Array(raw),
      filters: [0],
      idatParts: 2,
      textBefore: false,
    });
    const firstIdatEnd = 33 + 12 + split.readUInt32BE(33);
    const interrupted = Buffer.concat([
      split.subarray(0, firstIdatEnd),
      chunk('tEXt', Buffer.from('a\0b')),
      split.subarray(firstIdatEnd),
    ]);
    assert.equal(decodePlainPng(interrupted, 16, 16), undefined, 'image data interrupted by another chunk');
  });
});

describe('validateUpload with both decoders', () => {
  test('small plain uploads and others come out as the same pixels, re-encoded as RGB', async () => {
    const raw = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 13) & 255;
    const image = () => sharp(raw, { raw: { width: 64, height: 64, channels: 3 } });
    for (const png of [
      await image().png().toBuffer(),
      await image().ensureAlpha().png().toBuffer(),
      await image().png({ palette: true, colours: 256, dither: 0 }).toBuffer(),
      await image().toColourspace('rgb16').png().toBuffer(),
    ]) {
      const out = await validateUpload(png, { width: 64, height: 64 }, 'a prompt\nSteps: 1');
      const meta = await sharp(out.png).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels, meta.depth], [64, 64, 3, 'uchar']);
      assert.deepEqual(await sharpRgb(out.png), await sharpRgb(png));
    }
  });

  test('corrupt uploads are refused alike below and above the plain codec size', async () => {
    for (const side of [64, Math.ceil(Math.sqrt(PLAIN_CODEC_MAX_PIXELS)) * 2]) {
      const raw = Buffer.alloc(side * side * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 9)) & 255;
      const good = await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
        .png()
        .toBuffer();
      const flipped = Buffer.from(good);
      flipped[good.length - 20] = (flipped[good.length - 20] as number) ^ 0x10;
      for (const [name, png] of [
        ['a flipped bit', flipped],
        ['truncated', good.subarray(0, Math.floor(good.length * 0.6))],
      ] as const) {
        await assert.rejects(
          validateUpload(png, { width: side, height: side }),
          (err: Error) => err instanceof AppError && err.code === 'invalid_image',
          `${side}×${side}: ${name}`,
        );
      }
    }
  });
});
