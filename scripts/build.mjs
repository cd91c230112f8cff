// `npm run build`: bundles each entry point with its dependencies into one file under dist/ (or
// the directory given, inside the project so that the packages left out resolve), for
// `node dist/main.js` without tsx. One file loads in a fraction of the time Node takes to resolve
// and read the hundreds of modules behind it (docs/BENCHMARKS.md, Start-up). PGlite stays a
// package of its own (it loads its WebAssembly from beside its code) and is loaded only when
// there is no DATABASE_URL; luxon is loaded from node_modules too (see `external` below). The
// git hooks' relay script is copied beside the bundles. Types are checked by `npm run
// typecheck` (CI), not here.
//
// Two things keep the bundles small in memory, where V8 holds each file's source for as long as
// the process runs (measured in docs/BENCHMARKS.md, Start-up):
// - whitespace and comments are left out (names are kept, for readable stack traces), and the
//   output is ASCII: one character outside Latin-1 makes V8 store the whole source two bytes per
//   character, so the build fails if one is left;
// - a package.json beside the bundles says they are ES modules, so Node does not read each one
//   again to detect its format, wherever dist/ is copied to.
import { cp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

// pg asks at load whether it runs on Cloudflare Workers by making a `new Response()`, and on
// Node 20 the first touch of Response loads Node's fetch implementation: tens of milliseconds of
// start-up for a global edgebot never uses (docs/BENCHMARKS.md, Start-up). The bundle answers
// "no" to that one question; a pg whose probe reads otherwise fails the build, to be looked at.
const cloudflareProbe = "if (typeof Response === 'function') {";
const withoutCloudflareProbe = {
  name: "pg-without-cloudflare-probe",
  setup(build) {
    build.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes(cloudflareProbe)) throw new Error(`${args.path}: pg's Cloudflare probe has changed; look at it again (scripts/build.mjs)`);
      return { contents: text.replace(cloudflareProbe, "if (false) {"), loader: "js" };
    });
  },
};
const outdir = path.resolve(projectRoot, process.argv[2] ?? "dist");

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: projectRoot,
  // dns-worker: the DNS verifier's own thread (src/dns/verify.ts loads it from beside the bundles).
  entryPoints: { main: "src/main.ts", migrate: "src/db/migrate-cli.ts", "rotate-token-keys": "src/rotate-token-keys.ts", manifest: "src/manifest.ts", "dns-worker": "src/dns/verify-worker.ts" },
  outdir,
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  minifyWhitespace: true,
  minifySyntax: true,
  charset: "ascii",
  // Licence comments go to a file beside each bundle (main.js.LEGAL.txt).
  legalComments: "external",
  // luxon is loaded at run time, as cron-parser (in pg-boss) requires it: the job queue sets its
  // defaults on that one copy (src/jobs/queue.ts), where a bundle would hold two.
  external: ["@electric-sql/pglite", "luxon"],
  plugins: [withoutCloudflareProbe],
  // Bundled CommonJS packages call require(); in an ES module it has to be made.
  banner: { js: 'import { createRequire as edgebotCreateRequire } from "node:module"; const require = edgebotCreateRequire(import.meta.url);' },
  logLevel: "warning",
});
await cp(path.join(projectRoot, "src/git-http/hook-relay.mjs"), path.join(outdir, "hook-relay.mjs"));
await writeFile(path.join(outdir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);

for (const file of (await readdir(outdir)).filter((name) => name.endsWith(".js"))) {
  const text = await readFile(path.join(outdir, file), "utf8");
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) {
    console.error(`${file}: a character outside ASCII is left in the bundle (a regular expression's literal?): …${text.slice(Math.max(0, at - 60), at + 20)}…`);
    process.exitCode = 1;
  }
}
