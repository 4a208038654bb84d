import {
  Annotations,
  ArnFormat,
  CustomResource,
  Duration,
  Stack,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_s3 as s3,
  custom_resources as cr,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ArchiveConfig } from '../../src/config/config';
import { RESOURCE_TYPES, type RoleAssociationProps } from '../../src/contract';
import { lakeObjects } from './bucket';
import { GLUE_READ_ACTIONS } from './catalog';
import { prebuiltFunction } from './functions';

/** The services that assume the role Redshift uses for UNLOAD and Spectrum. */
const REDSHIFT_SERVICES = ['redshift.amazonaws.com', 'redshift-serverless.amazonaws.com'];

/** What the role Redshift assumes must allow: UNLOAD to and Spectrum reads of the lake prefix, the catalog. */
function redshiftRoleStatements(
  config: ArchiveConfig,
  bucket: s3.IBucket,
  glueArns: string[],
): iam.PolicyStatement[] {
  const prefix = config.lake.prefix;
  return [
    // The actions of the minimal Spectrum policy (Redshift Developer Guide, "IAM policies for Amazon
    // Redshift Spectrum"), and AbortMultipartUpload so a failed multipart UNLOAD can clean up its parts.
    new iam.PolicyStatement({
      sid: 'UnloadAndReadTheLake',
      actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      resources: [lakeObjects(bucket, prefix)],
    }),
    new iam.PolicyStatement({
      sid: 'ListTheLake',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, `${prefix}/`] } },
    }),
    // Only ListBucket requests carry s3:prefix; a condition on a key the request lacks is false (IAM
    // User Guide, "Condition operators"), so these two must not share the statement above.
    new iam.PolicyStatement({
      sid: 'LocateTheLakeAndItsUploads',
      actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
      resources: [bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadTheCatalog',
      actions: GLUE_READ_ACTIONS,
      resources: glueArns,
    }),
  ];
}

/**
 * The role Redshift assumes: write and read the lake prefix only, read the catalog. The stack's
 * own, or the one `warehouse.roleArn` names, which is its owner's: an imported role takes no
 * policy (CDK's immutable role would drop statements silently), so synth warns with what the
 * owner must allow, and what else the role needs to be usable.
 */
export function createRedshiftRole(
  scope: Construct,
  config: ArchiveConfig,
  lake: { readonly bucket: s3.IBucket; readonly glueArns: string[]; readonly key?: kms.IKey },
): iam.IRole {
  const statements = redshiftRoleStatements(config, lake.bucket, lake.glueArns);
  const { key } = lake;
  const w = config.warehouse;
  if (!w.roleArn) {
    const role = new iam.Role(scope, 'RedshiftRole', {
      assumedBy: new iam.CompositePrincipal(...REDSHIFT_SERVICES.map((s) => new iam.ServicePrincipal(s))),
      description: 'Redshift UNLOAD to the archive lake and Spectrum reads of it (redshift-archive)',
    });
    for (const statement of statements) role.addToPolicy(statement);
    key?.grantEncryptDecrypt(role);
    return role;
  }
  if (key) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'UseTheArchiveKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        resources: [key.keyArn],
      }),
    );
  }
  const warehouse =
    w.type === 'provisioned'
      ? `cluster ${w.clusterIdentifier}`
      : `the namespace of workgroup ${w.workgroupName}`;
  Annotations.of(scope).addWarningV2(
    'redshift-archive:warehouse.roleArn',
    `warehouse.roleArn names a role of your own (${w.roleArn}), so the stack neither changes nor associates ` +
      `it: it must trust ${REDSHIFT_SERVICES.join(' and ')} (sts:AssumeRole), be associated with ${warehouse} ` +
      '(in-sync) before the deploy creates the external schema, and allow these statements: ' +
      JSON.stringify(statements.map((st) => Stack.of(scope).resolve(st.toStatementJson()))),
  );
  return iam.Role.fromRoleArn(scope, 'RedshiftRole', w.roleArn, { mutable: false });
}

/** The role association: the resource, and what cdk-nag findings it brings. */
export interface RoleAssociation {
  readonly resource: CustomResource;
  readonly provider: cr.Provider;
  readonly functions: lambda.IFunction[];
}

/** What the association's functions may do to the cluster or the namespace. */
function associationStatements(config: ArchiveConfig, stack: Stack, role: iam.IRole) {
  const w = config.warehouse;
  // Associating a role with a cluster or a namespace passes it to Redshift.
  const pass = new iam.PolicyStatement({
    sid: 'PassTheRedshiftRole',
    actions: ['iam:PassRole'],
    resources: [role.roleArn],
  });
  if (w.type === 'provisioned') {
    const cluster = stack.formatArn({
      service: 'redshift',
      resource: 'cluster',
      resourceName: w.clusterIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return {
      onEvent: [],
      isComplete: [
        pass,
        new iam.PolicyStatement({
          sid: 'AssociateWithTheCluster',
          actions: ['redshift:DescribeClusters', 'redshift:ModifyClusterIamRoles'],
          resources: [cluster],
        }),
      ],
    };
  }
  // Workgroup and namespace ARNs hold ids, which the configuration (a name) does not know.
  const any = (resource: string) =>
    stack.formatArn({ service: 'redshift-serverless', resource, resourceName: '*' });
  return {
    onEvent: [
      new iam.PolicyStatement({
        sid: 'FindTheNamespace',
        actions: ['redshift-serverless:GetWorkgroup'],
        resources: [any('workgroup')],
      }),
    ],
    isComplete: [
      pass,
      new iam.PolicyStatement({
        sid: 'AssociateWithTheNamespace',
        actions: ['redshift-serverless:GetNamespace', 'redshift-serverless:UpdateNamespace'],
        resources: [any('namespace')],
      }),
    ],
  };
}

/**
 * Associates the stack's own Redshift role with the cluster or the Serverless namespace (other
 * roles stay) and waits until it is in sync; removes only it on delete. A provider-framework
 * resource (src/runtime/role-association.ts) whose response is its physical id alone.
 *
 * Serverless too, by default: the namespace's roles are read, ours added and the whole list
 * written back with the default role (UpdateNamespace has no "add"). That read-then-write is not
 * atomic, and a namespace whose roles another template declares
 * (`AWS::RedshiftServerless::Namespace.IamRoles`) gets its list written back on that template's
 * next update, without ours. For such a namespace, declare the role there and name it in
 * `warehouse.roleArn`: the stack then associates nothing.
 */
export function associateRole(scope: Construct, config: ArchiveConfig, role: iam.IRole): RoleAssociation {
  const onEvent = prebuiltFunction(scope, 'AssociationOnEvent', 'role-association.onEvent', {
    timeout: Duration.minutes(1),
    description: 'Validates and names the Redshift role association (redshift-archive)',
  });
  const isComplete = prebuiltFunction(scope, 'AssociationIsComplete', 'role-association.isComplete', {
    // one poll may wait 90 s for IAM to make the new role usable (PROPAGATION in the runtime)
    timeout: Duration.minutes(3),
    description:
      'Associates the Redshift role with the warehouse and waits until it is in sync (redshift-archive)',
  });
  const statements = associationStatements(config, Stack.of(scope), role);
  for (const statement of statements.isComplete) isComplete.addToRolePolicy(statement);
  for (const statement of statements.onEvent) onEvent.addToRolePolicy(statement);
  const provider = new cr.Provider(scope, 'AssociationProvider', {
    onEventHandler: onEvent,
    isCompleteHandler: isComplete,
    queryInterval: Duration.seconds(10),
    // a namespace or cluster busy with another change is waited for, not failed
    totalTimeout: Duration.minutes(30),
  });
  const w = config.warehouse;
  const properties: RoleAssociationProps =
    w.type === 'provisioned'
      ? { ClusterIdentifier: w.clusterIdentifier, RoleArn: role.roleArn }
      : { WorkgroupName: w.workgroupName, RoleArn: role.roleArn };
  const resource = new CustomResource(scope, 'RoleAssociation', {
    serviceToken: provider.serviceToken,
    resourceType: RESOURCE_TYPES.roleAssociation,
    properties,
  });
  return { resource, provider, functions: [onEvent, isComplete] };
}
