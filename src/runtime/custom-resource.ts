import { createHash } from 'node:crypto';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import {
  ArchiveConfig,
  configDigest,
  Footprint,
  footprintOfConfigJson,
  parseFootprint,
  Reader,
} from '../config/config';
import { RESOURCE_KINDS, type ResourceKind } from '../contract';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import { Archiver } from '../protocol/archive';
import { externalSchemaStatement } from '../sql/redshift-dialect';
import { ArchiveSql, dropViewStatement } from '../sql/statements';
import { quoteIdent } from '../sql/identifiers';
import type { AwsEngine, DeployedResources } from '../engines/aws/engine';

/*
 * The deploy-time SQL, as two custom resources of one provider, each with its own handler:
 * - `external-schema`: the external schema over the Glue database, named by warehouse, database
 *   and schema name, so a replacement of the views (a new views schema, say) never drops the
 *   schema that the new views read; a changed Glue database or role re-creates it in place;
 * - `views`: the ledger, the schema guard and the union views (its properties without
 *   `Resource` are those of the one resource that earlier versions had: it is the views).
 * Their properties are the contract's `SchemaAndViewsProps`: the digest of the configuration and
 * its footprint, never the configuration itself, which the handler reads from its own bundle.
 */

/** The provider framework's completion answer (its Data stays far under CloudFormation's 4 KB). */
export interface CompletionResult {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

/**
 * Opens the engine for one deployment; the handler adds the stack's statement prefix from its
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

function json(text: unknown, field: string): unknown {
  try {
    return JSON.parse(String(text));
  } catch (error) {
    throw new InputError(`${field}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * What a resource owns, from its properties: the `Footprint`, or for a resource that an earlier
 * version deployed, the footprint of the configuration it passed whole (`Config`).
 */
export function footprintOf(props: Record<string, unknown>, field = 'ResourceProperties'): Footprint {
  if (props.Footprint !== undefined)
    return parseFootprint(json(props.Footprint, `${field}.Footprint`), `${field}.Footprint`);
  if (props.Config !== undefined)
    return footprintOfConfigJson(json(props.Config, `${field}.Config`), `${field}.Config`);
  throw new InputError(
    `${field}.Footprint: is missing; allowed: the footprint of the configuration, as the stack writes it`,
  );
}

/** The digest of the configuration the properties name (earlier versions: of the `Config` they held). */
function digestOf(props: Record<string, unknown>): string | undefined {
  if (typeof props.ConfigDigest === 'string') return props.ConfigDigest;
  // earlier versions passed configJson(config), whose SHA-256 is configDigest(config)
  return typeof props.Config === 'string'
    ? createHash('sha256').update(props.Config).digest('hex')
    : undefined;
}

/** The deployed resources the properties name, with the configuration bundled with the handler. */
function deploymentOf(props: Record<string, unknown>, config: ArchiveConfig): DeployedResources {
  return {
    config,
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
export function physicalId(kind: ResourceKind, footprint: Footprint): string {
  const w = footprint.warehouse;
  const target = w.type === 'serverless' ? `workgroup/${w.workgroupName}` : `cluster/${w.clusterIdentifier}`;
  const base = `redshift-archive:${target}/${w.database}`;
  return kind === 'views'
    ? `${base}/${footprint.viewsSchema}`
    : `${base}/external/${footprint.externalSchema}`;
}

/** The provider's onEvent: validates and names the resource; the work happens in {@link isComplete}. */
export async function onEvent(
  event: Event,
): Promise<Pick<CloudFormationCustomResourceResponse, 'PhysicalResourceId'>> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId as string };
  const props = event.ResourceProperties;
  return { PhysicalResourceId: physicalId(kindOf(props), footprintOf(props)) };
}

/**
 * The provider's isComplete, polled until it says so. Every step is idempotent, so a poll that
 * finds a statement still running simply asks again later; no statement is sent with an event.
 * A delete works from the properties alone (it may remove what an older configuration made); a
 * create or update applies `bundled`, the configuration that ships with the handler, and only
 * when it is the one the properties name (`ConfigDigest`).
 */
export async function isComplete(
  event: Event,
  open: EngineFactory,
  bundled: ArchiveConfig,
): Promise<CompletionResult> {
  const props = event.ResourceProperties;
  const kind = kindOf(props);
  const footprint = footprintOf(props);
  if (event.RequestType !== 'Delete') {
    const mismatch = bundledMismatch(event, bundled);
    if (mismatch) return mismatch;
  }
  // a delete reaches the warehouse (and the procedures' schema) that the resource was made in
  const config =
    event.RequestType === 'Delete'
      ? {
          ...bundled,
          warehouse: footprint.warehouse,
          ledger: { ...bundled.ledger, schema: footprint.ledgerSchema },
        }
      : bundled;
  const deployment = deploymentOf(props, config);
  const engine = open(deployment);
  if ((await engine.warehouse.inFlight('setup')).length > 0) return { IsComplete: false };
  try {
    return kind === 'external-schema'
      ? await externalSchema(event, deployment, footprint, engine)
      : await views(event, deployment, footprint, engine);
  } catch (error) {
    if (error instanceof StillRunningError) return { IsComplete: false };
    throw error;
  }
}

/**
 * Undefined when the bundled configuration is the one the properties name. CloudFormation rolls
 * a failed update back with an update to the old properties, and may send it while the function
 * still has the new code (resources roll back in the reverse order of the update): then the
 * bundled configuration is the update's own, whose views transaction either never committed (the
 * update failed here) or was complete; nothing is changed, and the next deployment applies its
 * configuration. Any other difference fails, saying so.
 */
function bundledMismatch(event: Event, bundled: ArchiveConfig): CompletionResult | undefined {
  const wanted = digestOf(event.ResourceProperties);
  const own = configDigest(bundled);
  if (wanted === own) return undefined;
  if (
    event.RequestType === 'Update' &&
    event.OldResourceProperties &&
    digestOf(event.OldResourceProperties) === own
  ) {
    return {
      IsComplete: true,
      Data: { Skipped: 'rollback to another configuration than the bundled one: nothing changed' },
    };
  }
  throw new InputError(
    `ResourceProperties.ConfigDigest: ${show(wanted)} is not allowed; allowed: ${show(own)}, the digest of the ` +
      'configuration bundled with this function (deploy the stack again so that function and resource agree)',
  );
}

/**
 * Create: CREATE EXTERNAL SCHEMA (its own statement: it is not documented as allowed in a
 * transaction). Update: a changed Glue database or role re-creates it (DROP SCHEMA drops only
 * Redshift's mapping; the late-binding views read the new one). Delete: drops the mapping named in
 * the properties; the Glue database and the lake are data, and stay.
 */
async function externalSchema(
  event: Event,
  deployment: DeployedResources,
  footprint: Footprint,
  engine: AwsEngine,
): Promise<CompletionResult> {
  const drop = `DROP SCHEMA IF EXISTS ${quoteIdent(footprint.externalSchema)}`;
  if (event.RequestType === 'Delete') {
    await engine.warehouse.execute(drop, 'setup.delete.external-schema');
    return { IsComplete: true };
  }
  const old =
    event.RequestType === 'Update' && event.OldResourceProperties
      ? {
          footprint: footprintOf(event.OldResourceProperties, 'OldResourceProperties'),
          role: event.OldResourceProperties.RedshiftRoleArn,
        }
      : undefined;
  if (old && (old.footprint.glueDatabase !== footprint.glueDatabase || old.role !== deployment.iamRoleArn)) {
    await engine.warehouse.execute(drop, 'setup.external-schema.replaced');
  }
  await whileAssuming(engine, deployment, () =>
    engine.warehouse.execute(externalSchemaStatement(deployment.config, deployment), 'setup.external-schema'),
  );
  return { IsComplete: true, Data: { ExternalSchema: deployment.config.catalog.externalSchema } };
}

/**
 * Create and Update: {@link Archiver.setup} (the ledger, the schema guard, the union views as the
 * ledger says: replaced where their columns stay the same, re-created where they changed, and
 * granted to `views.readers` either way); an Update also drops, in the same transaction, the views
 * of tables that left the configuration and revokes SELECT on the views from readers that left it
 * (USAGE on schemas is left alone: it may have been granted for other reasons). Delete: drops the
 * views the properties name, never data.
 */
async function views(
  event: Event,
  deployment: DeployedResources,
  footprint: Footprint,
  engine: AwsEngine,
): Promise<CompletionResult> {
  if (event.RequestType === 'Delete') {
    await engine.warehouse.transaction(
      footprint.views.map((v) => dropViewStatement(footprint.viewsSchema, v)),
      'setup.delete.views',
    );
    return { IsComplete: true };
  }
  const { config } = deployment;
  const retired =
    event.RequestType === 'Update' && event.OldResourceProperties
      ? retiredBy(footprintOf(event.OldResourceProperties, 'OldResourceProperties'), config, engine)
      : [];
  await whileAssuming(engine, deployment, () => new Archiver(engine).setup(retired));
  return { IsComplete: true, Data: { ViewsSchema: config.views.schema } };
}

/**
 * What an update retires of the configuration it replaces: DROP VIEW for the views that the old
 * configuration had and the new one has not, and REVOKE SELECT on the (still configured) views
 * from readers that left `views.readers`.
 */
function retiredBy(old: Footprint, config: ArchiveConfig, engine: AwsEngine): string[] {
  const sql = new ArchiveSql(config, engine.warehouse.dialect);
  const current = new Set(sql.tables.map((t) => `${config.views.prefix}${t.alias}`.toLowerCase()));
  const sameSchema = old.viewsSchema.toLowerCase() === config.views.schema.toLowerCase();
  const drops = old.views
    .filter((v) => !sameSchema || !current.has(v.toLowerCase()))
    .map((v) => dropViewStatement(old.viewsSchema, v));
  const key = (r: Reader) => `${r.kind} ${r.name}`;
  const kept = new Set(config.views.readers.map(key));
  const revokes = old.readers
    .filter((r) => !kept.has(key(r)))
    .flatMap((r) => sql.tables.flatMap((t) => engine.warehouse.dialect.revokeSelect(sql.viewName(t), r)));
  return [...drops, ...revokes];
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
