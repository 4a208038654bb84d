import { parseArgs } from 'node:util';
import { ArchiveConfig, loadConfig } from '../config/config';
import { CalendarDate, parseCalendarDate } from '../core/cutoff';
import { InputError, show } from '../core/errors';
import { INIT_OPTIONS, INIT_USAGE, parseInit, type InitArgs } from './init-args';

const LOCAL = '--local <warehouse.duckdb> --lake <dir>';
const STACK = '--stack <name> [--region R]';

/** Each command: its line of usage, what it does, and the options it takes besides the engine's. */
export const COMMANDS = {
  plan: {
    args: '[--cutoff YYYY-MM-DD] [--summary]',
    says: 'count what a run would move, what it frees and adds (bytes, dollars a year), and print the exact SQL (not with --summary); changes nothing',
  },
  run: {
    args: '[--cutoff YYYY-MM-DD]',
    says: 'archive everything older than the cutoff, or resume the unfinished run',
  },
  status: { args: '', says: 'show the ledger: runs, states, rows, when and how long, restores' },
  abort: { args: '', says: "discard an unfinished run's uncommitted batches (committed ones stay)" },
  preflight: {
    args: '',
    says: 'would the next run work? read-only checks, each with its fix (exit 1 if any fails)',
  },
  audit: {
    args: '[--deep]',
    says: 'is every archived batch still in the lake and the catalog as the ledger recorded it? (exit 3 if not); --deep also reads each back',
  },
  restore: {
    args: '--year YYYY [--table <root table>] [--delete-files]',
    says: "put a year's archived rows back into the hot tables (children move with their parents); files stay unless --delete-files",
  },
  repair: {
    args: '[--accept-lost]',
    says:
      "register every committed batch's partition again from the ledger (and rebuild a catalog that cannot be read); " +
      '--accept-lost records the batches whose files are gone from the lake as lost, naming each and its rows',
  },
} as const;

/** A command of the command line. */
export type Command = keyof typeof COMMANDS;
const COMMAND_NAMES = Object.keys(COMMANDS) as Command[];
const isCommand = (name: string | undefined): name is Command => COMMAND_NAMES.includes(name as Command);

/** The options each command takes, besides the engine's and --json. */
const OPTIONS_OF: Record<string, readonly (Command | 'init')[]> = {
  cutoff: ['plan', 'run'],
  summary: ['plan'],
  deep: ['audit'],
  year: ['restore'],
  table: ['restore'],
  'delete-files': ['restore'],
  'accept-lost': ['repair'],
  ...Object.fromEntries(Object.keys(INIT_OPTIONS).map((o) => [o, ['init'] as const])),
};
const ALL_OPTIONS = [
  'config',
  'local',
  'lake',
  'stack',
  'region',
  'json',
  ...Object.keys(OPTIONS_OF),
  'help',
  'version',
];

const EXIT_CODES =
  'exit codes: 0 done or nothing to do, 1 a failure outside the input (the run failed and the data is safe, a preflight ' +
  'check failed, the warehouse is in use), 2 bad input (nothing was changed), 3 the audit found damage';

/** The usage of every command, or of one. */
export function usage(command?: Command): string {
  const lines = (c: Command) =>
    [
      `redshift-archive ${c} --config <file> ${LOCAL}${COMMANDS[c].args ? ` ${COMMANDS[c].args}` : ''} [--json]`,
      `redshift-archive ${c} --config <file> ${STACK}${COMMANDS[c].args ? ` ${COMMANDS[c].args}` : ''} [--json]`,
      `  ${COMMANDS[c].says}`,
    ].join('\n');
  if (command) return `usage: ${lines(command)}\n${EXIT_CODES}`;
  return [
    'usage: redshift-archive <command> --config <file> <engine> [options] [--json]',
    `engine: ${LOCAL}   the embedded engine (DuckDB)`,
    `        ${STACK}            the deployed stack, found from its outputs`,
    ...COMMAND_NAMES.map((c) => `  ${c.padEnd(10)} ${COMMANDS[c].says}`),
    `  ${'init'.padEnd(10)} write a configuration from the warehouse's catalog (redshift-archive help init)`,
    'redshift-archive help <command> | --help | --version',
    EXIT_CODES,
  ].join('\n');
}

/** The closest of `names` to `typed`, when it is close enough to be a typo. */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++)
        next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length];
  };
  const [best] = names
    .map((name) => ({ name, d: distance(typed.toLowerCase(), name) }))
    .sort((x, y) => x.d - y.d);
  return best && best.d <= Math.max(1, Math.floor(typed.length / 3)) ? best.name : undefined;
}

const suggest = (typed: string, names: readonly string[], prefix = '') => {
  const near = nearest(typed, names);
  return near ? `; did you mean ${prefix}${near}?` : '';
};

/** Where a command runs: the embedded engine, or the deployed stack. */
export type Engine =
  | { readonly kind: 'local'; readonly warehouse: string; readonly lake: string }
  | { readonly kind: 'stack'; readonly stack: string; readonly region?: string };

/** A command line, validated. */
export interface Args {
  readonly command: Command;
  readonly config: ArchiveConfig;
  readonly engine: Engine;
  readonly cutoff?: CalendarDate;
  readonly json: boolean;
  /** `plan`: the tables of counts and bytes without the SQL. */
  readonly summary: boolean;
  readonly deep: boolean;
  readonly year?: number;
  readonly table?: string;
  readonly deleteFiles: boolean;
  /** `repair --accept-lost`: record the committed batches whose files are gone as lost. */
  readonly acceptLost: boolean;
}

/** What the command line asks for: a command to run, `init`, or text to print (help, version). */
export type Parsed = { readonly args: Args } | { readonly init: InitArgs } | { readonly print: string };

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        local: { type: 'string' },
        lake: { type: 'string' },
        stack: { type: 'string' },
        region: { type: 'string' },
        cutoff: { type: 'string' },
        json: { type: 'boolean', default: false },
        summary: { type: 'boolean', default: false },
        deep: { type: 'boolean', default: false },
        year: { type: 'string' },
        table: { type: 'string' },
        'delete-files': { type: 'boolean', default: false },
        'accept-lost': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
        ...INIT_OPTIONS,
      },
    });
  } catch (error) {
    const text = (error as Error).message;
    const option = /option '(-{1,2}[^' ]+)'/.exec(text)?.[1] ?? '';
    const hint = option.startsWith('--') ? suggest(option.slice(2), ALL_OPTIONS, '--') : '';
    throw new InputError(
      `${text.split('. ')[0]}; allowed: ${ALL_OPTIONS.map((o) => `--${o}`).join(', ')}${hint}`,
    );
  }
}

type Values = ReturnType<typeof parseOptions>['values'];

/** AWS stack names (CloudFormation `StackName`) and Region names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Exactly one engine: `--local` with `--lake`, or `--stack` (with `--region` or the default Region). */
function engineOf(values: Values): Engine {
  const local = values.local !== undefined || values.lake !== undefined;
  if (local && values.stack !== undefined) {
    throw new InputError(
      `--stack: not allowed with --local/--lake; allowed: one engine, ${LOCAL} or ${STACK}`,
    );
  }
  if (values.stack !== undefined) {
    if (!STACK_NAME.test(values.stack))
      throw new InputError(
        `--stack: ${show(values.stack)} is not allowed; allowed: a CloudFormation stack name`,
      );
    if (values.region !== undefined && !REGION.test(values.region))
      throw new InputError(
        `--region: ${show(values.region)} is not allowed; allowed: a Region such as eu-west-1`,
      );
    return { kind: 'stack', stack: values.stack, ...(values.region ? { region: values.region } : {}) };
  }
  if (values.region !== undefined)
    throw new InputError('--region: not allowed without --stack; allowed with: --stack');
  for (const name of ['local', 'lake'] as const) {
    if (!values[name]) {
      throw new InputError(
        `--${name}: is missing; allowed: a path (${LOCAL} selects the embedded engine; ${STACK} the deployed stack)`,
      );
    }
  }
  return { kind: 'local', warehouse: values.local as string, lake: values.lake as string };
}

function commandOf(positionals: readonly string[], values: Values): Command {
  const [first] = positionals;
  if (first === undefined) throw new InputError(`command: is missing; allowed: ${COMMAND_NAMES.join(', ')}`);
  if (!isCommand(first) || positionals.length > 1) {
    throw new InputError(
      `command: ${show(positionals.join(' ') || undefined)} is not allowed; allowed: ${COMMAND_NAMES.join(', ')}` +
        (first && positionals.length === 1 ? suggest(first, COMMAND_NAMES) : ''),
    );
  }
  for (const [option, commands] of Object.entries(OPTIONS_OF)) {
    const value = values[option as keyof Values];
    if (value !== undefined && value !== false && !commands.includes(first)) {
      throw new InputError(`--${option}: not allowed with ${first}; allowed with: ${commands.join(', ')}`);
    }
  }
  return first;
}

/** `init`: no configuration to read (it writes one), and the options of no other command. */
function initOf(positionals: readonly string[], values: Values): InitArgs {
  if (positionals.length > 1) {
    throw new InputError(
      `command: ${show(positionals.join(' '))} is not allowed; allowed: init and its options`,
    );
  }
  const others: Record<string, readonly (Command | 'init')[]> = { ...OPTIONS_OF, lake: [], stack: [] };
  for (const [option, commands] of Object.entries(others)) {
    const value = values[option as keyof Values];
    if (value !== undefined && value !== false && !commands.includes('init')) {
      throw new InputError(
        `--${option}: not allowed with init; allowed with: ${commands.join(', ') || 'commands other than init'}`,
      );
    }
  }
  return parseInit(values);
}

/**
 * Reads a command line: a command and its engine, `init`, help, or the version.
 * @throws InputError naming the argument, the bad value and what is allowed
 */
export function parse(argv: readonly string[], version: string): Parsed {
  const { positionals, values } = parseOptions(argv);
  if (values.version) return { print: `redshift-archive ${version}` };
  const [first, second] = positionals;
  if (first === 'help' || values.help) {
    const named = first === 'help' ? second : first;
    if (named === 'init') return { print: INIT_USAGE };
    if (named !== undefined && !isCommand(named)) {
      throw new InputError(
        `help: ${show(named)} is not a command; allowed: ${COMMAND_NAMES.join(', ')}${suggest(named, COMMAND_NAMES)}`,
      );
    }
    return { print: usage(named as Command | undefined) };
  }
  if (first === 'init') return { init: initOf(positionals, values) };
  const command = commandOf(positionals, values);
  if (!values.config) throw new InputError('--config: is missing; allowed: a JSON configuration file');
  const engine = engineOf(values);
  if (command === 'restore' && values.year === undefined) {
    throw new InputError('--year: is missing; allowed: the archive year to restore, YYYY');
  }
  if (values.year !== undefined && !/^\d{4}$/.test(values.year)) {
    throw new InputError(
      `--year: ${show(values.year)} is not allowed; allowed: the archive year to restore, YYYY`,
    );
  }
  if (values.year !== undefined && Number(values.year) < 1000) {
    throw new InputError(`--year: ${show(values.year)} is not allowed; allowed: a year from 1000 to 9999`);
  }
  return {
    args: {
      command,
      config: loadConfig(values.config, '--config'),
      engine,
      ...(values.cutoff === undefined ? {} : { cutoff: parseCalendarDate(values.cutoff, '--cutoff') }),
      json: values.json ?? false,
      summary: values.summary ?? false,
      deep: values.deep ?? false,
      ...(values.year === undefined ? {} : { year: Number(values.year) }),
      ...(values.table === undefined ? {} : { table: values.table }),
      deleteFiles: values['delete-files'] ?? false,
      acceptLost: values['accept-lost'] ?? false,
    },
  };
}
