import { checkDns, listDomains } from "../../../../core/domains.ts";
import { checkDnsValue, goLiveValue } from "../../../blocks/buttons.ts";
import { environmentDnsMessage } from "../../../blocks/home.ts";
import { say } from "../../../message.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { onceButton, runCommand, takeEffectOnce } from "./once-button.ts";

// "Check again" under go-live results and re-check messages, and "Go live" on the Home tab: the
// `golive` command, run as the person who clicked, answered as a typed one is. "Check DNS" on
// the Home tab: `dns check` of each of the environment's domains, answered to the clicker.

/** "Check again" and the Home tab's "Go live": checks every domain now, records it, goes live when all pass. */
export function goLiveButton(dependencies: ListenerDependencies) {
  return onceButton(dependencies, { schema: goLiveValue, typed: (value) => (value === undefined ? "golive <app> <env>" : `golive ${value.app} ${value.env}`) }, async ({ value, command, answer }) => {
    await answer(await runCommand(command, "golive", { app: value.app, env: value.env }));
  });
}

/** The Home tab's "Check DNS": what DNS says of each domain of the environment; writes nothing but the click. */
export function checkDnsButton(dependencies: ListenerDependencies) {
  return onceButton(dependencies, { schema: checkDnsValue, typed: () => "dns check <hostname>" }, async ({ value, command, answer }) => {
    const { ref, domains } = await listDomains(command.platform, { actor: command.actor, app: value.app, env: value.env });
    if (domains.length === 0) {
      await answer(say(`*${ref} ${value.env}* has no domains yet: add one with \`domain add ${ref} ${value.env} <hostname>\`.`));
      return;
    }
    const checks = await Promise.all(domains.map((domain) => checkDns(command.platform, { actor: command.actor, hostname: domain.hostname })));
    await takeEffectOnce(command);
    await answer(environmentDnsMessage({ app: ref, env: value.env, verdicts: checks.map((check) => check.verdict) }));
  });
}
