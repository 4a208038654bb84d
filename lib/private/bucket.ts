import { Duration, RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { RedshiftArchiveProps } from '../props';

/** Where Athena writes query results in the lake bucket; no archive table reads it. */
export const ATHENA_RESULTS_PREFIX = 'athena-results';

/** The ARN pattern of every object under `prefix` of the lake. */
export function lakeObjects(bucket: s3.IBucket, prefix: string): string {
  return bucket.arnForObjects(`${prefix}/*`);
}

/**
 * The lake: no public access, TLS only, encrypted, versioned; archived files move to a storage
 * class Athena and Spectrum still read, and what retries and clears leave behind expires.
 */
export function createLakeBucket(
  scope: Construct,
  props: RedshiftArchiveProps,
  removalPolicy: RemovalPolicy,
): s3.Bucket {
  const { config } = props;
  const transition = props.archiveTransition ?? {
    storageClass: s3.StorageClass.INFREQUENT_ACCESS,
    after: Duration.days(90),
  };
  return new s3.Bucket(scope, 'Lake', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: props.encryptionKey,
    bucketKeyEnabled: props.encryptionKey ? true : undefined,
    removalPolicy,
    lifecycleRules: [
      {
        id: 'ArchiveToReadableColdStorage',
        prefix: `${config.lake.prefix}/`,
        transitions: [{ storageClass: transition.storageClass, transitionAfter: transition.after }],
        // Versions replaced or deleted by a retried export are not archive: they go after 30 days.
        noncurrentVersionExpiration: Duration.days(30),
        // Clearing a run's files leaves delete markers; once their versions expire, the markers go
        // too. S3 refuses ExpiredObjectDeleteMarker beside Expiration days in one rule (S3 API,
        // LifecycleExpiration), which this rule has none of; the Athena results rule's days
        // expiration removes its expired markers itself (S3 User Guide, lifecycle examples).
        expiredObjectDeleteMarker: true,
      },
      {
        id: 'ExpireAthenaResults',
        prefix: `${ATHENA_RESULTS_PREFIX}/`,
        expiration: Duration.days(30),
        noncurrentVersionExpiration: Duration.days(1),
      },
      { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
    ],
  });
}
