import type { Logger } from "pino";
import type { Config } from "./config.ts";
import type { Platform } from "./core/platform.ts";
import type { DatabaseHandle } from "./db/connect.ts";
import type { JobQueue } from "./jobs/queue.ts";
import type { StopRequest } from "./stop.ts";

/** What main gives the surface it serves (Slack, or the local shell) once the database is ready. */
export interface Serving {
  platform: Platform;
  config: Config;
  logger: Logger;
  stop: StopRequest;
  database: DatabaseHandle;
  /**
   * The job queue, starting: main starts it while the surface's modules load, and stops it once
   * the surface returns. A surface awaits it before it takes work (commands schedule through it).
   */
  jobs: Promise<JobQueue>;
}
