import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { ArchiveConfig, parseConfig, Reader } from '../config/config';
import { RESOURCE_KINDS, type ResourceKind } from '../contract';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import { Archiver } from '../protocol/archive';
import { externalSchemaStatement } from '../sql/redshift-dialect';
import { ArchiveSql } from '../sql/statements';
import type { AwsEngine, DeployedResources } from '../engines/aws/engine';

/*
 * The deploy-time SQL, as two custom resources of one provider, each with its own handler:
 * - `external-schema`: the external schema over the Glue database, named by warehouse, database
 *   and schema name, so a replacement of the views (a new views schema, say) never drops the
 *   schema that the new views read; a changed Glue database or role re-creates it in place;
 * - `views`: the ledger, the schema guard and the union views (its properties without
 *   `Resource` are those of the one resource that earlier versions had: it is the views).
 * Their properties are the contract's `SchemaAndViewsProps`.
 */

/** The provider framework's completion answer (its Data stays far under CloudFormation's 4 KB). */
export interface CompletionResult {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

/**
 * Opens the engine for one configuration; the handler adds the stack's statement prefix from its
 * environment (tests pass an engine on mocked clients).
 */
export type EngineFactory = (deployment: DeployedResources) => AwsEngine;

type Event = Pick<CloudFormationCustomResourceEvent, 'RequestType' | 'ResourceProperties'> & {
  readonly PhysicalResourceId?: string;
  readonly OldResourceProperties?: Record<string, unknown>;
};

/** While IAM propagates a new role or its association settles, Redshift may refuse to assume it. */
export const ASSUME_RETRY = { attempts: 12, waitMs: 15_000 } as const;
const NOT_AUTHORIZED = /not authorized to assume/i;

function kindOf(props: Record<string, unknown>): ResourceKind {
  const kind = props.Resource ?? 'views';
  if (!RESOURCE_KINDS.includes(kind as ResourceKind)) {
    throw new InputError(
      `ResourceProperties.Resource: ${show(kind)} is not allowed; allowed: ${RESOURCE_KINDS.map((k) => show(k)).join(' or ')}`,
    );
  }
  return kind as ResourceKind;
}

/** Validates the properties: a bad configuration fails the deployment before anything runs. */
export function deploymentOf(
  props: Record<string, unknown>,
  field = 'ResourceProperties',
): DeployedResources {
  let json: unknown;
  try {
    json = JSON.parse(String(props.Config));
  } catch (error) {
    throw new InputError(`${field}.Config: not valid JSON (${(error as Error).message})`);
  }
  return {
    config: parseConfig(json, `${field}.Config`),
    bucket: String(props.LakeBucket),
    iamRoleArn: String(props.RedshiftRoleArn),
    ...(props.KmsKeyId ? { kmsKeyId: String(props.KmsKeyId) } : {}),
    ...(props.AthenaWorkgroup ? { athenaWorkgroup: String(props.AthenaWorkgroup) } : {}),
  };
}

/**
 * Stable while what the resource names stays: the views by warehouse, database and views schema;
 * the external schema by warehouse, database and its name. A change of any replaces the resource
 * (CloudFormation creates the new one, then deletes the old one, so the old views go only after
 * the new ones exist).
 */
export function physicalId(kind: ResourceKind, config: ArchiveConfig): string {
  const w = config.warehouse;
  const target = w.type === 'serverless' ? `workgroup/${w.workgroupName}` : `cluster/${w.clusterIdentifier}`;
  const base = `redshift-archive:${target}/${w.database}`;
  return kind === 'views'
    ? `${base}/${config.views.schema}`
    : `${base}/external/${config.catalog.externalSchema}`;
}

/** The provider's onEvent: validates and names the resource; the work happens in {@link isComplete}. */
export async function onEvent(
  event: Event,
): Promise<Pick<CloudFormationCustomResourceResponse, 'PhysicalResourceId'>> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId as string };
  const props = event.ResourceProperties;
  return { PhysicalResourceId: physicalId(kindOf(props), deploymentOf(props).config) };
}

/**
 * The provider's isComplete, polled until it says so. Every step is idempotent, so a poll that
 * finds a statement still running simply asks again later; no statement is sent with an event.
 */
export async function isComplete(event: Event, open: EngineFactory): Promise<CompletionResult> {
  const deployment = deploymentOf(event.ResourceProperties);
  const engine = open(deployment);
  if ((await engine.warehouse.inFlight('setup')).length > 0) return { IsComplete: false };
  try {
    return kindOf(event.ResourceProperties) === 'external-schema'
      ? await externalSchema(event, deployment, engine)
      : await views(event, deployment, engine);
  } catch (error) {
    if (error instanceof StillRunningError) return { IsComplete: false };
    throw error;
  }
}

/**
 * Create: CREATE EXTERNAL SCHEMA (its own statement: it is not documented as allowed in a
 * transaction). Update: a changed Glue database or role re-creates it (DROP SCHEMA drops only
 * Redshift's mapping; the late-binding views read the new one). Delete: drops the mapping; the
 * Glue database and the lake are data, and stay.
 */
async function externalSchema(
  event: Event,
  deployment: DeployedResources,
  engine: AwsEngine,
): Promise<CompletionResult> {
  const sql = new ArchiveSql(deployment.config, engine.warehouse.dialect);
  if (event.RequestType === 'Delete') {
    await engine.warehouse.execute(sql.dropExternalSchema(), 'setup.delete.external-schema');
    return { IsComplete: true };
  }
  const old =
    event.RequestType === 'Update' && event.OldResourceProperties
      ? deploymentOf(event.OldResourceProperties, 'OldResourceProperties')
      : undefined;
  if (
    old &&
    (old.config.catalog.database !== deployment.config.catalog.database ||
      old.iamRoleArn !== deployment.iamRoleArn)
  ) {
    await engine.warehouse.execute(sql.dropExternalSchema(), 'setup.external-schema.replaced');
  }
  await whileAssuming(engine, deployment, () =>
    engine.warehouse.execute(externalSchemaStatement(deployment.config, deployment), 'setup.external-schema'),
  );
  return { IsComplete: true, Data: { ExternalSchema: deployment.config.catalog.externalSchema } };
}

/**
 * Create and Update: {@link Archiver.setup} (the ledger, the schema guard, the union views as the
 * ledger says: replaced where their columns stay the same, re-created where they changed, and
 * granted to `views.readers` either way); an Update also drops the views of tables that left the
 * configuration and revokes SELECT on the views from readers that left it (USAGE on schemas is
 * left alone: it may have been granted for other reasons). Delete: drops the views, never data.
 */
async function views(
  event: Event,
  deployment: DeployedResources,
  engine: AwsEngine,
): Promise<CompletionResult> {
  const { config } = deployment;
  const sql = new ArchiveSql(config, engine.warehouse.dialect);
  if (event.RequestType === 'Delete') {
    await engine.warehouse.transaction(
      sql.tables.map((t) => sql.dropView(t)),
      'setup.delete.views',
    );
    return { IsComplete: true };
  }
  await whileAssuming(engine, deployment, () => new Archiver(engine).setup());
  if (event.RequestType === 'Update' && event.OldResourceProperties) {
    const old = deploymentOf(event.OldResourceProperties, 'OldResourceProperties').config;
    const changes = [...removedViews(old, config, engine), ...revokes(old, config, engine)];
    if (changes.length > 0) await engine.warehouse.transaction(changes, 'setup.views.removed');
  }
  return { IsComplete: true, Data: { ViewsSchema: config.views.schema } };
}

/**
 * Runs `work`, again while Redshift refuses to assume the role (IAM propagates a new role, an
 * association settles), for a few minutes; then fails saying what to do.
 */
async function whileAssuming<T>(
  engine: AwsEngine,
  deployment: DeployedResources,
  work: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!NOT_AUTHORIZED.test(error instanceof Error ? error.message : '')) throw error;
      if (attempt >= ASSUME_RETRY.attempts) {
        throw new RunFailedError(
          `Redshift may not assume ${deployment.iamRoleArn} after ${Math.round((ASSUME_RETRY.attempts * ASSUME_RETRY.waitMs) / 60_000)} ` +
            'minutes: associate it with the cluster or namespace (the stack does unless warehouse.roleArn names it) and let it ' +
            `trust redshift.amazonaws.com; where ASSUMEROLE was revoked, GRANT ASSUMEROLE ON '${deployment.iamRoleArn}' TO the ` +
            `database user FOR ALL; then deploy again (${(error as Error).message})`,
        );
      }
      await (engine.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(
        ASSUME_RETRY.waitMs,
      );
    }
  }
}

/** DROP VIEW for the views of tables that the old configuration had and the new one has not. */
function removedViews(old: ArchiveConfig, config: ArchiveConfig, engine: AwsEngine): string[] {
  const oldSql = new ArchiveSql(old, engine.warehouse.dialect);
  const newSql = new ArchiveSql(config, engine.warehouse.dialect);
  const current = new Set(newSql.tables.map((t) => newSql.viewName(t)));
  return oldSql.tables.filter((t) => !current.has(oldSql.viewName(t))).map((t) => oldSql.dropView(t));
}

/** REVOKE SELECT on the (still configured) views from readers that left `views.readers`. */
function revokes(old: ArchiveConfig, config: ArchiveConfig, engine: AwsEngine): string[] {
  const key = (r: Reader) => `${r.kind} ${r.name}`;
  const kept = new Set(config.views.readers.map(key));
  const gone = old.views.readers.filter((r) => !kept.has(key(r)));
  const sql = new ArchiveSql(config, engine.warehouse.dialect);
  return gone.flatMap((r) =>
    sql.tables.flatMap((t) => engine.warehouse.dialect.revokeSelect(sql.viewName(t), r)),
  );
}
