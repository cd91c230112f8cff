import { readdir } from "node:fs/promises";
import path from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrateToLatest, migrations } from "../../src/db/migrate.ts";
import { useWorld } from "../support/world.ts";

const world = useWorld();

describe("migrations", () => {
  it("lists every file of migrations/ in order", async () => {
    const files = (await readdir(path.resolve("migrations")))
      .filter((file) => /\.(ts|js)$/.test(file))
      .map((file) => file.replace(/\.(ts|js)$/, ""))
      .sort();
    expect(Object.keys(migrations)).toEqual(files);
  });

  it("does nothing to a database that is already migrated", async () => {
    const tables = async () =>
      (
        await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`.execute(world.platform.db)
      ).rows.map((row) => row.name);
    const before = await tables();
    expect(before).toEqual(expect.arrayContaining(["users", "orgs", "memberships", "applications", "environments", "domains", "audit_events"]));
    expect(await migrateToLatest(world.platform.db)).toEqual([]);
    expect(await tables()).toEqual(before);
  });
});
