/**
 * The configuration docs, generated from the table in config-variables.ts: the whole of
 * `.env.example` and the README's "Configure it" table. `npm run config-docs`
 * (scripts/config-docs.ts) writes them; server/test/config.test.ts fails when the committed files
 * differ, so the docs cannot drift from what loadConfig does.
 */
import {
  CONFIG_GROUPS,
  CONFIG_VARIABLES,
  type ConfigGroup,
  type ConfigVariable,
} from './config-variables.ts';

/** Prettier's printWidth (.prettierrc.json): comments wrap where the code does. */
const WIDTH = 100;

export const CONFIG_TABLE_START = '<!-- config-table:start -->';
export const CONFIG_TABLE_END = '<!-- config-table:end -->';

const ENV_EXAMPLE_INTRO =
  'Latchkey configuration. Every variable is optional: a line shows its default, a ' +
  'commented-out line an example for one that is unset by default. The server reads these from ' +
  'its environment (it does not load this file itself): export them, or use ' +
  '`node --env-file=.env server/src/main.ts`. Invalid values stop the server at start-up with ' +
  'one message listing every problem.';

const GENERATED_NOTE =
  'Generated from server/src/config-variables.ts by `npm run config-docs`: edit the table there.';

const variables = () => Object.entries(CONFIG_VARIABLES) as [string, ConfigVariable][];

/** `text` as `# ` comment lines no wider than WIDTH. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '#' && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** `# --- Title ---...` to the full width, as a section heading. */
const heading = (title: string) => `# --- ${title} `.padEnd(WIDTH, '-');

/** The `.env.example` comment of one variable: what it does, then its default and its values. */
function envComment(variable: ConfigVariable): string {
  const parts = [variable.doc, variable.details];
  if (variable.default === undefined && variable.derivedDefault !== undefined) {
    parts.push(`Default: ${variable.derivedDefault}.`);
  }
  if (variable.parser.accepts !== undefined) parts.push(`Allowed: ${variable.parser.accepts}.`);
  return parts.filter((part) => part !== undefined).join(' ');
}

/** The whole of `.env.example`. */
export function renderEnvExample(): string {
  const lines = [...comment(ENV_EXAMPLE_INTRO), ...comment(GENERATED_NOTE)];
  for (const [group, { title, ...rest }] of Object.entries(CONFIG_GROUPS) as [
    ConfigGroup,
    { title: string; intro?: string },
  ][]) {
    lines.push('', heading(title));
    if (rest.intro !== undefined) lines.push(...comment(rest.intro));
    for (const [name, variable] of variables()) {
      if (variable.group !== group) continue;
      lines.push(...comment(envComment(variable)));
      lines.push(
        variable.default === undefined
          ? `# ${name}=${variable.example}`
          : `${name}=${variable.default}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A variable's default as the README shows it. */
function readmeDefault(variable: ConfigVariable): string {
  const shown = variable.default ?? variable.derivedDefault;
  return shown === undefined ? 'none' : `\`${shown}\``;
}

/**
 * The README's table of the variables marked `inReadme`, laid out as Prettier lays out a
 * Markdown table (columns padded to their widest cell), so `prettier --check` agrees with it.
 */
export function renderConfigTable(): string {
  const header = ['variable', 'default', 'what it does'];
  const body = variables()
    .filter(([, variable]) => variable.inReadme === true)
    .map(([name, variable]) => [`\`${name}\``, readmeDefault(variable), variable.doc]);
  const widths = header.map((title, column) =>
    Math.max(3, title.length, ...body.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = widths.map((width) => '-'.repeat(width));
  return [line(header), line(rule), ...body.map(line)].join('\n');
}

/** `readme` with the text between the config-table markers replaced by the generated table. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_START);
  const end = readme.indexOf(CONFIG_TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`README.md needs the markers ${CONFIG_TABLE_START} and ${CONFIG_TABLE_END}.`);
  }
  const before = readme.slice(0, start + CONFIG_TABLE_START.length);
  return `${before}\n\n${renderConfigTable()}\n\n${readme.slice(end)}`;
}
