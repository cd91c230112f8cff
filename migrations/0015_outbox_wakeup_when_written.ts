import { sql, type Kysely } from "kysely";

// 0014's trigger notified after every insert statement, also one that wrote no row (`notify`
// when the org has no channel, an edit of request messages that were never posted): each woke
// every outbox worker on every process for nothing. The statement's transition table tells
// whether it wrote a row; only then does it notify.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop trigger outbox_written on outbox`.execute(db);
  await sql`
    create or replace function edgebot_outbox_written() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from written) then
        perform pg_notify('edgebot_outbox', '');
      end if;
      return null;
    end
    $$`.execute(db);
  await sql`create trigger outbox_written after insert on outbox referencing new table as written for each statement execute function edgebot_outbox_written()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger outbox_written on outbox`.execute(db);
  await sql`
    create or replace function edgebot_outbox_written() returns trigger language plpgsql as $$
    begin
      perform pg_notify('edgebot_outbox', '');
      return null;
    end
    $$`.execute(db);
  await sql`create trigger outbox_written after insert on outbox for each statement execute function edgebot_outbox_written()`.execute(db);
}
