/**
 * What the surfaces need to know about a database they cannot reach: whether an error means
 * that, what to tell a person, and a log that reports an outage once when it starts and once
 * when it ends. The classification itself lives with the database (`src/db/errors.ts`).
 */
export { databaseUnreachableMessage, isDatabaseUnreachable } from "../db/errors.ts";
export { OutageLog } from "../db/outage-log.ts";
