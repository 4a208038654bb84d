import { z } from 'zod';

/**
 * The contract between the CDK stack (`lib/`) and the code it deploys (`src/runtime/`, `lambda/`):
 * every name that one side writes and the other reads, written once. `lib/` imports this module,
 * the configuration and the leaf layer, never an adapter or an AWS SDK client, so `cdk synth`
 * loads no SDK.
 */

/** The service name of every log line and metric (Powertools' `serviceName`). */
export const SERVICE_NAME = 'redshift-archive';

/** The CloudWatch namespace of the unload function's metrics. */
export const METRIC_NAMESPACE = 'RedshiftArchive';

/** The metric dimensions Powertools adds to every metric of the service. */
export const METRIC_DIMENSIONS = { service: SERVICE_NAME } as const;

/** The metrics the unload function publishes, and that the stack's alarms watch. */
export const METRICS = {
  /** Milliseconds one invocation took. */
  invocationDuration: 'InvocationDuration',
  /** 1 when the watchdog finds a run unfinished, else 0. */
  unfinishedRun: 'UnfinishedRun',
  /**
   * 1 when the watchdog finds the unfinished run idle: it has recorded no step for
   * {@link STALLED_AFTER_MS} (or, started by an earlier version, recorded no instant at all).
   */
  stalledRun: 'StalledRun',
  /**
   * 1 when the watchdog resumed the unfinished run (a statement's completion event was lost, see
   * {@link RESUME_IDLE_AFTER_MS}), else 0.
   */
  runsResumedByWatchdog: 'RunsResumedByWatchdog',
  /** A status-change event that was not a pending step of the active run. */
  eventsDropped: 'EventsDropped',
  /** The checks the monthly preflight found failing. */
  preflightFailures: 'PreflightFailures',
  /** The archived batches an audit (the monthly one, or an operator's) found damaged. */
  auditFailures: 'ArchiveAuditFailures',
  /** Rows of a finished run. */
  rowsArchived: 'RowsArchived',
  /** Parquet bytes of a finished run. */
  bytesArchived: 'BytesArchived',
  /** Runs finished. */
  runsFinished: 'RunsFinished',
  /** Invocations that failed (the data is safe; the next one resumes). */
  runFailures: 'RunFailures',
} as const;

/**
 * How long an unfinished run may record no step before the watchdog calls it stalled: a day, the
 * longest a Data API statement may run (MG "Using the Amazon Redshift Data API", considerations:
 * "The maximum duration of a query is 24 hours"). A long first run that moves on is not stalled,
 * however many days its backlog takes.
 */
export const STALLED_AFTER_MS = 24 * 3600_000;

/**
 * How long an unfinished run must have recorded no step, with no statement of the stack running
 * and no error recorded, before the hourly watchdog resumes it as its lost completion event would
 * have. Such events can be lost: EventBridge lists Data API events as "Delivery type: Best effort"
 * (EventBridge events reference, "Amazon Redshift Data API events"; the Redshift guide says
 * "guaranteed"), and Lambda may delete an asynchronous event "from the queue without being sent
 * to the function" (Lambda Developer Guide, "How Lambda handles errors and retries with
 * asynchronous invocation"). A healthy run is not idle that long with nothing running: the event
 * of a statement that has ended waits at most for the one invocation that holds the single slot
 * (its timeout, 15 minutes at most) and for Lambda's retry of the throttled event ("to a maximum
 * of 5 minutes", same page). An event that comes later after all is dropped as stale (the resume
 * sent later statements of the run), so the threshold spares work, never data.
 */
export const RESUME_IDLE_AFTER_MS = 30 * 60_000;

/** How often the `Watchdog` rule invokes the function: a lost event costs at most this plus the threshold. */
export const WATCHDOG_EVERY_MINUTES = 60;

/**
 * The outputs of the stack (`RedshiftArchiveStack`), by what each carries: the command line's
 * AWS mode (`--stack`) finds the deployment through them.
 */
export const STACK_OUTPUTS = {
  lakeBucket: 'LakeBucketName',
  redshiftRoleArn: 'RedshiftRoleArn',
  databaseUser: 'DatabaseUser',
  unloadFunction: 'UnloadFunctionName',
  athenaWorkgroup: 'AthenaWorkgroup',
  alarmTopic: 'AlarmTopicArn',
  /** `configDigest` of the deployed configuration: the command line refuses another file. */
  configDigest: 'ConfigurationDigest',
  /** Only when the lake is encrypted with a KMS key: UNLOAD names it. */
  lakeKey: 'LakeKmsKeyId',
} as const;

/**
 * The file that holds the configuration (its `configJson`) in the code of the unload function and
 * of the views setup (isComplete), beside the prebuilt handler: the stack writes it at synth, and the function reads it once per
 * container. Not the environment, which Lambda limits to 4 KB in all.
 */
export const CONFIG_FILE = 'config.json';

/** The environment of the functions the stack deploys, by the value each variable carries. */
export const ENV = {
  /**
   * The configuration as JSON, where `deploymentFrom` reads it: the functions put the text
   * of their {@link CONFIG_FILE} there, and the command line that of `--config`. No function's
   * environment carries it.
   */
  config: 'ARCHIVE_CONFIG',
  lakeBucket: 'LAKE_BUCKET',
  redshiftRoleArn: 'REDSHIFT_ROLE_ARN',
  kmsKeyId: 'KMS_KEY_ID',
  athenaWorkgroup: 'ATHENA_WORKGROUP',
  statementPrefix: 'ARCHIVE_STATEMENT_PREFIX',
} as const;

/**
 * CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters
 * (AWS CloudFormation API Reference, CreateStack `StackName`).
 */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * The prefix of the statements the command line sends for an operator (`--stack`): unlike
 * {@link statementPrefix}, it is not the stack's, so its reads never count as the stack's
 * statements in flight, and its rule never matches them.
 */
export function operatorStatementPrefix(stackName: string): string {
  return `redshift-archive-operator.${statementPrefix(stackName).slice('redshift-archive.'.length)}`;
}

/** A statement prefix as {@link statementPrefix} builds it. */
export const STATEMENT_PREFIX = /^redshift-archive\.[A-Za-z][A-Za-z0-9-]{0,127}\.$/;

/**
 * The prefix of every Data API statement name of one stack, and what its `StatementFinished`
 * rule matches. It carries the stack name because EventBridge delivers `aws.redshift-data`
 * events of the whole account and Region to every rule: a fixed prefix would let two stacks
 * in one account resume each other's runs. The trailing dot keeps stack `a` from matching the
 * statements of stack `a-b`.
 * @throws Error naming the stack name when it is not a CloudFormation stack name
 */
export function statementPrefix(stackName: string): string {
  if (!STACK_NAME.test(stackName)) {
    throw new Error(
      `statementPrefix: stack name ${JSON.stringify(stackName)} is not allowed; allowed: ` +
        'a letter, then letters, digits and hyphens, at most 128 characters',
    );
  }
  return `${SERVICE_NAME}.${stackName}.`;
}

/** The custom-resource types of the stack. */
export const RESOURCE_TYPES = {
  externalSchema: 'Custom::RedshiftArchiveExternalSchema',
  views: 'Custom::RedshiftArchiveSchemaAndViews',
  roleAssociation: 'Custom::RedshiftArchiveRoleAssociation',
} as const;

/**
 * The two resources of the schema-and-views provider: the external schema, and the ledger, schema
 * guard and union views. Properties without `Resource` are those of the one resource that earlier
 * versions had: the views.
 */
export const RESOURCE_KINDS = ['external-schema', 'views'] as const;

/** One of {@link RESOURCE_KINDS}. */
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/**
 * The schema-and-views resources' properties, as the stack sets them. The configuration itself
 * does not travel (it grows with every column, and the provider framework carries the event,
 * old and new properties, through a Step Functions state machine whose input is at most
 * 256 KiB): the handler reads the configuration bundled with its code and checks it against
 * `ConfigDigest`. Earlier versions passed `Config`, the whole configuration as JSON; an update
 * or delete of such a resource still reads its footprint from it.
 */
export interface SchemaAndViewsProps {
  readonly Resource?: ResourceKind;
  /** `configDigest` of the configuration: a change of it is an update. */
  readonly ConfigDigest: string;
  /** `footprintJson` of the configuration: what this resource owns, for an update or delete. */
  readonly Footprint: string;
  readonly LakeBucket: string;
  readonly RedshiftRoleArn: string;
  readonly KmsKeyId?: string;
  readonly AthenaWorkgroup?: string;
}

/** The role-association resource's properties: exactly one of the cluster or the workgroup. */
export interface RoleAssociationProps {
  readonly ClusterIdentifier?: string;
  readonly WorkgroupName?: string;
  readonly RoleArn: string;
}

/** What an operator (or the stack's schedules) may ask the unload function to do. */
export const MANUAL_ACTIONS = [
  'plan',
  'run',
  'status',
  'abort',
  'preflight',
  'audit',
  'restore',
  'repair',
  'watchdog',
] as const;

/** One of {@link MANUAL_ACTIONS}. */
export type ManualAction = (typeof MANUAL_ACTIONS)[number];

/** The fields each action takes besides `action`; no other field is allowed with it. */
export const ACTION_FIELDS: Readonly<Record<ManualAction, readonly string[]>> = {
  plan: ['cutoff'],
  run: ['cutoff'],
  status: [],
  abort: [],
  preflight: [],
  audit: ['deep'],
  restore: ['year', 'table', 'deleteFiles'],
  repair: ['acceptLost'],
  watchdog: [],
};

/** The actions that take a `cutoff`. */
export const ACTIONS_WITH_CUTOFF: readonly ManualAction[] = MANUAL_ACTIONS.filter((a) =>
  ACTION_FIELDS[a].includes('cutoff'),
);

/** A Data API statement id: a UUID, with `:N` for a statement of a batch (Data API reference, `UUID`). */
const STATEMENT_ID = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$/;

// The envelopes keep fields the function does not read (id, account, region, resources, ...).

/** The yearly rule's "Scheduled Event". */
export const scheduleEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.iso.datetime({ offset: true, error: 'no valid time' }),
});

/** The Data API's event when a statement ends, as the stack's rule forwards it. */
export const statusChangeEvent = z.looseObject({
  source: z.literal('aws.redshift-data'),
  'detail-type': z.literal('Redshift Data Statement Status Change'),
  detail: z.looseObject(
    {
      // A statement without a name is no statement of this stack: dropped, like another stack's.
      statementName: z.string().max(500, 'no valid statement name').default(''),
      statementId: z.string().regex(STATEMENT_ID, 'no valid statement id'),
      state: z.enum(['FINISHED', 'FAILED', 'ABORTED'], { error: 'no valid state' }),
    },
    { error: 'no detail' },
  ),
});

/**
 * What each field's value may be, by field: the message of a refused value, which the runtime
 * words as `<field>: <value> is not allowed; allowed: <this>`. A cutoff's text is then parsed by
 * the runtime as a calendar date, in the same words.
 */
const FIELD_VALUES = {
  cutoff: {
    allowed: 'a real calendar date YYYY-MM-DD from 1900 on',
    ok: (v: unknown) => typeof v === 'string',
  },
  deep: { allowed: 'true or false', ok: (v: unknown) => typeof v === 'boolean' },
  year: {
    allowed: 'a year from 1000 to 9999',
    ok: (v: unknown) => Number.isInteger(v) && (v as number) >= 1000 && (v as number) <= 9999,
  },
  table: {
    allowed: "a root table's name as configured",
    ok: (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 127,
  },
  deleteFiles: { allowed: 'true or false', ok: (v: unknown) => typeof v === 'boolean' },
  acceptLost: { allowed: 'true or false', ok: (v: unknown) => typeof v === 'boolean' },
} as const satisfies Record<string, { readonly allowed: string; readonly ok: (v: unknown) => boolean }>;

/** A field of a manual event besides `action`. */
type Field = keyof typeof FIELD_VALUES;
const FIELDS = Object.keys(FIELD_VALUES) as Field[];

/**
 * A manual invocation; the stack's hourly watchdog, monthly preflight and monthly audit rules send
 * these too. Exactly: `{"action": "plan" | "run", "cutoff"?: "YYYY-MM-DD"}`,
 * `{"action": "status" | "abort" | "preflight" | "watchdog"}`, `{"action": "repair", "acceptLost"?: boolean}`,
 * `{"action": "audit", "deep"?: boolean}` and
 * `{"action": "restore", "year": <1000-9999>, "table"?: "<root table>", "deleteFiles"?: boolean}`.
 * A field the action does not take, or a restore without a year, is one custom issue without a
 * path (`no deep with run`, `restore needs a year`); a value that is not allowed is one custom
 * issue at the field's path, whose message says what is allowed.
 */
export const manualEvent = z
  .strictObject({
    action: z.enum(MANUAL_ACTIONS),
    cutoff: z.unknown().optional(),
    deep: z.unknown().optional(),
    year: z.unknown().optional(),
    table: z.unknown().optional(),
    deleteFiles: z.unknown().optional(),
    acceptLost: z.unknown().optional(),
  })
  .superRefine((e, ctx) => {
    const given = FIELDS.filter((f) => e[f] !== undefined);
    const other = given.find((f) => !ACTION_FIELDS[e.action].includes(f));
    if (other) ctx.addIssue({ code: 'custom', message: `no ${other} with ${e.action}` });
    else if (e.action === 'restore' && e.year === undefined) {
      ctx.addIssue({ code: 'custom', message: 'restore needs a year' });
    } else {
      const bad = given.find((f) => !FIELD_VALUES[f].ok(e[f]));
      if (bad) ctx.addIssue({ code: 'custom', path: [bad], message: FIELD_VALUES[bad].allowed });
    }
  })
  // The refinement has checked what the type says.
  .transform((e) => e as ManualEvent);

/** A manual event, as the stack writes it into a rule's target and an operator sends it. */
export type ManualEvent =
  | { readonly action: 'plan' | 'run'; readonly cutoff?: string }
  | { readonly action: 'status' | 'abort' | 'preflight' | 'watchdog' }
  | { readonly action: 'repair'; readonly acceptLost?: boolean }
  | { readonly action: 'audit'; readonly deep?: boolean }
  | {
      readonly action: 'restore';
      readonly year: number;
      readonly table?: string;
      readonly deleteFiles?: boolean;
    };
