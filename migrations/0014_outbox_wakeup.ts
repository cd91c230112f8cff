import { sql, type Kysely } from "kysely";

// Every statement that writes to the outbox notifies `edgebot_outbox` when its transaction
// commits (NOTIFY is transactional): outbox workers LISTENing deliver at once instead of at
// their next poll, which stays as the fallback.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function edgebot_outbox_written() returns trigger language plpgsql as $$
    begin
      perform pg_notify('edgebot_outbox', '');
      return null;
    end
    $$`.execute(db);
  await sql`create trigger outbox_written after insert on outbox for each statement execute function edgebot_outbox_written()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger outbox_written on outbox`.execute(db);
  await sql`drop function edgebot_outbox_written()`.execute(db);
}
