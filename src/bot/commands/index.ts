import type { Command } from "./command.ts";
import { helpCommand } from "./help.ts";
import { nearestNames } from "./did-you-mean.ts";
import orgCreate from "./org/create.ts";
import orgList from "./org/list.ts";
import orgShow from "./org/show.ts";
import orgRename from "./org/rename.ts";
import orgBilling from "./org/billing.ts";
import orgChannel from "./org/channel.ts";
import orgPolicy from "./org/policy.ts";
import orgDelete from "./org/delete.ts";
import memberList from "./member/list.ts";
import memberRole from "./member/role.ts";
import memberApprove from "./member/approve.ts";
import memberDeny from "./member/deny.ts";
import memberRemove from "./member/remove.ts";
import memberInvite from "./member/invite.ts";
import memberLeave from "./member/leave.ts";
import inviteList from "./invite/list.ts";
import inviteApprove from "./invite/approve.ts";
import inviteDeny from "./invite/deny.ts";
import link from "./link.ts";
import join from "./join.ts";
import appCreate from "./app/create.ts";
import appList from "./app/list.ts";
import appShow from "./app/show.ts";
import appChannel from "./app/channel.ts";
import appDelete from "./app/delete.ts";
import appSplit from "./app/split.ts";
import appMove from "./app/move.ts";
import appClone from "./app/clone.ts";
import moveApprove from "./move/approve.ts";
import moveDeny from "./move/deny.ts";
import envCreate from "./env/create.ts";
import envList from "./env/list.ts";
import envShow from "./env/show.ts";
import envDelete from "./env/delete.ts";
import domainAdd from "./domain/add.ts";
import domainRemove from "./domain/remove.ts";
import domainClaim from "./domain/claim.ts";
import domainList from "./domain/list.ts";
import configShow from "./config/show.ts";
import configEdit from "./config/edit.ts";
import envLog from "./env/log.ts";
import envDiff from "./env/diff.ts";
import envPromote from "./env/promote.ts";
import golive from "./golive.ts";
import dnsCheck from "./dns/check.ts";
import tokenCreate from "./token/create.ts";
import tokenList from "./token/list.ts";
import tokenRevoke from "./token/revoke.ts";
import audit from "./audit.ts";

/** Every command edgebot understands, in the order help lists them. Adding a command: its module, and one line here. */
export const commands: readonly Command[] = [
  helpCommand(() => commands),
  orgCreate,
  orgList,
  orgShow,
  orgRename,
  orgBilling,
  orgChannel,
  orgPolicy,
  orgDelete,
  memberList,
  memberRole,
  memberApprove,
  memberDeny,
  memberRemove,
  memberInvite,
  memberLeave,
  inviteList,
  inviteApprove,
  inviteDeny,
  link,
  join,
  appCreate,
  appList,
  appShow,
  appChannel,
  appDelete,
  appSplit,
  appMove,
  moveApprove,
  moveDeny,
  appClone,
  envCreate,
  envList,
  envShow,
  envDelete,
  domainAdd,
  domainRemove,
  domainClaim,
  domainList,
  configShow,
  configEdit,
  envLog,
  envDiff,
  envPromote,
  golive,
  dnsCheck,
  tokenCreate,
  tokenList,
  tokenRevoke,
  audit,
];

/** The command a line starts with: the longest name whose words match. */
export function findCommand(words: string[]): { command: Command; consumed: number } | undefined {
  const [first, second] = words.map((word) => word.toLowerCase());
  const twoWords = commands.find((command) => command.name === `${first} ${second}`);
  if (twoWords) return { command: twoWords, consumed: 2 };
  const oneWord = commands.find((command) => command.name === first);
  return oneWord && { command: oneWord, consumed: 1 };
}

/** Commands in a group such as `app`. */
export function commandsInGroup(group: string): Command[] {
  return commands.filter((command) => command.name.startsWith(`${group.toLowerCase()} `));
}

/** The command names nearest to what was typed, for "did you mean". */
export function nearestCommands(words: string[]): string[] {
  return nearestNames(words, commands.map((command) => command.name));
}
