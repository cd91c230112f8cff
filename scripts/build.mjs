// `npm run build`: compiles src/ and migrations/ to dist/ (or to the directory given, inside the
// project so that node_modules resolves) for `node dist/src/main.js`, without tsx. The files tsc
// does not emit (the git hooks' relay script) are copied beside the compiled code.
import { execFileSync } from "node:child_process";
import { cp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const outDir = path.resolve(projectRoot, process.argv[2] ?? "dist");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

await rm(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", path.join(projectRoot, "tsconfig.build.json"), "--outDir", outDir], { stdio: "inherit" });
await cp(path.join(projectRoot, "src/git-http/hook-relay.mjs"), path.join(outDir, "src/git-http/hook-relay.mjs"));
