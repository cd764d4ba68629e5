/** A graph's interface as "name:dtype[dims]" strings, for tests comparing it with a real export's. */
import * as ort from 'onnxruntime-node';

export async function signature(path: string): Promise<{ inputs: string[]; outputs: string[] }> {
  const session = await ort.InferenceSession.create(path);
  const list = (meta: readonly ort.InferenceSession.ValueMetadata[]) =>
    meta.map((m) => (m.isTensor ? `${m.name}:${m.type}[${m.shape.join(',')}]` : m.name));
  try {
    return { inputs: list(session.inputMetadata), outputs: list(session.outputMetadata) };
  } finally {
    await session.release();
  }
}
