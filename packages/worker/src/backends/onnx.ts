// The `onnx` choice. ONNX Runtime (a native module) is imported only when this backend is chosen, so
// `dreamfold up` and `dreamfold admin` neither pay for it nor depend on it loading on this machine.
import type { BackendFactory } from '../backend.js';
import type { BackendChoice } from './choice.js';

export const onnxBackend: BackendFactory<BackendChoice> = {
  name: 'onnx',
  description:
    'Stable Diffusion 1.x/2.x/XL ONNX model folders on ONNX Runtime (cpu, cuda, coreml, dml, webgpu)',
  create: async (choice) => (await import('./onnx-backend.js')).OnnxBackend.create(choice),
};
