import { App, Stack, aws_redshiftserverless as serverless } from 'aws-cdk-lib';
import { adminSecret, archiveIntegTest, isolatedSubnets } from './archive-test';
import { INTEG, INTEG_CONFIG } from './fixture';

/**
 * The integration test on a Redshift Serverless workgroup, run on the user's own account with
 * `npm run test:aws`, and compared offline with its snapshot in CI (test/integ/snapshot.ts): a
 * workgroup of the smallest base capacity in three isolated subnets, then what `archive-test.ts`
 * shares (the seed, the archive through the construct, the assertions through the function).
 * Environment agnostic: no account or Region is named.
 */
const app = new App();
const stack = new Stack(app, 'RedshiftArchiveIntegServerless', {
  description: 'redshift-archive integration test (Serverless): deleted when the test ends',
});
const admin = adminSecret(stack);
const namespace = new serverless.CfnNamespace(stack, 'Namespace', {
  namespaceName: INTEG.namespace,
  dbName: INTEG.database,
  adminUsername: INTEG.adminUser,
  adminUserPassword: admin.secretValueFromJson('password').unsafeUnwrap(),
});
const workgroup = new serverless.CfnWorkgroup(stack, 'Workgroup', {
  workgroupName: INTEG.workgroup,
  namespaceName: INTEG.namespace,
  // The smallest base capacity (MG "Compute capacity for Amazon Redshift Serverless"); where a
  // Region does not offer it, `npm run test:aws -- --base-capacity 8`.
  baseCapacity: Number(app.node.tryGetContext('baseCapacity') ?? 4),
  subnetIds: isolatedSubnets(stack).map((s) => s.ref),
  publiclyAccessible: false,
});
workgroup.node.addDependency(namespace);

archiveIntegTest(app, stack, 'ArchiveServerless', {
  config: INTEG_CONFIG,
  resource: workgroup,
  admin,
  target: { WorkgroupName: INTEG.workgroup },
  databaseUser: `IAMR:${INTEG.dataApiRole}`,
  dataApiRoleName: INTEG.dataApiRole,
});
app.synth();
