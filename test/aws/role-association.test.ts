import {
  ClusterNotFoundFault,
  DescribeClustersCommand,
  InvalidClusterStateFault,
  ModifyClusterIamRolesCommand,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import {
  ConflictException,
  GetNamespaceCommand,
  GetWorkgroupCommand,
  RedshiftServerlessClient,
  ResourceNotFoundException,
  UpdateNamespaceCommand,
} from '@aws-sdk/client-redshift-serverless';
import { mockClient } from 'aws-sdk-client-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as handlers from '../../lambda/role-association';
import {
  AssociationClients,
  isComplete,
  onEvent,
  physicalIdOf,
  PROPAGATION,
} from '../../src/runtime/role-association';
import { parseNamespaceRole } from '../../src/engines/aws/warehouse-roles';
import { RedshiftServiceException } from '@aws-sdk/client-redshift';
import { ValidationException } from '@aws-sdk/client-redshift-serverless';
import { lambdaContext } from '../support/lambda-context';

const OURS = 'arn:aws:iam::123456789012:role/Archive-ArchiveRedshiftRole3E51DA8C-AbCdEf';
const OTHER = 'arn:aws:iam::123456789012:role/analytics-copy';
const DEFAULT = 'arn:aws:iam::123456789012:role/team-default';
const TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:provider';
const CLUSTER_ID = `cluster/contabyx:${OURS}`;
const NAMESPACE_ID = `namespace/analytics-ns:${OURS}`;

const redshift = mockClient(RedshiftClient);
const serverless = mockClient(RedshiftServerlessClient);
/** The waits the clients were asked for, instead of waiting. */
const slept: number[] = [];
const clients: AssociationClients = {
  redshift: new RedshiftClient({ region: 'eu-west-1' }),
  serverless: new RedshiftServerlessClient({ region: 'eu-west-1' }),
  sleep: async (ms) => {
    slept.push(ms);
  },
};

beforeEach(() => {
  redshift.reset();
  serverless.reset();
  slept.length = 0;
});

/** What Redshift answers for a role that IAM has not propagated yet (terraform-provider-aws#19113). */
const notYetValid = () =>
  new RedshiftServiceException({
    name: 'InvalidParameterValue',
    $fault: 'client',
    $metadata: {},
    message:
      'The IAM role Archive-ArchiveRedshiftRole3E51DA8C-AbCdEf is not valid. The IAM role must delegate access to an Amazon Redshift account.',
  });

type RequestType = 'Create' | 'Update' | 'Delete';
const onCluster = (RequestType: RequestType, PhysicalResourceId = CLUSTER_ID, RoleArn = OURS) => ({
  RequestType,
  PhysicalResourceId,
  ResourceProperties: { ServiceToken: TOKEN, ClusterIdentifier: 'contabyx', RoleArn },
});
const onNamespace = (RequestType: RequestType, PhysicalResourceId = NAMESPACE_ID) => ({
  RequestType,
  PhysicalResourceId,
  ResourceProperties: { ServiceToken: TOKEN, WorkgroupName: 'analytics', RoleArn: OURS },
});

/** A DescribeClusters answer: the cluster with these roles and their statuses. */
const cluster = (roles: [string, string][], ClusterStatus = 'available') => ({
  Clusters: [
    {
      ClusterIdentifier: 'contabyx',
      ClusterStatus,
      DefaultIamRoleArn: DEFAULT,
      IamRoles: roles.map(([IamRoleArn, ApplyStatus]) => ({ IamRoleArn, ApplyStatus })),
    },
  ],
});
const clusterGone = () => new ClusterNotFoundFault({ message: 'Cluster contabyx not found.', $metadata: {} });

/** A GetNamespace answer, its roles rendered the way the API returns them. */
const namespace = (roles: [string, string][], defaultIamRoleArn?: string, status = 'AVAILABLE') => ({
  namespace: {
    namespaceName: 'analytics-ns',
    status: status as 'AVAILABLE',
    ...(defaultIamRoleArn ? { defaultIamRoleArn } : {}),
    iamRoles: roles.map(([arn, s]) => `IamRole(applyStatus=${s}, iamRoleArn=${arn})`),
  },
});
const namespaceGone = () =>
  new ResourceNotFoundException({
    message: 'namespace not found',
    resourceName: 'analytics-ns',
    $metadata: {},
  });

describe('the role association custom resource: names', () => {
  test('names a provisioned association by cluster and role, stably', async () => {
    expect(physicalIdOf({ kind: 'cluster', name: 'contabyx', roleArn: OURS })).toBe(CLUSTER_ID);
    expect(await onEvent(onCluster('Create', undefined), clients)).toEqual({
      PhysicalResourceId: CLUSTER_ID,
    });
    expect(await onEvent(onCluster('Update'), clients)).toEqual({ PhysicalResourceId: CLUSTER_ID });
    expect(redshift.calls()).toHaveLength(0);
  });

  test("names a Serverless association by the workgroup's namespace, so a delete finds it without the workgroup", async () => {
    serverless
      .on(GetWorkgroupCommand, { workgroupName: 'analytics' })
      .resolves({ workgroup: { workgroupName: 'analytics', namespaceName: 'analytics-ns' } });
    expect(await onEvent(onNamespace('Create', undefined), clients)).toEqual({
      PhysicalResourceId: NAMESPACE_ID,
    });
    // a delete keeps the id it was given, and asks nothing
    serverless.reset();
    expect(await onEvent(onNamespace('Delete'), clients)).toEqual({ PhysicalResourceId: NAMESPACE_ID });
    expect(serverless.calls()).toHaveLength(0);
  });

  test('an update to another role is a new physical id: CloudFormation then deletes the old one, which removes only the old role', async () => {
    // given the stack's role was replaced
    const NEW = 'arn:aws:iam::123456789012:role/Archive-ArchiveRedshiftRole3E51DA8C-XyZ123';
    const updated = await onEvent(onCluster('Update', CLUSTER_ID, NEW), clients);
    expect(updated).toEqual({ PhysicalResourceId: `cluster/contabyx:${NEW}` });

    // when the update adds the new role, and the clean-up deletes the old id
    redshift.on(DescribeClustersCommand).resolves(cluster([[OURS, 'in-sync']]));
    await isComplete({ ...onCluster('Update', updated.PhysicalResourceId, NEW) }, clients);
    await isComplete(onCluster('Delete', CLUSTER_ID), clients);

    // then the new role was added and only the old one removed
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand).map((c) => c.args[0].input)).toEqual([
      { ClusterIdentifier: 'contabyx', AddIamRoles: [NEW] },
      { ClusterIdentifier: 'contabyx', RemoveIamRoles: [OURS] },
    ]);
  });

  test('fails with properties that name neither a cluster nor a workgroup, before any call', async () => {
    await expect(
      onEvent({ RequestType: 'Create', ResourceProperties: { ServiceToken: TOKEN, RoleArn: OURS } }, clients),
    ).rejects.toThrow(
      'ResourceProperties.ClusterIdentifier: {} is not allowed; allowed: exactly one of ClusterIdentifier or WorkgroupName',
    );
    await expect(
      onEvent(
        { RequestType: 'Create', ResourceProperties: { ClusterIdentifier: 'contabyx', RoleArn: 'spectrum' } },
        clients,
      ),
    ).rejects.toThrow('ResourceProperties.RoleArn: "spectrum" is not allowed; allowed: an IAM role ARN');
    expect(redshift.calls()).toHaveLength(0);
    expect(serverless.calls()).toHaveLength(0);
  });

  test('fails when the workgroup does not exist, naming it and what to check', async () => {
    serverless
      .on(GetWorkgroupCommand)
      .rejects(new ResourceNotFoundException({ message: 'no', resourceName: 'analytics', $metadata: {} }));
    await expect(onEvent(onNamespace('Create', undefined), clients)).rejects.toThrow(
      'Redshift Serverless workgroup "analytics" was not found in this account and Region (GetWorkgroup): ' +
        'check warehouse.workgroupName, and deploy the stack in the Region of the workgroup',
    );
  });
});

describe('the role association custom resource: a provisioned cluster', () => {
  test('adds its role to a cluster that has other roles; they and the default role stay', async () => {
    // given a cluster with two roles of its own
    redshift.on(DescribeClustersCommand).resolves(
      cluster([
        [DEFAULT, 'in-sync'],
        [OTHER, 'in-sync'],
      ]),
    );
    redshift.on(ModifyClusterIamRolesCommand).resolves({});

    // when the resource is created
    const answer = await isComplete(onCluster('Create'), clients);

    // then it adds only its role (ModifyClusterIamRoles is additive) and waits for it
    expect(answer).toEqual({ IsComplete: false });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand).map((c) => c.args[0].input)).toEqual([
      { ClusterIdentifier: 'contabyx', AddIamRoles: [OURS] },
    ]);
  });

  test('waits while the role is adding, and completes once it is in sync, adding it only once', async () => {
    redshift
      .on(DescribeClustersCommand)
      .resolvesOnce(cluster([[OTHER, 'in-sync']]))
      .resolvesOnce(
        cluster([
          [OTHER, 'in-sync'],
          [OURS, 'adding'],
        ]),
      )
      .resolves(
        cluster([
          [OTHER, 'in-sync'],
          [OURS, 'in-sync'],
        ]),
      );
    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await isComplete(onCluster('Create'), clients));
    expect(polls).toEqual([{ IsComplete: false }, { IsComplete: false }, { IsComplete: true }]);
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(1);
  });

  test('a role already in sync (a repeated event, or an update that changed nothing) completes with no change', async () => {
    redshift.on(DescribeClustersCommand).resolves(cluster([[OURS, 'in-sync']]));
    expect(await isComplete(onCluster('Update'), clients)).toEqual({ IsComplete: true });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(0);
  });

  test('waits while another change of the cluster is being applied, then adds the role', async () => {
    redshift.on(DescribeClustersCommand).resolves(cluster([], 'modifying'));
    redshift
      .on(ModifyClusterIamRolesCommand)
      .rejectsOnce(new InvalidClusterStateFault({ message: 'The cluster is being modified.', $metadata: {} }))
      .resolves({});
    expect(await isComplete(onCluster('Create'), clients)).toEqual({ IsComplete: false });
    expect(await isComplete(onCluster('Create'), clients)).toEqual({ IsComplete: false });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(2);
  });

  test('a rollback that re-adds a role still being removed waits until it is gone, then adds it', async () => {
    redshift
      .on(DescribeClustersCommand)
      .resolvesOnce(cluster([[OURS, 'removing']]))
      .resolves(cluster([]));
    expect(await isComplete(onCluster('Update'), clients)).toEqual({ IsComplete: false });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(0);
    expect(await isComplete(onCluster('Update'), clients)).toEqual({ IsComplete: false });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)[0].args[0].input).toEqual({
      ClusterIdentifier: 'contabyx',
      AddIamRoles: [OURS],
    });
  });

  test('asks again while Redshift refuses a new role as not valid (IAM propagation), then waits for it', async () => {
    // given a role that Redshift refuses twice, then takes
    redshift.on(DescribeClustersCommand).resolves(cluster([[OTHER, 'in-sync']]));
    redshift
      .on(ModifyClusterIamRolesCommand)
      .rejectsOnce(notYetValid())
      .rejectsOnce(notYetValid())
      .resolves({});

    // when the resource is polled, then it added the role after two waits of 10 s
    expect(await isComplete(onCluster('Create'), clients)).toEqual({ IsComplete: false });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(3);
    expect(slept).toEqual([10_000, 10_000]);
  });

  test('fails when Redshift still refuses the role as not valid after 90 s, saying what to check', async () => {
    redshift.on(DescribeClustersCommand).resolves(cluster([[OTHER, 'in-sync']]));
    redshift.on(ModifyClusterIamRolesCommand).rejects(notYetValid());
    await expect(isComplete(onCluster('Create'), clients)).rejects.toThrow(
      `Redshift refused the role ${OURS} for cluster "contabyx" for 90 s (The IAM role Archive-ArchiveRedshiftRole3E51DA8C-AbCdEf is not valid. The IAM role must delegate access to an Amazon Redshift account.). ` +
        'IAM can take a while to make a new role usable: deploy again; if it persists, check that the role trusts ' +
        'redshift.amazonaws.com and redshift-serverless.amazonaws.com',
    );
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(PROPAGATION.attempts);
  });

  test('fails at once on any other error of the call, without waiting', async () => {
    redshift.on(DescribeClustersCommand).resolves(cluster([[OTHER, 'in-sync']]));
    redshift.on(ModifyClusterIamRolesCommand).rejects(
      new RedshiftServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'not authorized to perform: iam:PassRole',
      }),
    );
    await expect(isComplete(onCluster('Create'), clients)).rejects.toThrow(
      'not authorized to perform: iam:PassRole',
    );
    expect(slept).toEqual([]);
  });

  test('fails when the cluster does not exist, naming it and what to check', async () => {
    redshift.on(DescribeClustersCommand).rejects(clusterGone());
    await expect(isComplete(onCluster('Create'), clients)).rejects.toThrow(
      'Redshift cluster "contabyx" was not found in this account and Region (DescribeClusters): ' +
        'check warehouse.clusterIdentifier, and deploy the stack in the Region of the cluster',
    );
  });

  test('fails on a paused cluster rather than wait for an hour, saying how to resume it', async () => {
    redshift.on(DescribeClustersCommand).resolves(cluster([[OTHER, 'in-sync']], 'paused'));
    await expect(isComplete(onCluster('Create'), clients)).rejects.toThrow(
      `Redshift cluster "contabyx" is paused, and a paused cluster's roles cannot change: ` +
        'resume it (aws redshift resume-cluster --cluster-identifier contabyx), then deploy again',
    );
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(0);
  });

  test('on delete removes only its own role and waits until it is gone', async () => {
    redshift
      .on(DescribeClustersCommand)
      .resolvesOnce(
        cluster([
          [OTHER, 'in-sync'],
          [OURS, 'in-sync'],
        ]),
      )
      .resolvesOnce(
        cluster([
          [OTHER, 'in-sync'],
          [OURS, 'removing'],
        ]),
      )
      .resolves(cluster([[OTHER, 'in-sync']]));
    redshift.on(ModifyClusterIamRolesCommand).resolves({});
    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await isComplete(onCluster('Delete'), clients));
    expect(polls).toEqual([{ IsComplete: false }, { IsComplete: false }, { IsComplete: true }]);
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand).map((c) => c.args[0].input)).toEqual([
      { ClusterIdentifier: 'contabyx', RemoveIamRoles: [OURS] },
    ]);
  });

  test('on delete, a cluster that is gone (or going) has nothing left to remove', async () => {
    redshift.on(DescribeClustersCommand).rejects(clusterGone());
    expect(await isComplete(onCluster('Delete'), clients)).toEqual({ IsComplete: true });
    redshift.reset();
    redshift.on(DescribeClustersCommand).resolves(cluster([[OURS, 'in-sync']], 'deleting'));
    expect(await isComplete(onCluster('Delete'), clients)).toEqual({ IsComplete: true });
    // and one that goes between the two calls
    redshift.reset();
    redshift.on(DescribeClustersCommand).resolves(cluster([[OURS, 'in-sync']]));
    redshift.on(ModifyClusterIamRolesCommand).rejects(clusterGone());
    expect(await isComplete(onCluster('Delete'), clients)).toEqual({ IsComplete: true });
  });

  test('on delete, a role that is not associated (removed by hand) needs nothing', async () => {
    redshift.on(DescribeClustersCommand).resolves(cluster([[OTHER, 'in-sync']]));
    expect(await isComplete(onCluster('Delete'), clients)).toEqual({ IsComplete: true });
    expect(redshift.commandCalls(ModifyClusterIamRolesCommand)).toHaveLength(0);
  });

  test('a delete after a failed create (an id this resource never gave) makes no call', async () => {
    const failed = onCluster('Delete', 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED');
    expect(await isComplete(failed, clients)).toEqual({ IsComplete: true });
    expect(redshift.calls()).toHaveLength(0);
  });
});

describe('the role association custom resource: a Serverless namespace', () => {
  test('reads the roles, writes them all back with its own, and keeps the default role', async () => {
    // given a namespace with a default role and another role
    serverless.on(GetNamespaceCommand, { namespaceName: 'analytics-ns' }).resolves(
      namespace(
        [
          [DEFAULT, 'in-sync'],
          [OTHER, 'in-sync'],
        ],
        DEFAULT,
      ),
    );
    serverless.on(UpdateNamespaceCommand).resolves({});

    // when the resource is created
    const answer = await isComplete(onNamespace('Create'), clients);

    // then UpdateNamespace (which replaces the list) gets every role, ours last, and the same default
    expect(answer).toEqual({ IsComplete: false });
    expect(serverless.commandCalls(UpdateNamespaceCommand).map((c) => c.args[0].input)).toEqual([
      { namespaceName: 'analytics-ns', iamRoles: [DEFAULT, OTHER, OURS], defaultIamRoleArn: DEFAULT },
    ]);
  });

  test('a namespace with no default role gets its role as the default, which UpdateNamespace requires with the list', async () => {
    serverless.on(GetNamespaceCommand).resolves(namespace([[OTHER, 'in-sync']]));
    await isComplete(onNamespace('Create'), clients);
    expect(serverless.commandCalls(UpdateNamespaceCommand)[0].args[0].input).toEqual({
      namespaceName: 'analytics-ns',
      iamRoles: [OTHER, OURS],
      defaultIamRoleArn: OURS,
    });
  });

  test('waits until every role of the namespace is in sync, then completes, writing only once', async () => {
    serverless
      .on(GetNamespaceCommand)
      .resolvesOnce(namespace([[OTHER, 'in-sync']], OTHER))
      .resolvesOnce(
        namespace(
          [
            [OTHER, 'in-sync'],
            [OURS, 'adding'],
          ],
          OTHER,
          'MODIFYING',
        ),
      )
      .resolvesOnce(
        namespace(
          [
            [OTHER, 'adding'],
            [OURS, 'in-sync'],
          ],
          OTHER,
        ),
      )
      .resolves(
        namespace(
          [
            [OTHER, 'in-sync'],
            [OURS, 'in-sync'],
          ],
          OTHER,
        ),
      );
    serverless.on(UpdateNamespaceCommand).resolves({});
    const polls = [];
    for (let i = 0; i < 4; i++) polls.push(await isComplete(onNamespace('Create'), clients));
    expect(polls).toEqual([
      { IsComplete: false },
      { IsComplete: false },
      { IsComplete: false },
      { IsComplete: true },
    ]);
    expect(serverless.commandCalls(UpdateNamespaceCommand)).toHaveLength(1);
  });

  test('never writes the list while another change is being applied, nor when the namespace says it is busy', async () => {
    serverless
      .on(GetNamespaceCommand)
      .resolvesOnce(namespace([[OTHER, 'adding']], OTHER))
      .resolvesOnce(namespace([[OTHER, 'in-sync']], OTHER, 'MODIFYING'))
      .resolves(namespace([[OTHER, 'in-sync']], OTHER));
    serverless
      .on(UpdateNamespaceCommand)
      .rejectsOnce(new ConflictException({ message: 'namespace is being modified', $metadata: {} }))
      .resolves({});
    const polls = [];
    for (let i = 0; i < 4; i++) polls.push(await isComplete(onNamespace('Create'), clients));
    expect(polls.every((p) => !p.IsComplete)).toBe(true);
    // two polls waited; the third write met a conflict and the fourth was accepted
    expect(serverless.commandCalls(UpdateNamespaceCommand)).toHaveLength(2);
  });

  test('asks again while the namespace refuses a new role (IAM propagation), and never while removing', async () => {
    serverless.on(GetNamespaceCommand).resolves(namespace([[OTHER, 'in-sync']], OTHER));
    serverless
      .on(UpdateNamespaceCommand)
      .rejectsOnce(new ValidationException({ message: 'IAM role arn is not valid', $metadata: {} }))
      .resolves({});
    await isComplete(onNamespace('Create'), clients);
    expect(serverless.commandCalls(UpdateNamespaceCommand)).toHaveLength(2);
    expect(slept).toEqual([10_000]);

    serverless.reset();
    slept.length = 0;
    serverless.on(GetNamespaceCommand).resolves(namespace([[OURS, 'in-sync']], OTHER));
    serverless
      .on(UpdateNamespaceCommand)
      .rejects(new ValidationException({ message: 'IAM role arn is not valid', $metadata: {} }));
    await expect(isComplete(onNamespace('Delete'), clients)).rejects.toThrow('IAM role arn is not valid');
    expect(slept).toEqual([]);
  });

  test('reads entries given as plain ARNs as well as rendered structures', () => {
    expect(parseNamespaceRole(OTHER)).toEqual({ arn: OTHER, status: 'in-sync' });
    expect(parseNamespaceRole(`IamRole(applyStatus=adding, iamRoleArn=${OURS})`)).toEqual({
      arn: OURS,
      status: 'adding',
    });
    expect(parseNamespaceRole(`IamRole(iamRoleArn=${OURS}, applyStatus=removing)`)).toEqual({
      arn: OURS,
      status: 'removing',
    });
  });

  test('fails on a role entry it does not understand, rather than write a list it cannot read', async () => {
    serverless.on(GetNamespaceCommand).resolves({
      namespace: { namespaceName: 'analytics-ns', status: 'AVAILABLE', iamRoles: ['{"role":"x"}'] },
    });
    await expect(isComplete(onNamespace('Create'), clients)).rejects.toThrow(
      'GetNamespace: the IAM role entry "{\\"role\\":\\"x\\"}" is not understood; expected ' +
        '"IamRole(applyStatus=..., iamRoleArn=...)" or an IAM role ARN',
    );
    expect(serverless.commandCalls(UpdateNamespaceCommand)).toHaveLength(0);
  });

  test('fails when the namespace does not exist, naming it', async () => {
    serverless.on(GetNamespaceCommand).rejects(namespaceGone());
    await expect(isComplete(onNamespace('Create'), clients)).rejects.toThrow(
      `Redshift Serverless namespace "analytics-ns" was not found (GetNamespace): ` +
        "check that warehouse.workgroupName's namespace still exists",
    );
  });

  test('on delete writes back every other role and the default role, then waits until its role is gone', async () => {
    serverless
      .on(GetNamespaceCommand)
      .resolvesOnce(
        namespace(
          [
            [DEFAULT, 'in-sync'],
            [OURS, 'in-sync'],
            [OTHER, 'in-sync'],
          ],
          DEFAULT,
        ),
      )
      .resolvesOnce(
        namespace(
          [
            [DEFAULT, 'in-sync'],
            [OURS, 'removing'],
            [OTHER, 'in-sync'],
          ],
          DEFAULT,
        ),
      )
      .resolves(
        namespace(
          [
            [DEFAULT, 'in-sync'],
            [OTHER, 'in-sync'],
          ],
          DEFAULT,
        ),
      );
    serverless.on(UpdateNamespaceCommand).resolves({});
    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await isComplete(onNamespace('Delete'), clients));
    expect(polls).toEqual([{ IsComplete: false }, { IsComplete: false }, { IsComplete: true }]);
    expect(serverless.commandCalls(UpdateNamespaceCommand).map((c) => c.args[0].input)).toEqual([
      { namespaceName: 'analytics-ns', iamRoles: [DEFAULT, OTHER], defaultIamRoleArn: DEFAULT },
    ]);
  });

  test('on delete a default role that is its own passes to the first remaining role, or to none', async () => {
    serverless
      .on(GetNamespaceCommand)
      .resolvesOnce(
        namespace(
          [
            [OTHER, 'in-sync'],
            [OURS, 'in-sync'],
          ],
          OURS,
        ),
      )
      .resolvesOnce(namespace([[OURS, 'in-sync']], OURS));
    serverless.on(UpdateNamespaceCommand).resolves({});
    await isComplete(onNamespace('Delete'), clients);
    await isComplete(onNamespace('Delete'), clients);
    expect(serverless.commandCalls(UpdateNamespaceCommand).map((c) => c.args[0].input)).toEqual([
      { namespaceName: 'analytics-ns', iamRoles: [OTHER], defaultIamRoleArn: OTHER },
      { namespaceName: 'analytics-ns', iamRoles: [], defaultIamRoleArn: '' },
    ]);
  });

  test('on delete, a namespace that is gone (or going) has nothing left to remove', async () => {
    serverless.on(GetNamespaceCommand).rejects(namespaceGone());
    expect(await isComplete(onNamespace('Delete'), clients)).toEqual({ IsComplete: true });
    serverless.reset();
    serverless.on(GetNamespaceCommand).resolves(namespace([[OURS, 'in-sync']], OURS, 'DELETING'));
    expect(await isComplete(onNamespace('Delete'), clients)).toEqual({ IsComplete: true });
    expect(serverless.commandCalls(UpdateNamespaceCommand)).toHaveLength(0);
  });
});

describe('the deployed role association handlers', () => {
  test('name the resource and associate the role through the SDK clients they create', async () => {
    redshift
      .on(DescribeClustersCommand)
      .resolvesOnce(cluster([[OTHER, 'in-sync']]))
      .resolves(
        cluster([
          [OTHER, 'in-sync'],
          [OURS, 'in-sync'],
        ]),
      );
    redshift.on(ModifyClusterIamRolesCommand).resolves({});
    const event = {
      ...onCluster('Create', undefined),
      ServiceToken: TOKEN,
      ResponseURL: 'https://example.com',
      StackId: 'stack',
      RequestId: 'request',
      LogicalResourceId: 'RoleAssociation',
      ResourceType: 'Custom::RedshiftArchiveRoleAssociation',
    } as CloudFormationCustomResourceEvent;
    const context = lambdaContext('RedshiftArchive-RoleAssociationOnEvent', 'request-1');
    const named = await handlers.onEvent(event, context);
    expect(named).toEqual({ PhysicalResourceId: CLUSTER_ID });
    const polled = { ...event, ...named } as CloudFormationCustomResourceEvent;
    const poll = lambdaContext('RedshiftArchive-RoleAssociationIsComplete', 'request-2');
    expect(await handlers.isComplete(polled, poll)).toEqual({ IsComplete: false });
    expect(await handlers.isComplete(polled, poll)).toEqual({ IsComplete: true });
  });
});
