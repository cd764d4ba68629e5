// WebDataset shard names and sample keys, as img2dataset writes them: shards are "%05d.tar" and a
// sample's key is (10^d · shard + index) zero-padded to 5 + d digits, where d = ceil(log10(samples per
// shard)). With 10,000 samples per shard, sample 12 of shard 0 is "000000012"; with the default 1,000 it
// is "00000012". Wider numbers (shard ≥ 100,000) grow, as Python's format does.

export function indexDigits(shardSize: number): number {
  return Math.ceil(Math.log10(shardSize));
}

export function shardName(shard: number): string {
  return `${String(shard).padStart(5, '0')}.tar`;
}

export function sampleKey(shard: number, index: number, digits: number): string {
  // 10^d · shard + index without overflow worries: both parts stay far below 2^53.
  const value = shard * 10 ** digits + index;
  return String(value).padStart(5 + digits, '0');
}
