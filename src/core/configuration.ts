import { z } from "zod";

/** `section.config.json`, the proxy chain and origin of one environment. */
export const sectionConfigSchema = z
  .object({
    proxychain: z
      .array(
        z.object({
          name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
          image: z.string().regex(/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]{1,128})?$/),
        }).loose(),
      )
      .min(1),
    origin: z.object({ address: z.string().min(1).max(300) }).loose(),
  })
  .loose();

export type SectionConfig = z.infer<typeof sectionConfigSchema>;

/** The files of a new application's first commit on `production`. */
export function initialConfigurationFiles(origin: string): Record<string, string> {
  const config = sectionConfigSchema.parse({
    proxychain: [{ name: "varnish", image: "varnish:7.4" }],
    origin: { address: origin },
  });
  return {
    "section.config.json": `${JSON.stringify(config, null, 2)}\n`,
    "varnish/default.vcl": defaultVcl,
  };
}

const defaultVcl = `vcl 4.1;

# The platform routes requests to the origin named in section.config.json.
backend default none;
`;
