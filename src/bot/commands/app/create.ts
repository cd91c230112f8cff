import { z } from "zod";
import { createApplication } from "../../../core/applications.ts";
import { applicationCreatedMessage } from "../../blocks/applications.ts";
import { defineCommand } from "../define.ts";
import { org, text } from "../parameters.ts";

export default defineCommand({
  name: "app create",
  summary: "Create an application; its first hostname becomes the production environment",
  permission: "developer",
  arguments: {
    hostname: text({
      description: "The production hostname; a pasted URL is fine",
      schema: z.string().max(2048),
      field: { label: "Hostname", placeholder: "www.example.com", hint: "A pasted URL is fine: edgebot keeps its hostname." },
    }),
  },
  options: {
    org: org({
      description: "The org it belongs to; may be left out when you are in one org",
      exclusiveWith: "newOrg",
      field: { label: "Org", hint: "The client account it belongs to. Leave empty to use your only org, or name a new one below." },
    }),
    newOrg: text({
      description: "Create a new org with this slug for it; you become its owner",
      value: "slug",
      schema: z.string().max(39),
      field: { label: "…or a new org", placeholder: "acme", hint: "A slug for a new org, of which you become the owner." },
    }),
    name: text({
      description: "The application's slug; made from the hostname when left out",
      value: "slug",
      schema: z.string().max(63),
      field: { label: "Application name", placeholder: "www-example-com", hint: "A slug; made from the hostname when left empty." },
    }),
    origin: text({
      description: "Where the edge fetches content from; the hostname when left out",
      value: "host",
      schema: z.string().max(300),
      field: { label: "Origin", placeholder: "origin.example.com", hint: "Where the edge fetches content from; the hostname when left empty." },
    }),
  },
  examples: ["app create www.acme.example --org acme", "app create https://shop.acme.example/ --new-org acme --name shop --origin origin.acme.example"],
  form: {
    title: "New application",
    submit: "Create",
    intro: "An application is one client website. Its first hostname becomes the production environment, with a repository of proxy configuration.",
  },
  async run({ platform, actor }, args) {
    return applicationCreatedMessage(await createApplication(platform, { actor, ...args }));
  },
});
