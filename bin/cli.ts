import { RunTarget, runTarget } from '../src/core/cutoff';
import { ArchiveMismatchError, InputError, InternalError, RunFailedError } from '../src/core/errors';
import { checkLocalPaths, checkWarehouseFile } from '../src/cli/local-paths';
import type { InitArgs } from '../src/cli/init-args';
import type { OpenCatalog } from '../src/cli/init';
import type { WarehouseConfig } from '../src/config/config';
import type { LocalEngine } from '../src/engines/local/engine';
import { Archiver, ProgressEvent, RunBusyError } from '../src/protocol/archive';
import { restoreIdAt } from '../src/protocol/restore';
import { Args, Command, parse } from '../src/cli/args';
import type { StackAccess } from '../src/cli/on-stack';
import { CommandOutcome, printed, progressLine } from '../src/cli/render';
import { explainAwsError } from '../src/cli/aws-errors';
import { version } from '../package.json';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The one clock read of a command: it fixes the run id and the default cutoff. */
  readonly now: () => Date;
  /**
   * The engine's clock, read for the instants a run records (its start, each step's end) and the
   * durations a command prints; never for what a run moves. The system clock when left out.
   */
  readonly clock?: () => Date;
  /** How `--stack` reaches AWS; the operator's credentials by default. */
  readonly aws?: (region: string | undefined) => StackAccess;
}

/** Each command on the embedded engine; plan and run are given the run's target. */
const LOCAL_RUNNERS: Record<
  Command,
  (archiver: Archiver, target: RunTarget | undefined, args: Args, instant: Date) => Promise<CommandOutcome>
> = {
  plan: async (archiver, target, args) =>
    printed.plan(await archiver.plan(target as RunTarget), args.summary),
  run: async (archiver, target) => printed.run(await archiver.run(target as RunTarget)),
  status: async (archiver) => printed.status(await archiver.status()),
  preflight: async (archiver) => printed.preflight(await archiver.preflight()),
  abort: async (archiver) => printed.aborted((await archiver.abort())?.runId ?? null),
  repair: async (archiver, _target, args) =>
    printed.repair(await archiver.repair({ acceptLost: args.acceptLost })),
  audit: async (archiver, _target, args) => printed.audit(await archiver.audit(args.deep)),
  restore: async (archiver, _target, args, instant) =>
    printed.restore(
      await archiver.restore({
        year: args.year as number,
        deleteFiles: args.deleteFiles,
        restoreId: restoreIdAt(instant),
        ...(args.table === undefined ? {} : { table: args.table }),
      }),
    ),
};

/**
 * The modules of one engine. DuckDB (`--local`) and the AWS SDK (`--stack`) are optional
 * dependencies of the package, which an install with `--omit=optional` leaves out.
 */
async function engineModule<T>(option: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = /^Cannot find module '((?:@[^/']+\/)?[^./'][^/']*)/.exec((error as Error).message)?.[1];
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !missing) throw error;
    throw new InputError(
      `${option}: needs ${missing}, an optional dependency of redshift-archive that is not installed; ` +
        'allowed: an install without --omit=optional',
    );
  }
}

async function runLocally(
  args: Args,
  target: RunTarget | undefined,
  instant: Date,
  progress: (event: ProgressEvent) => void,
  clock: (() => Date) | undefined,
): Promise<CommandOutcome> {
  if (args.engine.kind !== 'local') throw new InternalError('runLocally: not the embedded engine');
  const { warehouse, lake } = args.engine;
  const readOnly = READ_ONLY.includes(args.command);
  // Loaded when used: the embedded engine's native addon is not needed on the stack, nor the AWS
  // SDK here, and each costs start-up time. A missing engine is said first: no path can help it.
  const { openLocalEngine } = await engineModule('--local', () => import('../src/engines/local/engine'));
  await checkLocalPaths({ warehouse, lake }, !readOnly);
  let engine: LocalEngine;
  try {
    // Commands that only read open the file read-only: they cannot write, even by mistake.
    engine = await openLocalEngine({
      config: args.config,
      warehousePath: warehouse,
      lakeRoot: lake,
      progress,
      readOnly,
      ...(clock ? { clock } : {}),
    });
  } catch (error) {
    if (!/Could not set lock/.test((error as Error).message)) throw error;
    throw new RunFailedError(
      `--local: ${warehouse} is in use by another process (${(error as Error).message.split(': ').slice(-1)[0].split('. See')[0]}); ` +
        'try again once it has ended; nothing was changed',
    );
  }
  try {
    return await LOCAL_RUNNERS[args.command](new Archiver(engine), target, args, instant);
  } catch (error) {
    // The lake and its catalog file are the --lake folder's; the ledger is in the --local file.
    if (error instanceof ArchiveMismatchError)
      throw new InputError(error.as({ subject: '--lake', ledger: `the ledger in --local ${warehouse}` }));
    throw error;
  } finally {
    engine.close();
  }
}

/** Commands that never write: the embedded warehouse is opened read-only for them. */
const READ_ONLY: readonly Command[] = ['plan', 'status', 'audit', 'preflight'];

async function stackCommand(
  args: Args,
  io: CliIo,
  target: RunTarget | undefined,
  progress: (event: ProgressEvent) => void,
): Promise<CommandOutcome> {
  const { runOnStack, stackAccess } = await engineModule('--stack', () => import('../src/cli/on-stack'));
  const region = args.engine.kind === 'stack' ? args.engine.region : undefined;
  return runOnStack(args, (io.aws ?? stackAccess)(region), target, progress);
}

/** Where `init` reads: the embedded warehouse, read-only, or Redshift through the Data API. */
async function openCatalog(source: InitArgs['source'], warehouse: WarehouseConfig): Promise<OpenCatalog> {
  if (source.kind === 'local') {
    const { DuckDbWarehouse } = await engineModule(
      '--local',
      () => import('../src/engines/local/duckdb-warehouse'),
    );
    await checkWarehouseFile(source.warehouse);
    const opened = await DuckDbWarehouse.open(source.warehouse, true);
    return {
      reader: opened.warehouse,
      dialect: opened.warehouse.dialect,
      close: () => {
        opened.warehouse.close();
        opened.instance.closeSync();
      },
    };
  }
  const { openRedshiftCatalog } = await engineModule(
    '--cluster/--workgroup',
    () => import('../src/cli/init-redshift'),
  );
  return openRedshiftCatalog(warehouse, source.region);
}

async function initCommand(args: InitArgs, io: CliIo): Promise<number> {
  try {
    const { runInit } = await import('../src/cli/init');
    return await runInit(args, openCatalog, io);
  } catch (error) {
    return report(args.source.kind === 'redshift' ? explainAwsError(error) : error, args, io);
  }
}

function report(error: unknown, args: { readonly json: boolean }, io: CliIo): number {
  const code = error instanceof InputError ? 2 : 1;
  const busy = error instanceof RunBusyError;
  if (args.json)
    io.stdout(
      JSON.stringify({
        error: (error as Error).message,
        exitCode: code,
        ...(busy ? { activeRun: error.active } : {}),
      }),
    );
  io.stderr(`redshift-archive: ${(error as Error).message}`);
  if (!(error instanceof InputError || error instanceof RunFailedError)) {
    io.stderr('The data is safe: every step that deletes is a transaction that follows a verified copy.');
  }
  return code;
}

/**
 * Runs one command. Never throws: every outcome is an exit code.
 * @returns 0 done or nothing to do, 1 the run failed (data safe) or a check failed, 2 bad input,
 * 3 the audit found damage
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let args: Args;
  try {
    const parsed = parse(argv, version);
    if ('print' in parsed) {
      io.stdout(parsed.print);
      return 0;
    }
    if ('init' in parsed) return await initCommand(parsed.init, io);
    args = parsed.args;
  } catch (error) {
    io.stderr(`redshift-archive: ${(error as Error).message}\nredshift-archive --help shows the usage`);
    return error instanceof InputError ? 2 : 1;
  }
  const instant = io.now();
  const progress = (event: ProgressEvent) => io.stderr(progressLine(event));
  try {
    const target =
      args.command === 'plan' || args.command === 'run'
        ? runTarget(instant, args.config.retention, args.cutoff, '--cutoff')
        : undefined;
    const { engine } = args;
    const outcome =
      engine.kind === 'local'
        ? await runLocally(args, target, instant, progress, io.clock)
        : await stackCommand(args, io, target, progress);
    io.stdout(args.json ? JSON.stringify(outcome.result) : outcome.text);
    return outcome.code;
  } catch (error) {
    return report(args.engine.kind === 'stack' ? explainAwsError(error) : error, args, io);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    now: () => new Date(),
  }).then((code) => {
    process.exitCode = code;
  });
}
