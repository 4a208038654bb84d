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
import { bundledFunction } from './functions';

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
  const file = 'schema-and-views.ts';
  const onEvent = bundledFunction(scope, 'SchemaOnEvent', { file, exported: 'onEvent' }, config, {
    timeout: Duration.minutes(1),
    description: 'Validates and names the schema-and-views resource (redshift-archive)',
  });
  const isComplete = bundledFunction(scope, 'SchemaIsComplete', { file, exported: 'isComplete' }, config, {
    timeout: Duration.minutes(5),
    environment: { [ENV.statementPrefix]: options.statementPrefix },
    description: 'Creates the ledger, the external schema and the union views (redshift-archive)',
    ...(options.role ? { role: options.role } : {}),
  });
  // the shared Serverless role has these already, through the unload function
  if (!options.role) for (const statement of options.dataApi) isComplete.addToRolePolicy(statement);
  isComplete.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'CheckTables', actions: ['glue:GetTable'], resources: options.glueArns }),
  );
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
    return new CustomResource(scope, id, { serviceToken: provider.serviceToken, resourceType, properties });
  };
  const externalSchema = resource('ExternalSchema', 'external-schema', RESOURCE_TYPES.externalSchema);
  const views = resource('SchemaAndViews', 'views', RESOURCE_TYPES.views);
  views.node.addDependency(externalSchema);
  for (const table of options.tables) externalSchema.node.addDependency(table);
  return { externalSchema, views, provider, functions: [onEvent, isComplete] };
}
