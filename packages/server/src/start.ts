// Runs the coordinator as a process: listen, print where it is, shut down gracefully on signals.
import type { Config } from './config.js';
import { buildCoordinator, type Coordinator } from './app.js';

export interface RunningServer {
  coordinator: Coordinator;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const coordinator = await buildCoordinator({ config });
  const address = await coordinator.app.listen({ host: config.host, port: config.port });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= coordinator.close());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      coordinator.app.log.info({ signal }, 'shutting down');
      void stop().then(() => process.exit(0));
    });
  }
  return { coordinator, url: address, stop };
}
