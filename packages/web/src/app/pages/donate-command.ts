// The exact commands a donor runs, with their worker key.

export const PROVIDERS = [
  { id: 'cuda', label: 'NVIDIA GPU (CUDA)' },
  { id: 'coreml', label: 'Apple silicon (Core ML)' },
  { id: 'dml', label: 'Windows GPU (DirectML)' },
  { id: 'cpu', label: 'CPU only (slow; fine for testing)' },
] as const;
export type Provider = (typeof PROVIDERS)[number]['id'];

export function workerCommand(options: {
  server: string;
  key: string;
  provider: Provider;
  modelDir: string;
}): string {
  const lines = [
    '# in a checkout of Dreamfold: npm ci && npm run build',
    options.provider === 'cuda' ? 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node  # once' : '',
    `export DREAMFOLD_WORKER_KEY=${options.key}`,
    `npm run dreamfold -- worker --server ${options.server} \\`,
    `  --backend onnx --model-dir ${options.modelDir} --provider ${options.provider}`,
  ];
  return lines.filter(Boolean).join('\n');
}
