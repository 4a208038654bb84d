import {
  ClusterIamRole,
  ClusterNotFoundFault,
  DescribeClustersCommand,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import {
  GetNamespaceCommand,
  GetWorkgroupCommand,
  RedshiftServerlessClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-redshift-serverless';
import { show } from '../../core/errors';

/**
 * Reads of a warehouse's IAM roles: the role association resource writes them, preflight checks
 * them. Absent warehouses read as undefined, so callers tell "gone" from "failed".
 */

/** A Serverless namespace name (the rule of src/config/config.ts, checked again on API answers). */
export const NAMESPACE = /^[a-z0-9-]{3,64}$/;
/** An IAM role ARN. */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\-/]{1,512}$/;

/** The cluster's status and roles, or undefined when the cluster does not exist. */
export async function describeCluster(
  redshift: RedshiftClient,
  identifier: string,
): Promise<{ status: string | undefined; roles: ClusterIamRole[] } | undefined> {
  try {
    const answer = await redshift.send(new DescribeClustersCommand({ ClusterIdentifier: identifier }));
    const cluster = answer.Clusters?.[0];
    return cluster ? { status: cluster.ClusterStatus, roles: cluster.IamRoles ?? [] } : undefined;
  } catch (error) {
    if (error instanceof ClusterNotFoundFault) return undefined;
    throw error;
  }
}

/** The namespace of a Serverless workgroup, or undefined when the workgroup does not exist. */
export async function namespaceOf(
  serverless: RedshiftServerlessClient,
  workgroupName: string,
): Promise<string | undefined> {
  try {
    const namespace = (await serverless.send(new GetWorkgroupCommand({ workgroupName }))).workgroup
      ?.namespaceName;
    return namespace !== undefined && NAMESPACE.test(namespace) ? namespace : undefined;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** One entry of a namespace's `iamRoles`. */
export interface NamespaceRole {
  readonly arn: string;
  readonly status: string;
}

/**
 * Reads one entry of GetNamespace's `iamRoles`: the API returns a rendered structure such as
 * `IamRole(applyStatus=in-sync, iamRoleArn=arn:aws:iam::123456789012:role/x)`, and sometimes a
 * plain ARN, which carries no pending change and counts as in sync.
 * @throws Error quoting the entry when it is neither
 */
export function parseNamespaceRole(entry: string): NamespaceRole {
  const text = entry.trim();
  if (ROLE_ARN.test(text)) return { arn: text, status: 'in-sync' };
  const status = /applyStatus=([^,)\s]+)/.exec(text)?.[1];
  const arn = /iamRoleArn=([^,)\s]+)/.exec(text)?.[1];
  if (!status || !arn) {
    throw new Error(
      `GetNamespace: the IAM role entry ${show(entry)} is not understood; expected ` +
        '"IamRole(applyStatus=..., iamRoleArn=...)" or an IAM role ARN',
    );
  }
  return { arn, status };
}

/** The namespace's status, roles and default role, or undefined when the namespace does not exist. */
export async function getNamespace(
  serverless: RedshiftServerlessClient,
  namespaceName: string,
): Promise<
  { status: string | undefined; roles: NamespaceRole[]; defaultRole: string | undefined } | undefined
> {
  try {
    const answer = await serverless.send(new GetNamespaceCommand({ namespaceName }));
    const namespace = answer.namespace;
    if (!namespace) return undefined;
    return {
      status: namespace.status,
      roles: (namespace.iamRoles ?? []).map(parseNamespaceRole),
      defaultRole: namespace.defaultIamRoleArn || undefined,
    };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
