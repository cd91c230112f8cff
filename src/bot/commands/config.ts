import { diffEnvironments, environmentLog, listConfigFiles, promoteEnvironment, readConfigFile, startConfigEdit } from "../../core/configs.ts";
import { configFileMessage, configListMessage, editNeedsSlackMessage, environmentDiffMessage, environmentLogMessage, promotionMessage } from "../blocks/configs.ts";
import type { Command } from "./command.ts";

/** An environment's configuration: its files, their history, and promotion from one environment to another. */
export const configCommands: Command[] = [
  {
    name: "config show",
    readOnly: true,
    usage: "config show <app> <env> [path]",
    summary: "The files of an environment's configuration, or one file",
    syntax: { positionals: [{ name: "app" }, { name: "env" }, { name: "path", optional: true }] },
    async run({ platform, actor }, args) {
      const path = args.optionalText("path");
      const target = { actor, app: args.text("app"), env: args.text("env") };
      if (path === undefined) return configListMessage(await listConfigFiles(platform, target));
      return configFileMessage(await readConfigFile(platform, { ...target, path }));
    },
  },
  {
    name: "config edit",
    usage: "config edit <app> <env> <path>",
    summary: "Edit one file and commit it to the environment (production: owners, admins)",
    syntax: { positionals: [{ name: "app" }, { name: "env" }, { name: "path" }] },
    async run({ platform, actor, openEditor }, args) {
      const file = await startConfigEdit(platform, { actor, app: args.text("app"), env: args.text("env"), path: args.text("path") });
      return openEditor === undefined ? editNeedsSlackMessage(file) : openEditor(file);
    },
  },
  {
    name: "env log",
    readOnly: true,
    usage: "env log <app> <env> [--limit N]",
    summary: "Recent commits of an environment: who, when, what",
    syntax: { positionals: [{ name: "app" }, { name: "env" }], options: { limit: "value" } },
    async run({ platform, actor }, args) {
      return environmentLogMessage(await environmentLog(platform, { actor, app: args.text("app"), env: args.text("env"), limit: args.option("limit") }));
    },
  },
  {
    name: "env diff",
    readOnly: true,
    usage: "env diff <app> <from> <to>",
    summary: "What promoting one environment into another would bring: files and diff",
    syntax: { positionals: [{ name: "app" }, { name: "from" }, { name: "to" }] },
    async run({ platform, actor }, args) {
      return environmentDiffMessage(await diffEnvironments(platform, { actor, app: args.text("app"), from: args.text("from"), to: args.text("to") }));
    },
  },
  {
    name: "env promote",
    usage: "env promote <app> <from> <to>",
    summary: "Merge one environment's configuration into another (into production: owners, admins)",
    syntax: { positionals: [{ name: "app" }, { name: "from" }, { name: "to" }] },
    async run({ platform, actor }, args) {
      return promotionMessage(await promoteEnvironment(platform, { actor, app: args.text("app"), from: args.text("from"), to: args.text("to") }));
    },
  },
];
