import {
  ClusterNotFoundFault,
  InvalidClusterStateFault,
  ModifyClusterIamRolesCommand,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import {
  ConflictException,
  RedshiftServerlessClient,
  UpdateNamespaceCommand,
} from '@aws-sdk/client-redshift-serverless';
import type { RoleAssociationProps } from '../contract';
import { InputError, show } from '../core/errors';
import {
  describeCluster,
  getNamespace,
  NAMESPACE,
  NamespaceRole,
  namespaceOf,
  ROLE_ARN,
} from '../engines/aws/warehouse-roles';

/**
 * The custom resource that associates the stack's Redshift role with the warehouse before the
 * external schema names it (docs/design.md §6; Redshift Spectrum's getting started associates the
 * role before CREATE EXTERNAL SCHEMA). Association is asynchronous on both kinds of warehouse:
 * a role is `adding`, then `in-sync`; only then may SQL use it.
 *
 * - Provisioned: `ModifyClusterIamRoles` with `AddIamRoles` / `RemoveIamRoles` is additive, so
 *   other roles and the cluster's default role are never touched; `DescribeClusters` tells each
 *   role's `ApplyStatus`.
 * - Serverless: `UpdateNamespace` replaces the whole `iamRoles` list and must be sent together
 *   with `defaultIamRoleArn`; there is no "add" call. So the resource reads the namespace, writes
 *   its roles plus ours (or minus ours, on delete), keeps the default role, and writes only when
 *   no other change is being applied (every role `in-sync`, the namespace `AVAILABLE`), which
 *   keeps the window of a lost concurrent change as short as a read-then-write can. A namespace
 *   with no default role gets ours as its default: the default must be sent, and nothing could
 *   have used `IAM_ROLE default` before. On delete, a default that is ours passes to the first
 *   remaining role, or to none.
 *
 * Provider framework: onEvent validates and names the resource (the physical id records the
 * cluster or namespace and the role); isComplete moves the warehouse one step towards the wanted
 * state per poll, and says complete once it is there. A change of cluster, namespace or role is a
 * new physical id: CloudFormation then deletes the old one, which removes only the old role. A
 * rollback is an update with the old properties, handled the same way. Nothing here ever removes
 * a role that is not the resource's own, and the response holds only the physical id.
 */

/** The SDK clients the resource needs; tests pass mocked ones. */
export interface AssociationClients {
  readonly redshift: RedshiftClient;
  readonly serverless: RedshiftServerlessClient;
  /** Each step it takes, for the log. */
  readonly log?: (message: string, details: Record<string, unknown>) => void;
  /** Waits between attempts while IAM propagates a new role (tests pass one that does not wait). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How long one isComplete keeps asking Redshift to take a role it refuses as not valid (90 s). */
export const PROPAGATION = { attempts: 10, waitMs: 10_000 } as const;

/** Where the role goes: a provisioned cluster or a Serverless namespace, and the role. */
export interface Association {
  readonly kind: 'cluster' | 'namespace';
  readonly name: string;
  readonly roleArn: string;
}

/** The provider framework's completion answer (no Data: the physical id says it all). */
export interface AssociationCompletion {
  readonly IsComplete: boolean;
}

type Event = {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: Record<string, unknown>;
  readonly PhysicalResourceId?: string;
};

/** The rules of src/config/config.ts, checked again: the properties reach API calls. */
const CLUSTER = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const WORKGROUP = /^[a-z0-9-]{3,64}$/;

function invalid(field: string, value: unknown, allowed: string): never {
  throw new InputError(`ResourceProperties.${field}: ${show(value)} is not allowed; allowed: ${allowed}`);
}

/** Validates the properties: a bad one fails the deployment before any call. */
export function propsOf(properties: Record<string, unknown>): RoleAssociationProps {
  const { ClusterIdentifier: cluster, WorkgroupName: workgroup, RoleArn: role } = properties;
  if (typeof role !== 'string' || !ROLE_ARN.test(role)) invalid('RoleArn', role, 'an IAM role ARN');
  if ((cluster === undefined) === (workgroup === undefined)) {
    invalid(
      'ClusterIdentifier',
      { ClusterIdentifier: cluster, WorkgroupName: workgroup },
      'exactly one of ClusterIdentifier or WorkgroupName',
    );
  }
  if (cluster !== undefined) {
    if (typeof cluster !== 'string' || !CLUSTER.test(cluster) || cluster.length > 63)
      invalid('ClusterIdentifier', cluster, 'a Redshift cluster identifier');
    return { ClusterIdentifier: cluster, RoleArn: role };
  }
  if (typeof workgroup !== 'string' || !WORKGROUP.test(workgroup))
    invalid('WorkgroupName', workgroup, 'a Redshift Serverless workgroup name');
  return { WorkgroupName: workgroup, RoleArn: role };
}

/** `cluster/<identifier>:<role ARN>` or `namespace/<name>:<role ARN>`: stable for the same properties. */
export function physicalIdOf(association: Association): string {
  return `${association.kind}/${association.name}:${association.roleArn}`;
}

/** The association a physical id of {@link physicalIdOf} names, or undefined for any other id. */
export function associationOf(physicalId: string | undefined): Association | undefined {
  const match = /^(cluster|namespace)\/([a-z0-9-]+):(arn:.+)$/.exec(physicalId ?? '');
  if (!match || !ROLE_ARN.test(match[3])) return undefined;
  const [, kind, name, roleArn] = match;
  if (!(kind === 'cluster' ? CLUSTER : NAMESPACE).test(name)) return undefined;
  return { kind: kind as Association['kind'], name, roleArn };
}

/**
 * The provider's onEvent: validates and names the resource. A Serverless workgroup is resolved
 * to its namespace here, once, so that a delete finds the namespace even if the workgroup is gone.
 * @throws Error naming the workgroup when it does not exist
 */
export async function onEvent(
  event: Event,
  clients: AssociationClients,
): Promise<{ PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId as string };
  const props = propsOf(event.ResourceProperties);
  if (props.ClusterIdentifier !== undefined) {
    return {
      PhysicalResourceId: physicalIdOf({
        kind: 'cluster',
        name: props.ClusterIdentifier,
        roleArn: props.RoleArn,
      }),
    };
  }
  const workgroupName = props.WorkgroupName as string;
  const namespace = await namespaceOf(clients.serverless, workgroupName);
  if (namespace === undefined) {
    throw new Error(
      `Redshift Serverless workgroup ${show(workgroupName)} was not found in this account and Region ` +
        '(GetWorkgroup): check warehouse.workgroupName, and deploy the stack in the Region of the workgroup',
    );
  }
  return { PhysicalResourceId: physicalIdOf({ kind: 'namespace', name: namespace, roleArn: props.RoleArn }) };
}

/**
 * The provider's isComplete, polled until it says so: Create and Update add the role (once) and
 * wait until it is in sync; Delete removes the role (only ours) and waits until it is gone. A
 * cluster or namespace that is gone has nothing left to remove.
 */
export async function isComplete(event: Event, clients: AssociationClients): Promise<AssociationCompletion> {
  const association = associationOf(event.PhysicalResourceId);
  if (event.RequestType === 'Delete') {
    // an id this resource never gave (the framework's marker of a failed create) has nothing to remove
    if (!association) return { IsComplete: true };
    return association.kind === 'cluster'
      ? detachFromCluster(association, clients)
      : detachFromNamespace(association, clients);
  }
  if (!association) {
    throw new Error(`PhysicalResourceId: ${show(event.PhysicalResourceId)} was not named by onEvent`);
  }
  return association.kind === 'cluster'
    ? attachToCluster(association, clients)
    : attachToNamespace(association, clients);
}

/**
 * Redshift refuses a role that IAM has not yet propagated everywhere as not valid:
 * `InvalidParameterValue: The IAM role <name> is not valid. The IAM role must delegate access to
 * an Amazon Redshift account.` for a role created moments before, which the same call accepts a
 * little later (terraform-provider-aws issue 19113). The stack's own role always trusts Redshift,
 * so while it is new this is propagation. What Serverless answers is not documented
 * (ValidationException is its one validation error), so a ValidationException about a role counts
 * too [INFER].
 */
function refusedAsInvalid(error: unknown): boolean {
  const { name, message } = error as { name?: unknown; message?: unknown };
  return (
    (name === 'InvalidParameterValue' || name === 'ValidationException') &&
    typeof message === 'string' &&
    /\brole\b/i.test(message)
  );
}

/** Sends a call that adds the role, again while Redshift refuses the role as not valid, for a while. */
async function whilePropagating(
  clients: AssociationClients,
  association: Association,
  call: () => Promise<unknown>,
): Promise<void> {
  const sleep = clients.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return;
    } catch (error) {
      if (!refusedAsInvalid(error)) throw error;
      const message = (error as Error).message;
      if (attempt >= PROPAGATION.attempts) {
        const seconds = ((PROPAGATION.attempts - 1) * PROPAGATION.waitMs) / 1000;
        throw new Error(
          `Redshift refused the role ${association.roleArn} for ${association.kind} ${show(association.name)} ` +
            `for ${seconds} s (${message}). IAM can take a while to make a new role usable: deploy again; ` +
            'if it persists, check that the role trusts redshift.amazonaws.com and redshift-serverless.amazonaws.com',
          { cause: error },
        );
      }
      clients.log?.('the role is refused as not valid; IAM may still be propagating it', {
        roleArn: association.roleArn,
        attempt,
        message,
      });
      await sleep(PROPAGATION.waitMs);
    }
  }
}

const done = { IsComplete: true } as const;
const waiting = { IsComplete: false } as const;

function pausedCluster(association: Association, then: string): Error {
  return new Error(
    `Redshift cluster ${show(association.name)} is paused, and a paused cluster's roles cannot change: ` +
      `resume it (aws redshift resume-cluster --cluster-identifier ${association.name}), then ${then}`,
  );
}

/** Adds the role to the cluster's roles (the others stay), then waits until it is in sync. */
export async function attachToCluster(
  association: Association,
  clients: AssociationClients,
): Promise<AssociationCompletion> {
  const { name, roleArn } = association;
  const cluster = await describeCluster(clients.redshift, name);
  if (!cluster) {
    throw new Error(
      `Redshift cluster ${show(name)} was not found in this account and Region (DescribeClusters): ` +
        'check warehouse.clusterIdentifier, and deploy the stack in the Region of the cluster',
    );
  }
  const ours = cluster.roles.find((r) => r.IamRoleArn === roleArn);
  clients.log?.('cluster role', { cluster: name, roleArn, applyStatus: ours?.ApplyStatus ?? 'absent' });
  if (ours?.ApplyStatus === 'in-sync') return done;
  // adding: wait for it; removing (a rollback re-adding it): wait until it is gone, then add it again
  if (ours) return waiting;
  if (cluster.status === 'paused') throw pausedCluster(association, 'deploy again');
  try {
    await whilePropagating(clients, association, () =>
      clients.redshift.send(
        new ModifyClusterIamRolesCommand({ ClusterIdentifier: name, AddIamRoles: [roleArn] }),
      ),
    );
    clients.log?.('role added to the cluster', { cluster: name, roleArn });
  } catch (error) {
    // another change of the cluster is being applied: try again at the next poll
    if (!(error instanceof InvalidClusterStateFault)) throw error;
  }
  return waiting;
}

/** Removes the role from the cluster's roles (only it), then waits until it is gone. */
export async function detachFromCluster(
  association: Association,
  clients: AssociationClients,
): Promise<AssociationCompletion> {
  const { name, roleArn } = association;
  const cluster = await describeCluster(clients.redshift, name);
  const ours = cluster?.roles.find((r) => r.IamRoleArn === roleArn);
  clients.log?.('cluster role', { cluster: name, roleArn, applyStatus: ours?.ApplyStatus ?? 'absent' });
  if (!cluster || cluster.status === 'deleting' || !ours) return done;
  if (ours.ApplyStatus === 'removing') return waiting;
  if (cluster.status === 'paused') throw pausedCluster(association, 'delete again');
  try {
    await clients.redshift.send(
      new ModifyClusterIamRolesCommand({ ClusterIdentifier: name, RemoveIamRoles: [roleArn] }),
    );
    clients.log?.('role removed from the cluster', { cluster: name, roleArn });
  } catch (error) {
    if (error instanceof ClusterNotFoundFault) return done;
    if (!(error instanceof InvalidClusterStateFault)) throw error;
  }
  return waiting;
}

/** No change is being applied to the namespace: it is available and every role is in sync. */
const settled = (namespace: { status: string | undefined; roles: NamespaceRole[] }) =>
  namespace.status === 'AVAILABLE' && namespace.roles.every((r) => r.status === 'in-sync');

/**
 * Writes the namespace's whole role list; a namespace busy with another change is tried again
 * later. Adding waits for IAM to propagate a new role; removing has nothing to wait for.
 */
async function updateNamespace(
  clients: AssociationClients,
  association: Association,
  iamRoles: string[],
  defaultIamRoleArn: string,
  adding: boolean,
): Promise<void> {
  const namespaceName = association.name;
  const call = () =>
    clients.serverless.send(new UpdateNamespaceCommand({ namespaceName, iamRoles, defaultIamRoleArn }));
  try {
    await (adding ? whilePropagating(clients, association, call) : call());
    clients.log?.('namespace roles written', { namespace: namespaceName, iamRoles, defaultIamRoleArn });
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
  }
}

/**
 * Adds the role to the namespace's roles, keeping every other role and the default role, then
 * waits until every role is in sync.
 */
export async function attachToNamespace(
  association: Association,
  clients: AssociationClients,
): Promise<AssociationCompletion> {
  const { name, roleArn } = association;
  const namespace = await getNamespace(clients.serverless, name);
  if (!namespace) {
    throw new Error(
      `Redshift Serverless namespace ${show(name)} was not found (GetNamespace): ` +
        "check that warehouse.workgroupName's namespace still exists",
    );
  }
  const ours = namespace.roles.find((r) => r.arn === roleArn);
  clients.log?.('namespace roles', { namespace: name, status: namespace.status, roles: namespace.roles });
  if (ours) return settled(namespace) ? done : waiting;
  // UpdateNamespace replaces the list: never write it while another change is still being applied
  if (!settled(namespace)) return waiting;
  const others = namespace.roles.map((r) => r.arn);
  await updateNamespace(clients, association, [...others, roleArn], namespace.defaultRole ?? roleArn, true);
  return waiting;
}

/**
 * Removes the role from the namespace's roles, keeping every other role (and the default role
 * unless it is ours), then waits until it is gone.
 */
export async function detachFromNamespace(
  association: Association,
  clients: AssociationClients,
): Promise<AssociationCompletion> {
  const { name, roleArn } = association;
  const namespace = await getNamespace(clients.serverless, name);
  clients.log?.('namespace roles', { namespace: name, status: namespace?.status, roles: namespace?.roles });
  if (!namespace || namespace.status === 'DELETING') return done;
  if (!namespace.roles.some((r) => r.arn === roleArn)) return done;
  if (!settled(namespace)) return waiting;
  const others = namespace.roles.map((r) => r.arn).filter((arn) => arn !== roleArn);
  const defaultRole =
    namespace.defaultRole !== undefined && namespace.defaultRole !== roleArn
      ? namespace.defaultRole
      : (others[0] ?? '');
  await updateNamespace(clients, association, others, defaultRole, false);
  return waiting;
}
