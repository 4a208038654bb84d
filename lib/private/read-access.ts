import { Stack, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import type { ArchiveConfig } from '../../src/config/config';
import { ATHENA_RESULTS_PREFIX, lakeObjects } from './bucket';
import { GLUE_READ_ACTIONS, type ArchiveWorkgroup, type GlueCatalog } from './catalog';

/** What a reader of the archive is granted on. */
export interface ReadableArchive {
  readonly config: ArchiveConfig;
  readonly bucket: s3.IBucket;
  readonly catalog: GlueCatalog;
  readonly workgroup: ArchiveWorkgroup;
  readonly key?: kms.IKey;
}

/**
 * Lets `grantee` query the archive from Athena in its workgroup: run and read queries there, read
 * the catalog (and `default`, which Athena requires whatever database a query names: Athena User
 * Guide, "Fine-grained access to databases and tables in the AWS Glue Data Catalog"), read the
 * lake prefix, and write and read query results under the workgroup's result prefix (Athena
 * writes them with the caller's credentials). Lake Formation permissions, where the catalog uses
 * them, are granted apart.
 */
export function grantArchiveRead(grantee: iam.IGrantable, archive: ReadableArchive): iam.Grant {
  const { bucket, catalog, config } = archive;
  const stack = Stack.of(catalog.database);
  const prefixes = [config.lake.prefix, ATHENA_RESULTS_PREFIX];
  const grant = (
    actions: string[],
    resourceArns: string[],
    conditions?: Record<string, Record<string, unknown>>,
  ) => iam.Grant.addToPrincipal({ grantee, actions, resourceArns, ...(conditions ? { conditions } : {}) });
  const grants = [
    grant(
      [
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:GetWorkGroup',
      ],
      [archive.workgroup.arn],
    ),
    grant(GLUE_READ_ACTIONS, [
      ...catalog.arns,
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: 'default' }),
    ]),
    grant(['s3:GetObject'], [lakeObjects(bucket, config.lake.prefix)]),
    grant(
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      [lakeObjects(bucket, ATHENA_RESULTS_PREFIX)],
    ),
    grant(['s3:ListBucket'], [bucket.bucketArn], {
      StringLike: { 's3:prefix': prefixes.flatMap((p) => [`${p}/*`, `${p}/`]) },
    }),
    // Only ListBucket requests carry s3:prefix (see the Redshift role's statements).
    grant(['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'], [bucket.bucketArn]),
    ...(archive.key ? [archive.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey')] : []),
  ];
  return grants.reduce((all, next) => all.combine(next));
}
