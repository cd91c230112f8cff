import { performance } from "node:perf_hooks";
import pg from "pg";

/** How many rows of each kind the core benchmark seeds at scale 1. */
export const fullSizes = {
  orgs: 10_000,
  users: 50_000,
  applications: 100_000,
  environments: 300_000,
  domains: 1_000_000,
} as const;

/** Rows actually present after seeding. */
export interface SeededCounts {
  orgs: number;
  users: number;
  memberships: number;
  applications: number;
  environments: number;
  domains: number;
  auditEvents: number;
}

// App slugs repeat across orgs, as agencies reuse names (www, shop, blog…): lookups must use the org.
const applicationWords = [
  "www", "shop", "blog", "api", "docs", "app", "status", "careers", "help", "news",
  "store", "m", "cdn", "static", "promo", "events", "portal", "support", "labs",
];

const firstNames = ["Ana", "Ben", "Chloé", "Dev", "Eitan", "Fatima", "Gus", "Hana", "Ivo", "Jun", "Kemi", "Lars", "Mei", "Nico", "Olu", "Priya", "Quinn", "Rosa", "Sami", "Tariq"];
const lastNames = ["Ali", "Brown", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ito", "Jansen", "Khan", "López", "Müller", "Nowak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Wong"];

/**
 * Fills the database set-based (INSERT … SELECT generate_series), then VACUUM ANALYZE and CHECKPOINT.
 *
 * Shape: user u's first org is ((u-1) mod orgs)+1, and users 1..orgs own that org, so every
 * org has an owner; one user in three is in one org, two or three (avg 2), with mixed roles.
 * Orgs pair up with 10-d and 10+d applications (d = 0..9, so 1 to 19, 10 on average); each
 * application has production, staging and development with 5, 3 and 2 domains. Every app
 * and every branched environment has its audit event.
 */
export async function seedCore(databaseUrl: string, scale: number): Promise<{ counts: SeededCounts; seconds: number; steps: Array<[string, number]> }> {
  const orgs = Math.max(2, Math.round(fullSizes.orgs * scale));
  const users = Math.max(orgs, Math.round(fullSizes.users * scale));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const steps: Array<[string, number]> = [];
  const started = performance.now();
  const step = async (label: string, text: string, values: unknown[] = []) => {
    const start = performance.now();
    await client.query(text, values);
    steps.push([label, (performance.now() - start) / 1000]);
  };
  try {
    await client.query("set synchronous_commit = off");
    await client.query("set maintenance_work_mem = '512MB'");

    await step(
      "users",
      `insert into users (id, email, display_name, created_at) overriding system value
       select u,
              lower(format('%s.%s.%s@example.com', ($2::text[])[1 + u % 20], ($3::text[])[1 + (u / 20) % 20], u)),
              format('%s %s', ($2::text[])[1 + u % 20], ($3::text[])[1 + (u / 20) % 20]),
              now() - make_interval(days => u % 900)
       from generate_series(1, $1::int) u`,
      [users, firstNames, lastNames],
    );
    await step(
      "user identities",
      `insert into user_identities (team_id, chat_user_id, user_id)
       select 'T0BENCH01', 'U' || lpad(u::text, 9, '0'), u from generate_series(1, $1::int) u`,
      [users],
    );
    await step(
      "orgs",
      `insert into orgs (id, slug, name, billing_email, created_by, created_at) overriding system value
       select o, 'client-' || o, format('Client %s Ltd', o), format('billing@client-%s.test', o), o,
              now() - make_interval(days => 900 - o % 900)
       from generate_series(1, $1::int) o`,
      [orgs],
    );
    await step(
      "memberships",
      `insert into memberships (org_id, user_id, role)
       select 1 + (u - 1) % $1::int, u,
              case when u <= $1::int then 'owner'
                   else (array['owner','admin','admin','developer','developer','developer','developer','viewer','viewer','viewer'])[1 + (u * 7) % 10] end
       from generate_series(1, $2::int) u`,
      [orgs, users],
    );
    await step(
      "more memberships",
      `insert into memberships (org_id, user_id, role)
       select 1 + ((u::bigint * 7919 + j * 104729) % $1::int)::int, u,
              (array['owner','admin','admin','developer','developer','developer','developer','viewer','viewer','viewer'])[1 + (u * 13 + j * 5) % 10]
       from generate_series(1, $2::int) u cross join generate_series(1, 2) j
       where j <= u % 3
       on conflict do nothing`,
      [orgs, users],
    );
    await step(
      "applications",
      `insert into applications (id, org_id, slug, origin, created_by, created_at) overriding system value
       select row_number() over (order by o, k), o, ($2::text[])[k], format('%s-origin.client-%s.test', ($2::text[])[k], o), o,
              now() - make_interval(days => 800 - o % 800, hours => k)
       from generate_series(1, $1::int) o
       cross join lateral generate_series(1, case when o % 2 = 1 then 10 - ((o + 1) / 2) % 10 else 10 + ((o + 1) / 2) % 10 end) k`,
      [orgs, applicationWords],
    );
    await step(
      "environments",
      `insert into environments (id, application_id, name, based_on, live_at, created_by, created_at) overriding system value
       select 3 * (a.id - 1) + e, a.id, (array['production','staging','development'])[e],
              case when e = 1 then null else 'production' end,
              case when e = 1 and a.id % 4 <> 0 then a.created_at + interval '2 days' end,
              a.created_by, a.created_at + make_interval(days => e - 1)
       from applications a cross join generate_series(1, 3) e`,
    );
    await step(
      "domains",
      `insert into domains (id, environment_id, hostname, dns_status, created_by, created_at) overriding system value
       select 10 * (a.id - 1) + (array[0, 5, 8])[p] + k,
              e.id,
              case when p = 1 and k = 1 then format('%s.client-%s.test', a.slug, a.org_id)
                   else format('%s-%s.%s.client-%s.test', e.name, k, a.slug, a.org_id) end,
              case when p = 1 then (case when a.id % 4 <> 0 then 'passing' else 'failing' end)
                   when p = 2 then (array['pending','failing','passing'])[1 + k % 3]
                   else 'pending' end,
              e.created_by, e.created_at
       from environments e
       join applications a on a.id = e.application_id
       cross join lateral (select 1 + (e.id - 1) % 3 as p) position
       cross join lateral generate_series(1, (array[5, 3, 2])[p]) k`,
    );
    // The last check of each domain checked before: a domain's last check time is its latest check's.
    await step(
      "DNS checks",
      `insert into dns_checks (domain_id, hostname, verdict, expected, found, trigger, checked_at)
       select d.id, d.hostname, case when d.dns_status = 'passing' then 'passes' else 'fails' end,
              d.hostname || '.edge.bench.test', '[]'::jsonb, 'recheck', now() - make_interval(hours => d.id % 48)
       from domains d where d.dns_status <> 'pending'`,
    );
    await step(
      "audit events",
      `insert into audit_events (org_id, org_slug, actor_id, action, target, details, created_at)
       select a.org_id, o.slug, e.created_by,
              case when e.name = 'production' then 'app.create' else 'env.create' end,
              case when e.name = 'production' then format('%s/%s', o.slug, a.slug) else format('%s/%s %s', o.slug, a.slug, e.name) end,
              case when e.name = 'production' then jsonb_build_object('hostname', format('%s.client-%s.test', a.slug, a.org_id), 'origin', a.origin)
                   else jsonb_build_object('from', 'production') end,
              e.created_at
       from environments e
       join applications a on a.id = e.application_id
       join orgs o on o.id = a.org_id
       order by e.created_at, e.id`,
    );
    // Rows were inserted with their ids, so the identity sequences continue after them.
    for (const table of ["users", "orgs", "applications", "environments", "domains"]) {
      await client.query(`select setval(pg_get_serial_sequence('${table}', 'id'), (select coalesce(max(id), 0) + 1 from ${table}), false)`);
    }
    // Autovacuum would have done this on a database that grew over time: statistics and the visibility map.
    await step("vacuum analyze", "vacuum (analyze)");
    // Flush the load's dirty pages now, so the checkpointer is not writing them out while calls are timed.
    await step("checkpoint", "checkpoint");

    const counted = await client.query<Record<keyof SeededCounts, string>>(
      `select (select count(*) from orgs) as orgs, (select count(*) from users) as users,
              (select count(*) from memberships) as memberships, (select count(*) from applications) as applications,
              (select count(*) from environments) as environments, (select count(*) from domains) as domains,
              (select count(*) from audit_events) as "auditEvents"`,
    );
    const row = counted.rows[0]!;
    const counts = Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])) as unknown as SeededCounts;
    return { counts, seconds: (performance.now() - started) / 1000, steps };
  } finally {
    await client.end();
  }
}
