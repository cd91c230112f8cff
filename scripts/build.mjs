// `npm run build`: bundles each entry point with its dependencies into one file under dist/ (or
// the directory given, inside the project so that the packages left out resolve), for
// `node dist/main.js` without tsx. One file loads in a fraction of the time Node takes to resolve
// and read the hundreds of modules behind it (docs/BENCHMARKS.md, Start-up). PGlite stays a
// package of its own (it loads its WebAssembly from beside its code) and is loaded only when
// there is no DATABASE_URL. The git hooks' relay script is copied beside the bundles. Types are
// checked by `npm run typecheck` (CI), not here.
import { cp, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const outdir = path.resolve(projectRoot, process.argv[2] ?? "dist");

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: projectRoot,
  entryPoints: { main: "src/main.ts", migrate: "src/db/migrate-cli.ts", "rotate-token-keys": "src/rotate-token-keys.ts", manifest: "src/manifest.ts" },
  outdir,
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  external: ["@electric-sql/pglite"],
  // Bundled CommonJS packages call require(); in an ES module it has to be made.
  banner: { js: 'import { createRequire as edgebotCreateRequire } from "node:module"; const require = edgebotCreateRequire(import.meta.url);' },
  logLevel: "warning",
});
await cp(path.join(projectRoot, "src/git-http/hook-relay.mjs"), path.join(outdir, "hook-relay.mjs"));
