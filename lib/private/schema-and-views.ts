import {
  CustomResource,
  Duration,
  aws_glue as glue,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_s3 as s3,
  custom_resources as cr,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArchiveConfig, configDigest, footprintJson } from '../../src/config/config';
import { ENV, RESOURCE_TYPES, type ResourceKind, type SchemaAndViewsProps } from '../../src/contract';
import { InputError } from '../../src/core/errors';
import { prebuiltFunction } from './functions';

/** What the deploy-time SQL is given. */
export interface SchemaAndViewsOptions {
  readonly config: ArchiveConfig;
  readonly bucket: s3.IBucket;
  readonly redshiftRole: iam.IRole;
  readonly workgroupName: string;
  readonly glueArns: string[];
  /** The external schema reads these: it is created after them. */
  readonly tables: glue.CfnTable[];
  readonly statementPrefix: string;
  /** Statements on the warehouse and its credentials (a Serverless role has them already). */
  readonly dataApi: iam.PolicyStatement[];
  readonly role?: iam.Role;
  readonly key?: kms.IKey;
}

/** The deploy-time SQL: its two resources, and what cdk-nag findings it brings. */
export interface SchemaAndViews {
  /** The external schema over the Glue database. */
  readonly externalSchema: CustomResource;
  /** The ledger, the schema guard, the union views and the readers' grants. */
  readonly views: CustomResource;
  readonly provider: cr.Provider;
  readonly functions: lambda.IFunction[];
}

/**
 * The external schema and the union views, through the provider framework (long statements are
 * polled). Two resources of one provider: the external schema is named apart from the views, so
 * that replacing the views (a new views schema) never drops the schema the new views read.
 */
export function createSchemaAndViews(scope: Construct, options: SchemaAndViewsOptions): SchemaAndViews {
  const { config, key } = options;
  const onEvent = prebuiltFunction(scope, 'SchemaOnEvent', 'schema-and-views.onEvent', {
    timeout: Duration.minutes(1),
    description: 'Validates and names the schema-and-views resource (redshift-archive)',
  });
  const isComplete = prebuiltFunction(scope, 'SchemaIsComplete', 'schema-and-views.isComplete', {
    timeout: Duration.minutes(5),
    environment: { [ENV.statementPrefix]: options.statementPrefix },
    description: 'Creates the ledger, the external schema and the union views (redshift-archive)',
    // the resource's properties carry only the configuration's digest: the function applies the
    // configuration written beside it, and only if its digest is that one
    config,
    ...(options.role ? { role: options.role } : {}),
  });
  // the shared Serverless role has these already, through the unload function
  if (!options.role) for (const statement of options.dataApi) isComplete.addToRolePolicy(statement);
  isComplete.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'CheckTables', actions: ['glue:GetTable'], resources: options.glueArns }),
  );
  // Setup registers every committed batch's partition again from the ledger (docs/design.md §5);
  // the shared Serverless role may do so already, through the unload function.
  if (!options.role) {
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RegisterCommittedPartitions',
        actions: [
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchCreatePartition',
          'glue:BatchDeletePartition',
        ],
        resources: options.glueArns,
      }),
    );
  }
  const provider = new cr.Provider(scope, 'SchemaProvider', {
    onEventHandler: onEvent,
    isCompleteHandler: isComplete,
    queryInterval: Duration.seconds(15),
    totalTimeout: Duration.hours(1),
  });
  const resource = (id: string, kind: ResourceKind, resourceType: string) => {
    const properties: SchemaAndViewsProps = {
      Resource: kind,
      ConfigDigest: configDigest(config),
      Footprint: footprintJson(config),
      LakeBucket: options.bucket.bucketName,
      RedshiftRoleArn: options.redshiftRole.roleArn,
      ...(key ? { KmsKeyId: key.keyId } : {}),
      AthenaWorkgroup: options.workgroupName,
    };
    checkEventSize(properties);
    return new CustomResource(scope, id, { serviceToken: provider.serviceToken, resourceType, properties });
  };
  const externalSchema = resource('ExternalSchema', 'external-schema', RESOURCE_TYPES.externalSchema);
  const views = resource('SchemaAndViews', 'views', RESOURCE_TYPES.views);
  views.node.addDependency(externalSchema);
  for (const table of options.tables) externalSchema.node.addDependency(table);
  return { externalSchema, views, provider, functions: [onEvent, isComplete] };
}

/**
 * The provider framework runs isComplete in a Step Functions state machine whose input, the
 * CloudFormation event, may be at most 256 KiB ("Maximum input or output size for a task, state,
 * or execution", Step Functions quotas); an update's event holds the old and the new properties.
 * The properties hold a digest and a footprint, not the configuration, so only a configuration far
 * past the other limits reaches this; it fails the synthesis saying so instead of the deployment.
 */
export function checkEventSize(properties: SchemaAndViewsProps): void {
  const bytes = Buffer.byteLength(JSON.stringify(properties));
  // old and new properties, and the event's own fields (ids, URLs, names: far under 8 KB)
  if (2 * bytes + 8_192 > 262_144) {
    throw new InputError(
      `config: the custom resources' properties are ${bytes} bytes, and an update's event carries them twice, more than ` +
        'the provider framework passes (262144); allowed: fewer tables or views.readers per stack',
    );
  }
}
