/**
 * The ways an archival command can end badly, each with its own exit code, so that a
 * pipeline can tell "fix your input" from "the run failed but the data is safe".
 */

/** Bad input: configuration, arguments, events. Nothing was changed. CLI exit code 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/**
 * An operation could not complete for a reason outside its input (the warehouse, AWS, a concurrent
 * run); every row is still in exactly one visible place. CLI exit code 1.
 */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
}

/**
 * A bug in redshift-archive, never the user's input: a state that validated input cannot reach
 * (a name that is not an identifier at the quoting step, a ledger column that is NULL). CLI exit
 * code 1, and the message says it is a bug to report.
 */
export class InternalError extends Error {
  override readonly name = 'InternalError';
  constructor(message: string) {
    super(`internal error (a bug in redshift-archive, please report it): ${message}`);
  }
}

/** A read-back of the archive did not match the stage tables; nothing was published. */
export class VerificationError extends RunFailedError {}

/** What a message about the lake or the catalog calls things: the CLI names its arguments. */
export interface MismatchNames {
  /** What the lake (and the embedded catalog file, which lives in it) is called: `lake`, `catalog`, `--lake`. */
  readonly subject: string;
  /** What the ledger is called: `the ledger`, or where it is (`the ledger in --local <file>`). */
  readonly ledger: string;
}

/**
 * The lake or the catalog does not hold what the ledger says is archived: a command that would
 * write refused before it wrote anything (docs/design.md §5, "the ledger is the truth"). On AWS a
 * failure of the invocation (the alarm); the command line words it with its arguments' names.
 */
export class ArchiveMismatchError extends RunFailedError {
  constructor(
    readonly kind: 'lake' | 'catalog',
    private readonly render: (names: MismatchNames) => string,
  ) {
    super(render({ subject: kind, ledger: 'the ledger' }));
  }

  /** The message in other words: the CLI's `--lake`, and where its ledger is. */
  as(names: MismatchNames): string {
    return this.render(names);
  }
}

/**
 * The engine accepted a statement that is still running when the invocation must stop waiting.
 * Not a failure: the statement's completion event invokes the job again, which resumes the run.
 */
export class StillRunningError extends Error {
  override readonly name = 'StillRunningError';
  constructor(
    readonly statementId: string,
    readonly step: string,
  ) {
    super(`statement ${statementId} (${step}) is still running; its completion event resumes the run`);
  }
}

/** Renders a value for an error message: short, quoted like JSON, never multi-line. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The first line of what an error says, for a one-line report (a check, an audited batch). */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
