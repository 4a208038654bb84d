import {
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  aws_athena as athena,
  aws_cloudwatch as cloudwatch,
  aws_glue as glue,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_s3 as s3,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { statementPrefix } from '../src/contract';
import type { RedshiftArchiveProps } from './props';
import { createAlarming } from './private/alarms';
import { createArchiveFunction, createDeadLetters } from './private/archive-function';
import { createLakeBucket } from './private/bucket';
import { createGlueCatalog, createWorkgroup } from './private/catalog';
import { databaseIdentity, dataApiStatements } from './private/data-api';
import { KeyPolicies } from './private/key-policies';
import { acknowledgeArchiveFindings } from './private/nag-reasons';
import { grantArchiveRead, ReadableArchive } from './private/read-access';
import { associateRole, createRedshiftRole } from './private/redshift-role';
import { createSchemaAndViews } from './private/schema-and-views';
import { validateProps } from './private/validate-props';
import { templateLimits } from './private/template-limits';

export type { ArchiveTransition, RedshiftArchiveProps } from './props';
export { ATHENA_RESULTS_PREFIX } from './private/bucket';

/** A Redshift archive, as teams that query it or watch it see it. */
export interface IRedshiftArchive extends IConstruct {
  /** The lake. */
  readonly bucket: s3.IBucket;
  /** The Glue database of the archive tables. */
  readonly database: glue.CfnDatabase;
  /** The Athena workgroup for querying the archive. */
  readonly workgroup: athena.CfnWorkGroup;
  /** The function that runs the archive protocol. */
  readonly unloadFunction: lambda.IFunction;
  /** Alarms go here. */
  readonly alarmTopic: sns.ITopic;
  /** The database identity of every function that sends SQL. */
  readonly databaseUser: string;
  /**
   * Lets `grantee` query the archive from Athena: the workgroup, the Glue tables, the lake prefix
   * and the workgroup's query results. Redshift readers are granted through `views.readers`.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * The whole yearly archival of Redshift tables to an S3 Parquet lake: the bucket, the Glue
 * database and tables, an Athena workgroup, the role Redshift uses for UNLOAD and Spectrum, the
 * unload Lambda and its triggers, the custom resources that create the schemas and union views,
 * and the alarms. Each concern is built in `lib/private/`.
 */
export class RedshiftArchive extends Construct implements IRedshiftArchive {
  readonly bucket: s3.IBucket;
  readonly database: glue.CfnDatabase;
  /** One external table per configured table, in configuration order. */
  readonly tables: glue.CfnTable[];
  readonly workgroup: athena.CfnWorkGroup;
  /**
   * The role that Redshift assumes for UNLOAD and Spectrum: the stack's own, which it associates
   * with the cluster or namespace, or the one `warehouse.roleArn` names (its owner's).
   */
  readonly redshiftRole: iam.IRole;
  /**
   * The resource that associates the stack's own Redshift role with the warehouse and waits until
   * it is in sync; the external schema is created after it.
   * @default - none when `warehouse.roleArn` names a role that is already associated
   */
  readonly roleAssociation?: CustomResource;
  /**
   * The one database identity of every function that sends SQL: the configured `dbUser`, the ARN
   * of the configured secret, or on Serverless `IAMR:<name of the shared role>`. Grant it the
   * privileges the README lists.
   */
  readonly databaseUser: string;
  readonly unloadFunction: lambda.IFunction;
  /** Failed asynchronous invocations of the unload function and of its rules. */
  readonly deadLetters: sqs.Queue;
  /** The external schema over the Glue database. */
  readonly externalSchema: CustomResource;
  /** The ledger, the schema guard, the union views and the readers' grants. */
  readonly views: CustomResource;
  readonly alarmTopic: sns.ITopic;
  /** Errors, dead letters, an unfinished run, a failing preflight, a damaged archive (the audit). */
  readonly alarms: cloudwatch.Alarm[];
  private readonly readable: ReadableArchive;

  constructor(scope: Construct, id: string, props: RedshiftArchiveProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateProps(props, stack.stackName);
    this.node.addValidation(templateLimits(stack));
    const { config, encryptionKey: key } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const keyPolicies = new KeyPolicies(this);
    // Both functions that send Data API statements name them with it, and the rule matches it.
    const prefix = statementPrefix(stack.stackName);

    const { bucket, catalog, workgroup } = this.lake(props, removalPolicy);
    this.bucket = bucket;
    [this.database, this.tables, this.workgroup] = [catalog.database, catalog.tables, workgroup.workgroup];
    const keyed = key ? { key } : {};
    this.readable = { config, bucket, catalog, workgroup, ...keyed };
    this.redshiftRole = createRedshiftRole(this, config, { bucket, glueArns: catalog.arns, ...keyed });

    const identity = databaseIdentity(this, props);
    this.databaseUser = identity.databaseUser;
    this.deadLetters = createDeadLetters(this, key, keyPolicies);
    const shared = {
      config,
      bucket: this.bucket,
      redshiftRole: this.redshiftRole,
      statementPrefix: prefix,
      dataApi: dataApiStatements(stack, config, props.secretKey),
      ...(identity.role ? { role: identity.role } : {}),
      ...keyed,
    };
    this.unloadFunction = createArchiveFunction(this, {
      ...shared,
      catalog,
      workgroup,
      deadLetters: this.deadLetters,
      timeout: props.unloadTimeout ?? Duration.minutes(15),
    });

    const sql = createSchemaAndViews(this, {
      ...shared,
      workgroupName: workgroup.name,
      glueArns: catalog.arns,
      tables: catalog.tables,
    });
    [this.externalSchema, this.views] = [sql.externalSchema, sql.views];
    const association = this.associateBeforeUse();
    this.roleAssociation = association?.resource;

    [this.alarmTopic, this.alarms] = createAlarming(this, {
      removalPolicy,
      keyPolicies,
      unloadFunction: this.unloadFunction,
      deadLetters: this.deadLetters,
      ...keyed,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });
    acknowledgeArchiveFindings(this, {
      config,
      bucket: this.bucket,
      deadLetters: this.deadLetters,
      providers: [sql.provider, ...(association ? [association.provider] : [])],
      functions: [this.unloadFunction, ...sql.functions, ...(association?.functions ?? [])],
    });
    keyPolicies.warnOwner();
  }

  /** The bucket (the given one, or a new one), the Glue catalog over it and the Athena workgroup. */
  private lake(props: RedshiftArchiveProps, removalPolicy: RemovalPolicy) {
    const { config, encryptionKey: key } = props;
    const bucket = props.bucket ?? createLakeBucket(this, props, removalPolicy);
    return {
      bucket,
      catalog: createGlueCatalog(this, config, bucket, removalPolicy),
      workgroup: createWorkgroup(this, config, bucket, {
        ...(key ? { key } : {}),
        ...(props.athenaBytesScannedCutoffPerQuery
          ? { bytesScannedCutoffPerQuery: props.athenaBytesScannedCutoffPerQuery }
          : {}),
      }),
    };
  }

  /**
   * CREATE EXTERNAL SCHEMA names the role, and Spectrum reads with it: its policy must be attached
   * and the role associated with the warehouse, in sync, first. The role's ARN already orders the
   * role itself; its policy and its association are resources of their own. A role of
   * warehouse.roleArn is its owner's: associated and allowed before the deploy (synth says so).
   */
  private associateBeforeUse() {
    if (!(this.redshiftRole instanceof iam.Role)) return undefined;
    this.externalSchema.node.addDependency(this.redshiftRole.node.findChild('DefaultPolicy'));
    const association = associateRole(this, this.readable.config, this.redshiftRole);
    this.externalSchema.node.addDependency(association.resource);
    return association;
  }

  grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantArchiveRead(grantee, this.readable);
  }
}
