import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { RedshiftClient } from '@aws-sdk/client-redshift';
import type { RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ArchiveConfig } from '../../config/config';
import type { PreflightCheck } from '../../protocol/preflight';
import { describeCluster, getNamespace, namespaceOf } from './warehouse-roles';

/** The clients preflight's AWS checks read through; tests pass mocked ones. */
export interface CheckClients {
  readonly redshift: RedshiftClient;
  readonly serverless: RedshiftServerlessClient;
  readonly glue: GlueClient;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
}

/** What the checks need to know of the deployment. */
export interface CheckTarget {
  readonly config: ArchiveConfig;
  readonly bucket: string;
  readonly iamRoleArn: string;
}

/** Lambda keeps this much concurrency unreserved; a reservation may not take it (Lambda developer guide). */
export const UNRESERVED_MINIMUM = 100;

const message = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * What only AWS can say about the next run, read only: the role Redshift assumes is associated
 * with the warehouse and in sync; the archive's Glue tables are not governed by Lake Formation
 * (whose grants the stack does not make); the lake bucket answers; the account leaves Lambda its
 * unreserved concurrency. Each failed check names the fix.
 */
export async function awsChecks(target: CheckTarget, clients: CheckClients): Promise<PreflightCheck[]> {
  return [
    await roleAssociated(target, clients),
    ...(await lakeFormation(target, clients.glue)),
    await bucketReachable(target, clients.s3),
    await concurrency(clients.lambda),
  ];
}

async function roleAssociated(target: CheckTarget, clients: CheckClients): Promise<PreflightCheck> {
  const role = target.iamRoleArn;
  const w = target.config.warehouse;
  const check = 'role associated';
  try {
    if (w.type === 'provisioned') {
      const cluster = await describeCluster(clients.redshift, w.clusterIdentifier);
      const status = cluster?.roles.find((r) => r.IamRoleArn === role)?.ApplyStatus;
      const where = `cluster ${w.clusterIdentifier}`;
      if (status === 'in-sync') return { check, ok: true, detail: `${role} is associated with ${where}` };
      return {
        check,
        ok: false,
        detail: cluster ? `${role} is ${status ?? 'not associated'} with ${where}` : `${where} was not found`,
        fix: `aws redshift modify-cluster-iam-roles --cluster-identifier ${w.clusterIdentifier} --add-iam-roles ${role} (the stack does this unless warehouse.roleArn names the role), then wait until it is in-sync`,
      };
    }
    const namespace = await namespaceOf(clients.serverless, w.workgroupName);
    const roles = namespace ? (await getNamespace(clients.serverless, namespace))?.roles : undefined;
    const status = roles?.find((r) => r.arn === role)?.status;
    const where = `the namespace of workgroup ${w.workgroupName}`;
    if (status === 'in-sync') return { check, ok: true, detail: `${role} is associated with ${where}` };
    return {
      check,
      ok: false,
      detail: roles ? `${role} is ${status ?? 'not associated'} with ${where}` : `${where} was not found`,
      fix: `add ${role} to the namespace's IAM roles, keeping the others (the stack does this unless warehouse.roleArn names the role), then wait until it is in-sync`,
    };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: message(error),
      fix: 'let the function read the warehouse (redshift:DescribeClusters, or redshift-serverless:GetWorkgroup and GetNamespace)',
    };
  }
}

async function lakeFormation(target: CheckTarget, glue: GlueClient): Promise<PreflightCheck[]> {
  const database = target.config.catalog.database;
  const checks: PreflightCheck[] = [];
  for (const table of target.config.tables) {
    const name = table.alias.toLowerCase();
    const check = `lake formation ${name}`;
    try {
      const found = await glue.send(new GetTableCommand({ DatabaseName: database, Name: name }));
      checks.push(
        found.Table?.IsRegisteredWithLakeFormation
          ? {
              check,
              ok: false,
              detail: `the Glue table ${database}.${name} is governed by Lake Formation, whose grants the stack does not make`,
              fix: `grant SELECT and DESCRIBE on ${database}.${name} in Lake Formation to ${target.iamRoleArn} (Spectrum) and to this function's role (Athena)`,
            }
          : { check, ok: true, detail: `IAM alone governs ${database}.${name}` },
      );
    } catch (error) {
      checks.push({
        check,
        ok: false,
        detail: message(error),
        fix: 'deploy the stack (it defines the Glue tables)',
      });
    }
  }
  return checks;
}

async function bucketReachable(target: CheckTarget, s3: S3Client): Promise<PreflightCheck> {
  const check = 'lake bucket';
  try {
    await s3.send(
      new ListObjectsV2Command({
        Bucket: target.bucket,
        Prefix: `${target.config.lake.prefix}/`,
        MaxKeys: 1,
      }),
    );
    return { check, ok: true, detail: `s3://${target.bucket}/${target.config.lake.prefix}/ answers` };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: message(error),
      fix: `let this function list s3://${target.bucket} (and check the bucket exists)`,
    };
  }
}

async function concurrency(lambda: LambdaClient): Promise<PreflightCheck> {
  const check = 'lambda concurrency';
  try {
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
    return unreserved >= UNRESERVED_MINIMUM
      ? { check, ok: true, detail: `${unreserved} unreserved concurrent executions in the account` }
      : {
          check,
          ok: false,
          detail: `only ${unreserved} unreserved concurrent executions in the account; Lambda keeps ${UNRESERVED_MINIMUM}, and the archive reserves 1`,
          fix: 'ask for a higher "Concurrent executions" quota in Service Quotas (AWS Lambda)',
        };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: message(error),
      fix: 'let the caller read the account settings (lambda:GetAccountSettings)',
    };
  }
}
