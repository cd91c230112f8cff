import { isUniqueViolation } from "../db/errors.ts";
import { findApplicationAsMember, findOrgAsMember, requireRepository } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { Conflict, Invalid } from "./errors.ts";
import { applicationSlug, parseField } from "./names.ts";
import { notify } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";

/**
 * `app clone <app> --name <slug> [--org <org>]`: a new application whose repository is a copy of
 * the original's production branch with its whole history, with a production environment and
 * no domains (hostnames belong to one environment). The actor must see the original and be
 * able to create applications in the target org (the original's when `--org` is left out), as
 * `app create` asks. The copy is built aside and moved into place after the commit, as a
 * creation's repository is (see `createApplication`).
 */
export async function cloneApplication(
  platform: Platform,
  input: {
    actor: Actor;
    /** The application to copy, `org/app`. */
    app: string;
    /** The copy's slug. */
    name: string | undefined;
    /** The org the copy goes in; the original's when left out. */
    org?: string | undefined;
  },
): Promise<{ ref: string; from: string; commits: number }> {
  if (input.name === undefined) throw new Invalid("name the copy: add --name <slug>", "name");
  const slug = parseField(applicationSlug, input.name, "name", "--name");
  const original = await findApplicationAsMember(platform.db, input.actor, input.app);
  const from = `${original.org.slug}/${original.slug}`;
  const target = input.org === undefined ? { ...original.org, role: original.role } : await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(target.role, "build", `org ${target.slug} not found`);
  await requireRepository(platform, { id: original.id, ref: from });
  const head = await platform.repositories.findHead(original.id, "production");
  if (head === undefined) throw new Conflict(`${from} has no production branch to copy`, "app");

  return inTransaction(platform, async (tx, undo) => {
    const copy = await tx
      .insertInto("applications")
      .values({ org_id: target.id, slug, origin: original.origin, created_by: input.actor.userId })
      .returning("id")
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        if (isUniqueViolation(error, "applications_org_slug_key")) throw new Conflict(`${target.slug} already has an application named ${slug}: choose another --name`, "name");
        throw error;
      });
    await tx.insertInto("environments").values({ application_id: copy.id, name: "production", created_by: input.actor.userId }).execute();
    const ref = `${target.slug}/${slug}`;
    await recordAudit(tx, { org: target, actor: input.actor, action: "app.clone", target: ref, details: { from, commit: head } });
    await notify(tx, { org: target, actor: input.actor, kind: "app.cloned", payload: { app: ref, from } });
    const repository = await platform.repositories.prepareCopy(original.id, copy.id, "production");
    undo.onRollback(repository.discard);
    undo.afterCommit(repository.install);
    const commits = await platform.repositories.commitsBetween(original.id, "0".repeat(40), head, 1);
    return { ref, from, commits: commits.count };
  });
}
