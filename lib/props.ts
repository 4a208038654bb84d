import type { Duration, RemovalPolicy, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import type { ArchiveConfig } from '../src/config/types';

/** When the archive's objects move to a cheaper storage class. */
export interface ArchiveTransition {
  /** One of Standard-IA, Glacier Instant Retrieval or Intelligent-Tiering (without its archive tiers). */
  readonly storageClass: s3.StorageClass;
  /** Age of an object when it moves. */
  readonly after: Duration;
}

/** Properties of {@link RedshiftArchive}. */
export interface RedshiftArchiveProps {
  /** The validated configuration (`loadConfig` or `parseConfig`). */
  readonly config: ArchiveConfig;
  /**
   * An existing bucket for the lake; its own settings (encryption, versioning, lifecycle) stay the owner's.
   * @default - a new bucket: no public access, TLS only, encrypted, versioned, retained
   */
  readonly bucket?: s3.IBucket;
  /**
   * Encrypt the new bucket, the exported files, the queues and the alarm topic with this key.
   *
   * A `kms.Key` of this app gets the key-policy statements that CloudWatch (publishing alarms to
   * the topic) and EventBridge (sending to the dead-letter queue) need. An imported key's policy
   * is its owner's: synth warns with the statements to add.
   * @default - S3-managed keys for the bucket and exported files, SQS-managed keys for the queue,
   * and a customer managed key of its own for the alarm topic
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The customer managed key that encrypts `warehouse.secretArn`; both functions that read the
   * secret get `kms:Decrypt` on it through Secrets Manager. Only with a provisioned warehouse that
   * names `secretArn`.
   * @default - the secret uses the AWS managed key `aws/secretsmanager`
   */
  readonly secretKey?: kms.IKey;
  /**
   * What happens to the bucket, the Glue database and tables when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * When archived files move to a cheaper storage class that Athena and Spectrum can still read.
   * @default - Standard-IA after 90 days
   */
  readonly archiveTransition?: ArchiveTransition;
  /**
   * Send alarms to this address too.
   * @default - no e-mail subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * The most bytes one Athena query in the archive's workgroup may scan.
   * @default - 10 GiB
   */
  readonly athenaBytesScannedCutoffPerQuery?: number;
  /**
   * The name of the one IAM role that both functions which send SQL (the unload function and the
   * schema-and-views resource) use on Redshift Serverless. Serverless derives the database user
   * from the caller's role (`IAMR:<role name>`), so this name is the database identity: knowing it
   * before the first deploy lets its privileges be granted before the deploy runs SQL as it. IAM
   * names are global: two stacks of the same name in two Regions of one account need different
   * names. Only with a Serverless warehouse.
   * @default - `<stack name in lower case>-data-api`
   */
  readonly dataApiRoleName?: string;
  /**
   * Timeout of the unload Lambda; it stops waiting for Redshift a minute before it.
   * @default Duration.minutes(15)
   */
  readonly unloadTimeout?: Duration;
}
