import { App, Stack, aws_redshift as redshift } from 'aws-cdk-lib';
import { configJson, parseConfig } from '../../src/config/config';
import { adminSecret, archiveIntegTest, isolatedSubnets } from './archive-test';
import { INTEG, INTEG_CONFIG } from './fixture';

/**
 * The integration test on a provisioned cluster: the same seed, archive and assertions as on
 * Serverless (`archive-test.ts`), on one RA3 node in three isolated subnets, the functions
 * connecting as the database user `archiver` with temporary credentials (`dbUser`).
 */
const app = new App();
const stack = new Stack(app, 'RedshiftArchiveIntegProvisioned', {
  description: 'redshift-archive integration test (provisioned): deleted when the test ends',
});
const admin = adminSecret(stack);
const subnets = new redshift.CfnClusterSubnetGroup(stack, 'Subnets', {
  description: 'redshift-archive integration test',
  subnetIds: isolatedSubnets(stack).map((s) => s.ref),
});
const cluster = new redshift.CfnCluster(stack, 'Cluster', {
  clusterIdentifier: INTEG.cluster,
  clusterType: 'single-node',
  // The smallest RA3 node (Spectrum needs RA3 or DC2); `npm run test:aws -- --node-type ra3.xlplus`
  // where a Region does not offer it.
  nodeType: String(app.node.tryGetContext('nodeType') ?? 'ra3.large'),
  dbName: INTEG.database,
  masterUsername: INTEG.adminUser,
  masterUserPassword: admin.secretValueFromJson('password').unsafeUnwrap(),
  clusterSubnetGroupName: subnets.ref,
  publiclyAccessible: false,
  encrypted: true,
});

const config = parseConfig({
  ...JSON.parse(configJson(INTEG_CONFIG)),
  warehouse: {
    type: 'provisioned',
    clusterIdentifier: INTEG.cluster,
    database: INTEG.database,
    dbUser: 'archiver',
  },
});
archiveIntegTest(app, stack, 'ArchiveProvisioned', {
  config,
  resource: cluster,
  admin,
  target: { ClusterIdentifier: INTEG.cluster },
  databaseUser: 'archiver',
});
app.synth();
