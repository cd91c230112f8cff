import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The layer rules CI runs (`npm run lint:layers`), held against small trees that break them:
// a rule that cannot fail would let the house decay unseen.
const root = fileURLToPath(new URL("..", import.meta.url));
const depcruise = join(root, "node_modules", ".bin", "depcruise");
const run = promisify(execFile);

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "edgebot-layers-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the project's rules over a tree of the given files; resolves with the rules broken, in order. */
async function brokenRules(files: Record<string, string>): Promise<string[]> {
  const tree = await mkdtemp(join(scratch, "tree-"));
  await copyFile(join(root, ".dependency-cruiser.cjs"), join(tree, ".dependency-cruiser.cjs"));
  await writeFile(join(tree, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", allowImportingTsExtensions: true, noEmit: true } }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), text);
  }
  const { stdout } = await run(depcruise, ["src", "--config", ".dependency-cruiser.cjs", "--output-type", "json"], { cwd: tree }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
  );
  const report = JSON.parse(stdout) as { summary: { violations: Array<{ rule: { name: string } }> } };
  return report.summary.violations.map((violation) => violation.rule.name).sort();
}

describe("the layer rules", () => {
  it("pass a tree that keeps to its layers", async () => {
    expect(
      await brokenRules({
        "src/main.ts": 'import { run } from "./bot/shell.ts";\nrun();\n',
        "src/bot/shell.ts": 'import { createApplication } from "../core/applications.ts";\nexport const run = () => createApplication();\n',
        "src/core/applications.ts": 'import { connect } from "../db/connect.ts";\nexport const createApplication = () => connect();\n',
        "src/db/connect.ts": "export const connect = () => 1;\n",
      }),
    ).toEqual([]);
  });

  it("refuse a surface that goes around core to the database, DNS or repositories", async () => {
    expect(
      await brokenRules({
        "src/bot/home.ts": 'import type { Database } from "../db/schema.ts";\nexport type Home = Database;\n',
        "src/git-http/router.ts": 'import { run } from "../repos/run.ts";\nexport const route = run;\n',
        "src/db/schema.ts": "export interface Database { id: number }\n",
        "src/repos/run.ts": "export const run = () => 1;\n",
      }),
    ).toEqual(["surfaces-reach-only-core", "surfaces-reach-only-core"]);
  });

  it("refuse an import cycle, type-only imports included", async () => {
    expect(
      await brokenRules({
        "src/core/orgs.ts": 'import type { Audit } from "./audit.ts";\nexport interface Org { audit?: Audit }\n',
        "src/core/audit.ts": 'import type { Org } from "./orgs.ts";\nexport interface Audit { org?: Org }\n',
      }),
    ).toEqual(["no-cycles"]);
  });

  it("refuse core reaching up to a surface, storage reaching up to core, and anything importing an entry point", async () => {
    expect(
      await brokenRules({
        "src/main.ts": "export const started = true;\n",
        "src/core/users.ts": 'import { say } from "../bot/message.ts";\nexport const greet = say;\n',
        "src/bot/message.ts": "export const say = () => 1;\n",
        "src/db/migrate.ts": 'import { greet } from "../core/users.ts";\nimport { started } from "../main.ts";\nexport const m = [greet, started];\n',
      }),
    ).toEqual(["core-knows-no-surface", "entry-points-are-not-imported", "storage-knows-nothing-above"]);
  });
});
