import { findApplicationAsMember, requireRepository } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { Conflict, Invalid } from "./errors.ts";
import { applicationSlug, parseField, urlPrefix } from "./names.ts";
import { notify } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";
import { userById } from "./users.ts";
import { lockRepository } from "./repository-locks.ts";

/**
 * `app split <app> --prefix </path/> --name <slug>`: a new application in the same org that
 * handles one URL prefix of the original's domains. Its repository starts as a copy of the
 * original's production configuration, in one commit by the acting user, and it has a
 * production environment of its own, without domains: it serves the prefix on the original's.
 * Prefixes of one original never overlap, and a split is not split again.
 */
export async function splitApplication(
  platform: Platform,
  input: { actor: Actor; app: string; prefix: string | undefined; name: string | undefined },
): Promise<{ ref: string; original: string; prefix: string; hostnames: string[] }> {
  if (input.prefix === undefined) throw new Invalid("say which URL prefix the new application handles: add --prefix </path/>, like --prefix /blog/", "prefix");
  if (input.name === undefined) throw new Invalid("name the new application: add --name <slug>", "name");
  const prefix = parseField(urlPrefix, input.prefix, "prefix", "--prefix");
  const slug = parseField(applicationSlug, input.name, "name", "--name");
  const original = await findApplicationAsMember(platform.db, input.actor, input.app);
  authorize(original.role, "build", `application ${input.app} not found`);
  const originalRef = `${original.org.slug}/${original.slug}`;
  await requireRepository(platform, { id: original.id, ref: originalRef });
  const files = await platform.repositories.filesAt(original.id, "production");
  const author = await userById(platform.db, input.actor);

  return inTransaction(platform, async (tx, undo) => {
    await lockRepository(tx, original.id);
    // The original's row is locked, so two splits of it are decided one after the other.
    const locked = await tx.selectFrom("applications").select(["split_of"]).where("id", "=", original.id).forUpdate().executeTakeFirst();
    if (locked === undefined) throw new Invalid(`application ${originalRef} was deleted a moment ago`, "app");
    if (locked.split_of !== null) throw new Invalid(`${originalRef} is itself a split: split the application it was split from`, "app");
    const existing = await tx.selectFrom("applications").select(["slug", "split_prefix"]).where("split_of", "=", original.id).execute();
    const overlapping = existing.find((split) => split.split_prefix!.startsWith(prefix) || prefix.startsWith(split.split_prefix!));
    if (overlapping !== undefined) {
      throw new Conflict(`${overlapping.split_prefix} of ${originalRef} is already split to ${original.org.slug}/${overlapping.slug}; prefixes of one application cannot overlap`, "prefix");
    }
    const split = await tx
      .insertInto("applications")
      .values({ org_id: original.org.id, slug, origin: original.origin, split_of: original.id, split_prefix: prefix, created_by: input.actor.userId })
      .returning("id")
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        if (isUniqueViolation(error, "applications_org_slug_key")) throw new Conflict(`${original.org.slug} already has an application named ${slug}: choose another --name`, "name");
        throw error;
      });
    await tx.insertInto("environments").values({ application_id: split.id, name: "production", created_by: input.actor.userId }).execute();
    const hostnames = await tx
      .selectFrom("environments as e")
      .innerJoin("domains as d", "d.environment_id", "e.id")
      .select("d.hostname")
      .where("e.application_id", "=", original.id)
      .where("e.name", "=", "production")
      .orderBy("d.hostname")
      .execute();
    const ref = `${original.org.slug}/${slug}`;
    await recordAudit(tx, { org: original.org, actor: input.actor, action: "app.split", target: ref, details: { from: originalRef, prefix } });
    await notify(tx, { org: original.org, app: { id: original.id }, actor: input.actor, kind: "app.split", payload: { app: originalRef, split: ref, prefix } });

    const repository = await platform.repositories.prepare(split.id, {
      branch: "production",
      files,
      message: `Split ${prefix} of ${originalRef} into ${slug}`,
      author: { name: author.displayName, email: author.email },
    });
    undo.onRollback(repository.discard);
    undo.afterCommit(repository.install);
    return { ref, original: originalRef, prefix, hostnames: hostnames.map((row) => row.hostname) };
  });
}
