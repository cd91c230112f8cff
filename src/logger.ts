import pino, { type DestinationStream, type Logger } from "pino";
import { currentRequestId } from "./core/request-ids.ts";

/** The process's logger: JSON lines on stderr, so the shell's stdout holds only replies (a benchmark gives a sink of its own). */
export function createLogger(level: string, destination: DestinationStream = pino.destination(2)): Logger {
  return pino(
    {
      level,
      base: { service: "edgebot" },
      // Every line written while a request is handled names it (see core/request-ids.ts).
      mixin: () => {
        const reqId = currentRequestId();
        return reqId === undefined ? {} : { reqId };
      },
      // Secrets never reach the logs, whatever object is logged.
      redact: {
        paths: ["token", "*.token", "botToken", "*.botToken", "signingSecret", "*.signingSecret", "clientSecret", "*.clientSecret", "headers.authorization"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
