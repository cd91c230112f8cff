import type { CommandSyntax } from "../grammar.ts";
import type { Message } from "../message.ts";
import type { Command, CommandContext, FormText, Permission } from "./command.ts";
import { argumentKey, kebab, readParameter, shownParameter, type Parameter, type ParameterSpec } from "./parameters.ts";

type Specs = Record<string, ParameterSpec<unknown>>;
type ValueOf<Spec> = Spec extends ParameterSpec<infer Value> ? Value : never;

/** What `run` receives: each argument by name, typed; each option by name, undefined when not given. */
export type CommandArguments<A extends Specs, O extends Specs> = { [K in keyof A]: ValueOf<A[K]> } & { [K in keyof O]: ValueOf<O[K]> | undefined };

/** One command, declared once: everything else (grammar, usage, help, form, completion) is derived from it. */
export interface CommandDeclaration<A extends Specs, O extends Specs> {
  /** The command's words, like `app create`. */
  name: string;
  /** One line for help. */
  summary: string;
  /** Who may run it, for help; core enforces it. */
  permission: Permission;
  /** True for a command that only reads: answering it changes nothing anyone sees elsewhere. */
  readOnly?: boolean;
  /** Positional arguments in order; their names are core's input field names. */
  arguments?: A;
  /** Options; `newOrg` is typed `--new-org`. Their names are core's input field names. */
  options?: O;
  /** Command lines that show it in use, for `help <command>`. */
  examples: [string, ...string[]];
  /** The modal's texts: a command with them opens a form when its arguments are missing. */
  form?: FormText;
  run(context: CommandContext, args: CommandArguments<A, O>): Promise<Message>;
}

/** Builds a command from its declaration. */
export function defineCommand<A extends Specs = Record<never, never>, O extends Specs = Record<never, never>>(declaration: CommandDeclaration<A, O>): Command {
  const parameters: Parameter[] = [
    ...Object.entries(declaration.arguments ?? {}).map(([name, spec]): Parameter => ({ ...spec, name, position: "argument" })),
    ...Object.entries(declaration.options ?? {}).map(([name, spec]): Parameter => ({ ...spec, name, position: "option" })),
  ];
  checkDeclaration(declaration.name, parameters, declaration.form !== undefined);
  return {
    name: declaration.name,
    usage: usageOf(declaration.name, parameters),
    summary: declaration.summary,
    permission: declaration.permission,
    examples: declaration.examples,
    parameters,
    syntax: syntaxOf(parameters),
    ...(declaration.form === undefined ? {} : { form: declaration.form }),
    ...(declaration.readOnly ? { readOnly: true } : {}),
    async run(context, args) {
      const values: Record<string, unknown> = {};
      for (const parameter of parameters) values[parameter.name] = readParameter(parameter, args, context);
      return declaration.run(context, values as CommandArguments<A, O>);
    },
  };
}

/** What the grammar needs: positionals in order, options by flag. */
function syntaxOf(parameters: Parameter[]): CommandSyntax {
  const positionals = parameters
    .filter((parameter) => parameter.position === "argument")
    .map((parameter) => ({ name: argumentKey(parameter), ...(parameter.optional ? { optional: true } : {}), ...(parameter.rest ? { rest: true } : {}) }));
  const options = parameters.filter((parameter) => parameter.position === "option");
  // Without options, a command ending in free text reads every word as text (`org rename acme --x & Co`).
  if (options.length === 0) return { positionals };
  return { positionals, options: Object.fromEntries(options.map((option) => [kebab(option.name), "value" as const])) };
}

/** The usage line: `env create <app> <env> [--from <env>] [--domain <hostname>]`; exclusive options as `[--org <org> | --new-org <slug>]`. */
function usageOf(name: string, parameters: Parameter[]): string {
  const parts = [name];
  const shown = new Set<string>();
  for (const parameter of parameters) {
    if (shown.has(parameter.name)) continue;
    shown.add(parameter.name);
    if (parameter.position === "argument") {
      // An optional argument is its bare name in brackets, as edgebot's usage lines always showed it: `link [code]`.
      parts.push(parameter.optional ? `[${parameter.value ?? kebab(parameter.name)}]` : shownParameter(parameter));
      continue;
    }
    const partner = parameters.find((other) => other !== parameter && (other.name === parameter.exclusiveWith || other.exclusiveWith === parameter.name));
    if (partner !== undefined) {
      shown.add(partner.name);
      parts.push(`[${shownParameter(parameter)} | ${shownParameter(partner)}]`);
    } else {
      parts.push(parameter.required ? shownParameter(parameter) : `[${shownParameter(parameter)}]`);
    }
  }
  return parts.join(" ");
}

/** Mistakes in a declaration stop edgebot at start, not a person at the keyboard later. */
function checkDeclaration(command: string, parameters: Parameter[], hasForm: boolean): void {
  const fail = (problem: string) => {
    throw new Error(`command ${command}: ${problem}`);
  };
  const positionals = parameters.filter((parameter) => parameter.position === "argument");
  positionals.forEach((parameter, index) => {
    if (parameter.rest && index !== positionals.length - 1) fail(`${parameter.name} takes the remaining words, so it must come last`);
    if (!parameter.optional && positionals.slice(0, index).some((earlier) => earlier.optional)) fail(`${parameter.name} is required after an optional argument`);
  });
  for (const parameter of parameters) {
    if (parameter.position === "option" && (parameter.kind === "person" || parameter.kind === "channel")) fail(`--${kebab(parameter.name)}: a person or channel is an argument`);
    if (parameter.exclusiveWith !== undefined && !parameters.some((other) => other.position === "option" && other.name === parameter.exclusiveWith)) {
      fail(`${parameter.name} is exclusive with ${parameter.exclusiveWith}, which is no option`);
    }
    if (parameter.repeats !== undefined && !parameters.some((other) => other.position === "argument" && other.name === parameter.repeats)) fail(`${parameter.name} repeats ${parameter.repeats}, which is no argument`);
    // An option that repeats an argument has no field: the form's confirmation stands for it.
    if (hasForm && parameter.repeats === undefined && (parameter.field === undefined || parameter.schema.maxLength === null)) fail(`${parameter.name} needs a form field and a maximum length`);
    if (hasForm && parameter.kind === "person" && parameter.emailField === undefined) fail(`${parameter.name} needs an email field in the form`);
    if (hasForm && parameter.kind === "channel") fail(`${parameter.name}: forms have no channel field`);
  }
}
