/**
 * The layers of src/, checked in CI (`npm run lint:layers`). From the top:
 *   entry points (src/main.ts, src/rotate-token-keys.ts, src/db/migrate-cli.ts) compose everything;
 *   surfaces (src/bot, src/git-http) speak Slack, the terminal and git's HTTP protocol, and reach only core;
 *   src/jobs runs background work on the job queue, over core and the database;
 *   src/core holds the rules and is the only door to storage;
 *   storage and the outside world (src/db, src/dns, src/repos) know nothing above them.
 * src/config.ts and src/logger.ts are leaves anyone may use. No import cycles anywhere.
 * docs/ARCHITECTURE.md explains each rule.
 */
const surfaces = "^src/(bot|git-http)/";
const storage = "^src/(db|dns|repos)/";
const entryPoints = "^src/(main|rotate-token-keys|manifest)\\.ts$|^src/db/migrate-cli\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "A module must not depend on itself through others: split out what both sides need.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "surfaces-reach-only-core",
      comment: "Slack, the shell and git over HTTP go through core: never straight to the database, DNS, repositories or the job queue.",
      severity: "error",
      from: { path: surfaces },
      to: { path: `${storage}|^src/jobs/` },
    },
    {
      name: "surfaces-stay-apart",
      comment: "The chat surfaces and git over HTTP do not import each other; what both need lives in core.",
      severity: "error",
      from: { path: "^src/bot/" },
      to: { path: "^src/git-http/" },
    },
    {
      name: "git-http-stays-apart",
      severity: "error",
      from: { path: "^src/git-http/" },
      to: { path: "^src/bot/" },
    },
    {
      name: "core-knows-no-surface",
      comment: "Core knows nothing of Slack, the terminal, HTTP or the job queue that calls it.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: `${surfaces}|^src/jobs/` },
    },
    {
      name: "jobs-below-surfaces",
      severity: "error",
      from: { path: "^src/jobs/" },
      to: { path: surfaces },
    },
    {
      name: "storage-knows-nothing-above",
      comment: "The database, DNS and repository modules are the ground floor: they import none of the layers above.",
      severity: "error",
      from: { path: storage },
      to: { path: `^src/(core|bot|git-http|jobs)/` },
    },
    {
      name: "entry-points-are-not-imported",
      comment: "Composition happens in the entry points; nothing imports them.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: entryPoints },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".mjs", ".js"] },
  },
};
