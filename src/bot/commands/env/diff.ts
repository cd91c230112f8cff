import { z } from "zod";
import { diffEnvironments, environmentLog } from "../../../core/configs.ts";
import { environmentDiffMessage } from "../../blocks/configs.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env diff",
  summary: "What promoting one environment into another would bring: files and diff",
  permission: "member",
  readOnly: true,
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    from: text({ description: "The environment whose configuration would be promoted", schema: z.string().max(63) }),
    to: text({ description: "The environment it would be promoted into", schema: z.string().max(63) }),
  },
  examples: ["env diff acme/www staging production"],
  async run({ platform, actor }, args) {
    // Both heads go on the diff's Promote button, read before the diff: a click promotes what was shown, or nothing.
    // Reading them fails where the diff does, which says why; without them there is no button.
    const headOf = (env: string) => environmentLog(platform, { actor, app: args.app, env, limit: 1 }).then((log) => log.commits[0]?.sha, () => undefined);
    const [fromHead, toHead] = await Promise.all([headOf(args.from), headOf(args.to)]);
    const diff = await diffEnvironments(platform, { actor, app: args.app, from: args.from, to: args.to });
    return environmentDiffMessage(diff, fromHead === undefined || toHead === undefined ? undefined : { from: fromHead, to: toHead });
  },
});
