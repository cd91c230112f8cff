import type { ModalView } from "@slack/types";
import type { ConfigFile, ConfigListing, EditableFile, PromotionOutcome } from "../../core/configs.ts";
import type { BranchDiff, CommitSummary } from "../../core/configs.ts";
import { code, escapeText, linesWithin, maxBlocks, maxSectionText, MessageBuilder, say, sayError, when, type Message } from "../message.ts";
import { promoteButton } from "./buttons.ts";
import { plural } from "./orgs.ts";

/** The callback id of the config editor modal. */
export const configEditorCallback = "config_edit";

/** The editor's fields: the file's content and the commit message (block ids, which errors name). */
export const configEditorFields = { content: "content", message: "message" } as const;

/** The editor's action id in each of its input blocks. */
export const configEditorAction = "value";

/** Slack's limit for a plain-text input, which is also how much of a file its editor can hold. */
export const maxEditorCharacters = 3000;

const maxMessageCharacters = 500;

/** A commit as people read it: its first 10 characters. */
export function shortCommit(sha: string): string {
  return sha.slice(0, 10);
}

export function configListMessage(listing: ConfigListing): Message {
  const builder = new MessageBuilder().section(`*${listing.ref} ${listing.env}* at \`${shortCommit(listing.head)}\` · ${plural(listing.files.length, "file")}`);
  builder.list(
    listing.files.map((file) => `${code(file.path)} · ${size(file.size)}`),
    { limit: 200, noun: "files" },
  );
  return builder.context(`Show one: ${code(`config show ${listing.ref} ${listing.env} <path>`)} · edit one: ${code(`config edit ${listing.ref} ${listing.env} <path>`)}`).build();
}

export function configFileMessage(file: ConfigFile): Message {
  const heading = `*${file.path}* of *${file.ref} ${file.env}* at \`${shortCommit(file.head)}\` · ${size(file.size)}`;
  if (file.content === null) return new MessageBuilder().section(heading).context("A binary file: read it with git.").build();
  const shown = codeBlock(file.content, maxSectionText);
  const builder = new MessageBuilder().section(heading).section(shown.text);
  if (shown.cut > 0) builder.context(`Showing the first ${shown.lines} lines: ${plural(shown.cut, "more line")} not shown. Read the whole file with git.`);
  return builder.build();
}

export function environmentLogMessage(log: { ref: string; env: string; commits: CommitSummary[] }): Message {
  const builder = new MessageBuilder().section(`*Recent commits of ${log.ref} ${log.env}*`);
  builder.list(
    log.commits.map((commit) => `\`${shortCommit(commit.sha)}\` ${escapeText(commit.subject)} — ${escapeText(commit.authorName)} (${escapeText(commit.authorEmail)}), ${when(commit.authoredAt)}`),
    { limit: 50, noun: "commits" },
  );
  return builder.build();
}

const statusWord: Record<string, string> = { A: "added", M: "modified", D: "deleted", R: "renamed", C: "copied", T: "type changed" };

/**
 * What promoting one environment into another would bring; with both heads known, a "Promote"
 * button that promotes exactly that (see listeners/actions/promote-button.ts).
 */
export function environmentDiffMessage(diff: { ref: string; from: string; to: string } & BranchDiff, heads?: { from: string; to: string }): Message {
  if (diff.files.length === 0) return say(`*${diff.ref}*: ${diff.from} has nothing that ${diff.to} lacks. Promoting would change nothing.`);
  const builder = new MessageBuilder().section(`*${diff.ref}*: what promoting *${diff.from}* into *${diff.to}* brings · ${plural(diff.files.length, "file")} changed`);
  builder.list(
    diff.files.map((file) => `${statusWord[file.status] ?? file.status} ${code(file.path)}${file.previousPath === undefined ? "" : ` (was ${code(file.previousPath)})`}`),
    { limit: 30, noun: "files" },
  );
  const shown = codeBlock(diff.patch, maxSectionText);
  builder.section(shown.text);
  if (diff.patchCut) builder.context(`The diff is longer than 1 MiB: only its start was read. See the whole diff with git.`);
  else if (shown.cut > 0) builder.context(`${plural(shown.cut, "more line")} of the diff not shown: see the whole diff with git.`);
  const message = builder.context(`Promote: ${code(`env promote ${diff.ref} ${diff.from} ${diff.to}`)}`).build();
  if (heads === undefined) return message;
  // The button goes last, where it is seen after the diff.
  return { ...message, blocks: [...message.blocks.slice(0, maxBlocks - 1), promoteButton({ app: diff.ref, from: diff.from, to: diff.to, fromHead: heads.from, toHead: heads.to })] };
}

export function promotionMessage(outcome: PromotionOutcome): Message {
  switch (outcome.kind) {
    case "up_to_date":
      return say(`*${outcome.ref} ${outcome.to}* already has everything in ${outcome.from} (at \`${shortCommit(outcome.commit)}\`): nothing to promote.`);
    case "conflict":
      return new MessageBuilder()
        .section(`:warning: *${outcome.from}* and *${outcome.to}* of *${outcome.ref}* both changed the same lines: nothing was promoted. Files in conflict:`)
        .list(outcome.files.map((file) => code(file)), { limit: 50, noun: "files" })
        .context(`Make ${outcome.from} agree with ${outcome.to} in these files (\`config edit\`, or with git), then promote again.`)
        .build({ error: true });
    case "fast_forward":
    case "merge":
      return new MessageBuilder()
        .section(`:white_check_mark: Promoted *${outcome.from}* into *${outcome.ref} ${outcome.to}*, now at \`${shortCommit(outcome.commit)}\`${outcome.kind === "merge" ? " (a merge commit)" : ""}.`)
        .build();
  }
}

/** The answer when a file is too long for Slack's editor. */
export function tooLongToEditMessage(file: EditableFile): Message {
  return sayError(`${file.path} has ${file.content.length} characters, more than Slack's editor holds (${maxEditorCharacters}). Change it with git: clone the repository, commit and push to ${file.env}.`);
}

/** The shell has no editor: it says how to change a file there. */
export function editNeedsSlackMessage(file: EditableFile): Message {
  return new MessageBuilder()
    .section(`Editing opens a form in Slack. Here, change *${file.path}* of *${file.ref} ${file.env}* with git: clone the repository, commit and push to ${file.env}.`)
    .context(`${file.env} is at \`${shortCommit(file.base)}\`${file.exists ? "" : `; ${file.path} does not exist yet`}.`)
    .build();
}

/** The editor modal: the file's content and a commit message; `metadata` comes back on submit. */
export function configEditorView(file: EditableFile, metadata: string): ModalView {
  return {
    type: "modal",
    callback_id: configEditorCallback,
    title: { type: "plain_text", text: "Edit configuration" },
    submit: { type: "plain_text", text: "Commit" },
    close: { type: "plain_text", text: "Cancel" },
    private_metadata: metadata,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `${file.exists ? "Editing" : "Creating"} *${escapeText(file.path)}* of *${file.ref} ${file.env}*, at \`${shortCommit(file.base)}\`. Committing makes a commit by you on ${file.env}.`,
        },
      },
      {
        type: "input",
        block_id: configEditorFields.content,
        label: { type: "plain_text", text: file.path.slice(0, 2000) },
        element: {
          type: "plain_text_input",
          action_id: configEditorAction,
          multiline: true,
          max_length: maxEditorCharacters,
          ...(file.content === "" ? {} : { initial_value: file.content }),
        },
      },
      {
        type: "input",
        block_id: configEditorFields.message,
        optional: true,
        label: { type: "plain_text", text: "Commit message" },
        hint: { type: "plain_text", text: `Edit ${file.path}, when left empty.`.slice(0, 2000) },
        element: { type: "plain_text_input", action_id: configEditorAction, max_length: maxMessageCharacters },
      },
    ],
  };
}

/** What an edit was to change, as its editor carries it: not yet checked by core, so escaped wherever it is shown. */
export interface EditTarget {
  app: string;
  env: string;
  path: string;
}

/** The confirmation of a committed edit, to the person who made it. */
export function editCommittedMessage(edit: { ref: string; env: string; path: string; commit: string }): Message {
  return say(`:white_check_mark: Committed *${escapeText(edit.path)}* to *${edit.ref} ${edit.env}* as \`${shortCommit(edit.commit)}\`.`);
}

/**
 * What replaces the editor when its commit takes longer than Slack waits for an answer (the
 * repository busy with a push, say): the edit goes on, and its outcome is posted later.
 */
export function editStillCommittingView(edit: EditTarget): ModalView {
  return {
    type: "modal",
    title: { type: "plain_text", text: "Edit configuration" },
    close: { type: "plain_text", text: "Close" },
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `:hourglass_flowing_sand: ${yourEdit(edit)} is taking a while to commit: the repository may be busy with another change. It goes on if you close this form, and whether it was committed will be posted where you ran \`config edit\`.`,
        },
      },
    ],
  };
}

/**
 * The answer, posted later, to an edit that was not committed: why, and the whole text the
 * person submitted (the editor is gone by then), in as many code blocks as it takes.
 */
export function editNotCommittedMessage(edit: EditTarget, reason: string, content: string): Message {
  const builder = new MessageBuilder().section(`:warning: ${yourEdit(edit)} was not committed.\n${escapeText(reason)}`);
  if (content === "") builder.context("You submitted it empty.");
  else {
    for (const block of wholeCodeBlocks(content, maxSectionText)) builder.section(block);
    builder.context(`What you submitted is above. To try again from the file as it is now: ${code(`config edit ${edit.app} ${edit.env} ${edit.path}`)}`);
  }
  return builder.build({ error: true });
}

/** "Your edit of *path* of *app env*", each part escaped: not yet checked by core. */
function yourEdit(edit: EditTarget): string {
  return `Your edit of *${escapeText(edit.path)}* of *${escapeText(edit.app)} ${escapeText(edit.env)}*`;
}

/** Text's lines as a code block shows them: Slack reads &, < and > as markup even in code; three backticks would end the block. */
function codeLines(text: string): string[] {
  return escapeText(text.replace(/\n$/, "")).replace(/```/g, "`\u200b``").split("\n");
}

/** The room for text inside a code block of at most `limit` characters. */
function codeBudget(limit: number): number {
  return limit - "```\n\n```".length;
}

/** All of a text, in code blocks of at most `limit` characters each: split between lines, and a line too long for one block split across blocks. */
function wholeCodeBlocks(text: string, limit: number): string[] {
  const budget = codeBudget(limit);
  const pieces = codeLines(text).flatMap((line) => piecesOf(line, budget));
  return linesWithin(pieces, budget).map((body) => `\`\`\`\n${body}\n\`\`\``);
}

/** An escaped line in pieces of at most `size` characters, never cutting an entity (`&amp;`) in two. */
function piecesOf(line: string, size: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > size) {
    const entity = rest.lastIndexOf("&", size - 1);
    const cut = entity > size - "&amp;".length ? entity : size;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}

/** Text in a code block that fits `limit` characters, cut at a line; `cut` counts the lines left out. */
function codeBlock(text: string, limit: number): { text: string; lines: number; cut: number } {
  const lines = codeLines(text);
  const budget = codeBudget(limit);
  let used = 0;
  let shown = 0;
  for (const line of lines) {
    const cost = line.length + 1;
    if (used + cost > budget) break;
    used += cost;
    shown += 1;
  }
  // A first line longer than the whole budget is shown cut rather than not at all.
  const body = shown === 0 ? lines[0]!.slice(0, budget) : lines.slice(0, shown).join("\n");
  const count = Math.max(shown, 1);
  return { text: `\`\`\`\n${body}\n\`\`\``, lines: count, cut: lines.length - count };
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
