import { readdir } from "node:fs/promises";
import path from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrateToLatest, migrations, pendingMigrations } from "../../src/db/migrate.ts";
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

  it("refuses a database that ran a migration this code does not know (an older process on a newer schema)", async () => {
    const db = world.platform.db;
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_a_newer_edgebot', now()::text)`.execute(db);
    try {
      await expect(migrateToLatest(db)).rejects.toThrow(/9999_from_a_newer_edgebot/);
      expect(await pendingMigrations(db)).toEqual([]);
    } finally {
      await sql`delete from kysely_migration where name = '9999_from_a_newer_edgebot'`.execute(db);
    }
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it("tells readiness which migrations the database has not run", async () => {
    const db = world.platform.db;
    const last = Object.keys(migrations).at(-1)!;
    const { rows } = await sql<{ timestamp: string }>`delete from kysely_migration where name = ${last} returning timestamp`.execute(db);
    try {
      expect(await pendingMigrations(db)).toEqual([last]);
    } finally {
      await sql`insert into kysely_migration (name, timestamp) values (${last}, ${rows[0]!.timestamp})`.execute(db);
    }
    expect(await pendingMigrations(db)).toEqual([]);
  });
});
