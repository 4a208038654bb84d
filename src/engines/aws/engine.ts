import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { ArchiveConfig, parseConfig } from '../../config/config';
import { ENV, STATEMENT_PREFIX } from '../../contract';
import { InputError, show } from '../../core/errors';
import { DataApiWarehouse } from './data-api-warehouse';
import { GlueCatalog } from './glue-catalog';
import type { Sleep } from './sleep';
import { S3Lake } from './s3-lake';
import type { ArchiveDeps, ProgressEvent } from '../../protocol/archive';
import { awsChecks, CheckClients } from './checks';
import { checkRedshiftOptions, RedshiftOptions, redshiftDialect } from '../../sql/redshift-dialect';

/** The deployed resources that the custom resource's properties name. */
export interface DeployedResources extends RedshiftOptions {
  readonly config: ArchiveConfig;
  readonly bucket: string;
  /** Verification counts through Athena in this workgroup as well. */
  readonly athenaWorkgroup?: string;
}

/** What the AWS runtime needs besides configuration: the deployed resources and the stack's name prefix. */
export interface Deployment extends DeployedResources {
  /**
   * The prefix of every statement name of this stack, `redshift-archive.<stack name>.`
   * (the contract's `statementPrefix`): the stack's event rule matches it, so it tells this stack's
   * statements and events from another stack's.
   */
  readonly statementPrefix: string;
}

/**
 * The AWS SDK clients; tests pass mocked ones. The adapters do not retry a failed call: the clients
 * do, built with the settings of `engines/aws/clients.ts`.
 */
export interface AwsClients {
  readonly redshiftData: RedshiftDataClient;
  readonly s3: S3Client;
  readonly glue: GlueClient;
  readonly athena: AthenaClient;
}

/** The protocol's ports on AWS. */
export interface AwsEngine extends ArchiveDeps {
  readonly warehouse: DataApiWarehouse;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;

function required(
  env: Record<string, string | undefined>,
  name: string,
  allowed: string,
  test: (v: string) => boolean,
): string {
  const value = env[name];
  if (value === undefined || !test(value)) {
    throw new InputError(
      `${name}: ${value === undefined ? 'is missing' : `${show(value)} is not allowed`}; allowed: ${allowed}`,
    );
  }
  return value;
}

/**
 * Reads the stack's statement prefix from the environment, validated: it names every statement
 * sent to the Data API and decides which events are this stack's.
 */
export function statementPrefixFrom(env: Record<string, string | undefined>): string {
  return required(env, ENV.statementPrefix, 'redshift-archive.<stack name>.', (v) =>
    STATEMENT_PREFIX.test(v),
  );
}

/** Reads the configuration bundled with the function (`ARCHIVE_CONFIG`), validated. */
export function configFrom(env: Record<string, string | undefined>): ArchiveConfig {
  const configText = required(env, ENV.config, 'the JSON configuration', () => true);
  let json: unknown;
  try {
    json = JSON.parse(configText);
  } catch (error) {
    throw new InputError(`${ENV.config}: not valid JSON (${(error as Error).message})`);
  }
  return parseConfig(json, ENV.config);
}

/**
 * Reads the deployment from the Lambda's environment (set by the stack), validating every value:
 * they reach SQL (the role in UNLOAD), S3 keys and statement names.
 */
export function deploymentFrom(env: Record<string, string | undefined>): Deployment {
  const optional = (name: string, allowed: string, test: (v: string) => boolean) =>
    env[name] === undefined || env[name] === '' ? undefined : required(env, name, allowed, test);
  const deployment = {
    config: configFrom(env),
    bucket: required(env, ENV.lakeBucket, 'an S3 bucket name', (v) => BUCKET.test(v)),
    iamRoleArn: required(env, ENV.redshiftRoleArn, 'an IAM role ARN', () => true),
    kmsKeyId: optional(ENV.kmsKeyId, 'a KMS key id or ARN', () => true),
    athenaWorkgroup: optional(ENV.athenaWorkgroup, 'an Athena workgroup name', (v) => WORKGROUP.test(v)),
    statementPrefix: statementPrefixFrom(env),
  };
  checkRedshiftOptions(deployment);
  return deployment;
}

/** The ports of the protocol on the Data API, S3 and Glue (with Athena when configured). */
export function openAwsEngine(
  deployment: Deployment,
  clients: AwsClients,
  options: {
    remainingMs: () => number;
    sleep?: Sleep;
    progress?: (event: ProgressEvent) => void;
    /** Clients of preflight's AWS checks (role association, Lake Formation, bucket, concurrency). */
    checks?: Omit<CheckClients, 'glue' | 's3'>;
    /** The clock that timestamps runs, batches and steps (the system clock when left out). */
    clock?: () => Date;
  },
): AwsEngine {
  const { config } = deployment;
  const dialect = redshiftDialect(deployment);
  const warehouse = new DataApiWarehouse({
    client: clients.redshiftData,
    target: config.warehouse,
    dialect,
    statementPrefix: deployment.statementPrefix,
    procedureSchema: config.ledger.schema,
    remainingMs: options.remainingMs,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const athena = deployment.athenaWorkgroup
    ? { client: clients.athena, workgroup: deployment.athenaWorkgroup, remainingMs: options.remainingMs }
    : undefined;
  return {
    config,
    warehouse,
    lake: new S3Lake(clients.s3, deployment.bucket, config.lake.prefix, config.lake.reportsPrefix),
    catalog: new GlueCatalog(clients.glue, config, athena, options.sleep),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    remainingMs: options.remainingMs,
    ...(options.checks
      ? {
          extraChecks: () =>
            awsChecks(deployment, {
              ...(options.checks as CheckClients),
              glue: clients.glue,
              s3: clients.s3,
            }),
        }
      : {}),
  };
}
