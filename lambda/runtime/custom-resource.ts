import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { ArchiveConfig, parseConfig } from '../config/config';
import { InputError, StillRunningError } from '../core/errors';
import { Archiver } from '../protocol/archive';
import { ArchiveSql } from '../sql/statements';
import { externalSchemaStatement } from '../sql/redshift-dialect';
import type { AwsEngine, DeployedResources } from './aws-engine';

/** The custom resource's properties, as the stack sets them. */
export interface SchemaAndViewsProps {
  /** The configuration, as JSON: a change of it is an update. */
  readonly Config: string;
  readonly LakeBucket: string;
  readonly RedshiftRoleArn: string;
  readonly KmsKeyId?: string;
  readonly AthenaWorkgroup?: string;
}

/** The provider framework's completion answer. */
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
 * Stable for a given warehouse and views schema: a change of either replaces the resource (CloudFormation
 * creates the new one, then deletes the old one, so the old views go only after the new ones exist).
 */
export function physicalId(config: ArchiveConfig): string {
  const w = config.warehouse;
  const target = w.type === 'serverless' ? `workgroup/${w.workgroupName}` : `cluster/${w.clusterIdentifier}`;
  return `redshift-archive:${target}/${w.database}/${config.views.schema}`;
}

/** The provider's onEvent: validates and names the resource; the work happens in {@link isComplete}. */
export async function onEvent(
  event: Event,
): Promise<Pick<CloudFormationCustomResourceResponse, 'PhysicalResourceId'>> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId as string };
  return { PhysicalResourceId: physicalId(deploymentOf(event.ResourceProperties).config) };
}

/**
 * The provider's isComplete, polled until it says so. Create and Update: the external schema
 * (its own statement: CREATE EXTERNAL SCHEMA is not documented as allowed in a transaction), then
 * {@link Archiver.setup}: the ledger, the schema guard, and the union views as the ledger says,
 * replaced where their columns stay the same (their grants stay) and re-created and granted to
 * `views.readers` where they changed; views of tables that left the configuration are dropped.
 * Delete: drops the views and the external schema (only the mapping: the Glue database, the
 * ledger, the stage tables and the lake are data, and stay). No statement is sent with an event:
 * the provider polls. Every step is idempotent, so a poll that finds a statement still running
 * simply asks again later.
 */
export async function isComplete(event: Event, open: EngineFactory): Promise<CompletionResult> {
  const deployment = deploymentOf(event.ResourceProperties);
  const engine = open(deployment);
  const inFlight = await engine.warehouse.inFlight('setup');
  if (inFlight.length > 0) return { IsComplete: false };
  const sql = new ArchiveSql(deployment.config, engine.warehouse.dialect);
  try {
    if (event.RequestType === 'Delete') {
      await engine.warehouse.transaction(
        sql.tables.map((t) => sql.dropView(t)),
        'setup.delete.views',
      );
      await engine.warehouse.execute(sql.dropExternalSchema(), 'setup.delete.external-schema');
      return { IsComplete: true };
    }
    await engine.warehouse.execute(
      externalSchemaStatement(deployment.config, deployment),
      'setup.external-schema',
    );
    await new Archiver(engine).setup();
    const gone = event.RequestType === 'Update' ? removedViews(event, deployment.config, engine) : [];
    if (gone.length > 0) await engine.warehouse.transaction(gone, 'setup.views.removed');
    return { IsComplete: true, Data: { ViewsSchema: deployment.config.views.schema } };
  } catch (error) {
    if (error instanceof StillRunningError) return { IsComplete: false };
    throw error;
  }
}

/** DROP VIEW for the views of tables that the old configuration had and the new one has not. */
function removedViews(event: Event, config: ArchiveConfig, engine: AwsEngine): string[] {
  if (!event.OldResourceProperties) return [];
  const old = deploymentOf(event.OldResourceProperties, 'OldResourceProperties').config;
  const oldSql = new ArchiveSql(old, engine.warehouse.dialect);
  const newSql = new ArchiveSql(config, engine.warehouse.dialect);
  const current = new Set(newSql.tables.map((t) => newSql.viewName(t)));
  return oldSql.tables.filter((t) => !current.has(oldSql.viewName(t))).map((t) => oldSql.dropView(t));
}
