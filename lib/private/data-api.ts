import { ArnFormat, Stack, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ArchiveConfig } from '../../src/config/config';
import type { RedshiftArchiveProps } from '../props';
import { defaultDataApiRoleName } from './validate-props';

type Provisioned = Extract<ArchiveConfig['warehouse'], { type: 'provisioned' }>;

function clusterArn(stack: Stack, resource: string, name: string): string {
  return stack.formatArn({
    service: 'redshift',
    resource,
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** A provisioned cluster's credentials: the configured secret (and its key), or the database user. */
function clusterCredentials(stack: Stack, w: Provisioned, secretKey?: kms.IKey): iam.PolicyStatement[] {
  if (!w.secretArn) {
    return [
      new iam.PolicyStatement({
        sid: 'Credentials',
        actions: ['redshift:GetClusterCredentials'],
        resources: [
          clusterArn(stack, 'dbuser', `${w.clusterIdentifier}/${w.dbUser}`),
          clusterArn(stack, 'dbname', `${w.clusterIdentifier}/${w.database}`),
        ],
      }),
    ];
  }
  const secret = new iam.PolicyStatement({
    sid: 'Credentials',
    actions: ['secretsmanager:GetSecretValue'],
    resources: [w.secretArn],
  });
  if (!secretKey) return [secret];
  // GetSecretValue decrypts with the caller's own kms:Decrypt, through Secrets Manager
  // (Secrets Manager User Guide, "Secret encryption and decryption").
  const decrypt = new iam.PolicyStatement({
    sid: 'DecryptTheSecret',
    actions: ['kms:Decrypt'],
    resources: [secretKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
  });
  return [secret, decrypt];
}

/** What both functions that send SQL need of the Data API: statements on this warehouse, and its credentials. */
export function dataApiStatements(
  stack: Stack,
  config: ArchiveConfig,
  secretKey?: kms.IKey,
): iam.PolicyStatement[] {
  const w = config.warehouse;
  const follow = new iam.PolicyStatement({
    sid: 'FollowOwnStatements',
    // These four actions support no resource-level permissions (Data API authorization).
    actions: [
      'redshift-data:DescribeStatement',
      'redshift-data:GetStatementResult',
      'redshift-data:ListStatements',
      'redshift-data:CancelStatement',
    ],
    resources: ['*'],
  });
  const run = (resource: string) =>
    new iam.PolicyStatement({
      sid: 'RunStatements',
      actions: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
      resources: [resource],
    });
  if (w.type === 'provisioned') {
    return [
      follow,
      run(clusterArn(stack, 'cluster', w.clusterIdentifier)),
      ...clusterCredentials(stack, w, secretKey),
    ];
  }
  // A workgroup's ARN holds its id, which the configuration (a name) does not know.
  const workgroups = stack.formatArn({
    service: 'redshift-serverless',
    resource: 'workgroup',
    resourceName: '*',
  });
  const credentials = new iam.PolicyStatement({
    sid: 'Credentials',
    actions: ['redshift-serverless:GetCredentials'],
    resources: [workgroups],
  });
  return [follow, run(workgroups), credentials];
}

/** Who the stack's SQL runs as. */
export interface DatabaseIdentity {
  /**
   * The configured `dbUser`, the ARN of the configured secret, or on Serverless
   * `IAMR:<name of the shared role>`.
   */
  readonly databaseUser: string;
  /** Serverless: the one role of both functions that send SQL. */
  readonly role?: iam.Role;
}

/**
 * One database identity for both functions that send SQL. Provisioned: the configured dbUser or
 * secret, whatever the caller's role. Serverless: the Data API derives the user from the caller's
 * role (`IAMR:<role name>`; Redshift Management Guide, "Authorizing access to the Amazon Redshift
 * Data API"), so both functions run as one role, named so that its user is known before the
 * first deploy, and that user owns what setup creates.
 */
export function databaseIdentity(scope: Construct, props: RedshiftArchiveProps): DatabaseIdentity {
  const w = props.config.warehouse;
  if (w.type === 'provisioned') {
    // the configuration names exactly one of the two
    return { databaseUser: (w.dbUser ?? w.secretArn) as string };
  }
  const roleName = props.dataApiRoleName ?? defaultDataApiRoleName(Stack.of(scope).stackName);
  const role = new iam.Role(scope, 'DataApiRole', {
    roleName,
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    description:
      'The unload function and the schema-and-views resource: one Redshift Serverless database user (redshift-archive)',
  });
  return { databaseUser: `IAMR:${roleName}`, role };
}
