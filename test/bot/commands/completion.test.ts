import { describe, expect, it } from "vitest";
import { completeCommandLine } from "../../../src/bot/commands/completion.ts";
import { editDistance, nearestNames } from "../../../src/bot/commands/did-you-mean.ts";

describe("completing a command line in the shell", () => {
  it("completes the command's words", () => {
    expect(completeCommandLine("ap")).toEqual([["app"], "ap"]);
    expect(completeCommandLine("a")).toEqual([["app", "audit"], "a"]);
    expect(completeCommandLine("app c")).toEqual([["channel", "clone", "create"], "c"]);
    expect(completeCommandLine("app cr")).toEqual([["create"], "cr"]);
    expect(completeCommandLine("/edge tok")).toEqual([["token"], "tok"]);
    expect(completeCommandLine("token ")).toEqual([["create", "list", "revoke"], ""]);
    expect(completeCommandLine("")[0]).toEqual(["app", "audit", "config", "dns", "domain", "env", "golive", "help", "invite", "join", "link", "member", "move", "org", "token"]);
  });

  it("offers nothing for words that name no command", () => {
    expect(completeCommandLine("frob")).toEqual([[], "frob"]);
    expect(completeCommandLine("app frob x")).toEqual([[], "x"]);
  });

  it("then completes the options not given yet, leaving out one that excludes a given one", () => {
    expect(completeCommandLine("app create www.acme.example --")).toEqual([["--org", "--new-org", "--name", "--origin"], "--"]);
    expect(completeCommandLine("app create www.acme.example --o")).toEqual([["--org", "--origin"], "--o"]);
    expect(completeCommandLine("app create www.acme.example --org acme ")).toEqual([["--name", "--origin"], ""]);
    expect(completeCommandLine("app create www.acme.example --new-org=acme --")).toEqual([["--name", "--origin"], "--"]);
    expect(completeCommandLine("env create acme/www qa --from staging --d")).toEqual([["--domain"], "--d"]);
  });

  it("leaves values alone: after an option, or a word that is not an option", () => {
    expect(completeCommandLine("app create www.acme.example --org ")).toEqual([[], ""]);
    expect(completeCommandLine("app create www")).toEqual([[], "www"]);
    expect(completeCommandLine("org list --")).toEqual([[], "--"]);
  });
});

describe("did you mean", () => {
  it("counts a swap of two neighbouring letters as one edit", () => {
    expect(editDistance("hlep", "help")).toBe(1);
    expect(editDistance("ap list", "app list")).toBe(1);
    expect(editDistance("frobnicate", "golive")).toBeGreaterThan(2);
  });

  it("names the nearest commands, and none for a different word", () => {
    const names = ["help", "app list", "app show", "org list", "env log", "env list"];
    expect(nearestNames(["ap", "list"], names)).toEqual(["app list"]);
    expect(nearestNames(["hlep"], names)).toEqual(["help"]);
    expect(nearestNames(["env", "lst"], names)).toEqual(["env list"]);
    expect(nearestNames(["app", "lisst"], [...names, "app lists"])).toEqual(["app list", "app lists"]);
    expect(nearestNames(["frobnicate", "everything"], names)).toEqual([]);
  });
});
