import type { Logger } from "pino";

/** SIGINT or SIGTERM, once asked: `signal` aborts, `asked` resolves. A second one stops the process at once. */
export interface StopRequest {
  signal: AbortSignal;
  asked: Promise<NodeJS.Signals>;
}

export function listenForStop(logger: Logger): StopRequest {
  const controller = new AbortController();
  const asked = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) {
        logger.warn({ signal }, "asked again to stop: exiting without waiting");
        process.exit(1);
      }
      logger.info({ signal }, "stopping");
      controller.abort();
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  return { signal: controller.signal, asked };
}
