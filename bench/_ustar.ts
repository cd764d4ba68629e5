// A second baseline for the shards phase of bench/datasets.ts: the same samples as its tar-stream child,
// the ustar headers encoded by hand (byte for byte as tar-stream encodes them: the files are identical)
// into 1 MB batches written with one call each, no stream per member. It measures what tar-stream's
// per-entry machinery costs, for a proposal to write shards this way; releases do not use it.
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK = 512;
const BATCH = 1 << 20;

/** `digits` zero-padded octal digits and a space, tar-stream's encoding (the NUL after it is the zero fill). */
function octal(buffer: Buffer, offset: number, digits: number, value: number): void {
  buffer.write(`${value.toString(8).padStart(digits, '0')} `, offset, 'ascii');
}

/** Writes one member's header at `offset` (the 512 bytes must be zero), byte for byte as tar-stream does. */
function header(buffer: Buffer, offset: number, name: string, size: number, mtime: number): void {
  buffer.write(name, offset, 'ascii');
  octal(buffer, offset + 100, 6, 0o644);
  octal(buffer, offset + 108, 6, 0);
  octal(buffer, offset + 116, 6, 0);
  octal(buffer, offset + 124, 11, size);
  octal(buffer, offset + 136, 11, mtime);
  buffer[offset + 156] = 0x30; // '0': a regular file
  buffer.write('ustar\x0000', offset + 257, 'ascii');
  octal(buffer, offset + 329, 6, 0);
  octal(buffer, offset + 337, 6, 0);
  let sum = 8 * 0x20; // the checksum field itself counts as eight spaces
  for (let i = offset; i < offset + 148; i++) sum += buffer[i]!;
  for (let i = offset + 156; i < offset + BLOCK; i++) sum += buffer[i]!;
  octal(buffer, offset + 148, 6, sum);
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

export async function writeUstarSamples(
  rows: number,
  dir: string,
  png: Buffer,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (let start = 0; start < rows; start += 1000) {
    const file = await open(join(dir, `${start}.tar`), 'w');
    let batch = Buffer.alloc(BATCH);
    let used = 0;
    const add = async (name: string, data: Uint8Array) => {
      const need = BLOCK + padded(data.length);
      if (used + need > batch.length) {
        await file.write(batch, 0, used);
        batch = Buffer.alloc(Math.max(BATCH, need));
        used = 0;
      }
      header(batch, used, name, data.length, 0);
      batch.set(data, used + BLOCK);
      used += need;
    };
    for (let i = start; i < Math.min(rows, start + 1000); i++) {
      const key = String(i).padStart(8, '0');
      await add(
        `${key}.json`,
        Buffer.from(`{"id":"img${i}","prompt":"a painting of a lighthouse number ${i}"}`),
      );
      await add(`${key}.png`, png);
      await add(`${key}.txt`, Buffer.from(`a painting of a lighthouse number ${i}`));
    }
    await file.write(batch, 0, used);
    await file.write(Buffer.alloc(2 * BLOCK)); // end of archive
    await file.close();
  }
  const spent = process.cpuUsage(cpu);
  return { seconds: (performance.now() - t) / 1000, cpuSeconds: (spent.user + spent.system) / 1e6 };
}
