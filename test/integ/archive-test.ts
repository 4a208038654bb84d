import { join } from 'node:path';
import {
  App,
  Aspects,
  CfnResource,
  CustomResource,
  Duration,
  Fn,
  IAspect,
  RemovalPolicy,
  Stack,
  Token,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_nodejs as nodejs,
  aws_s3 as s3,
  aws_secretsmanager as secrets,
  custom_resources as cr,
} from 'aws-cdk-lib';
import { AwsApiCall, ExpectedResult, InvocationType, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import type { IConstruct, IDependable } from 'constructs';
import type { ArchiveConfig } from '../../src/config/config';
import { RedshiftArchive } from '../../lib/redshift-archive';
import { INTEG, SEEDED, seedStatements } from './fixture';

/**
 * What the integration tests share, whatever the warehouse: the network, the admin's secret, the
 * seed, the archive through the construct, and the assertions through the function's own actions.
 * Each `integ.*.ts` app supplies its warehouse (a Serverless workgroup, a provisioned cluster).
 */

/** Every resource of the test goes with the stack, data included. */
class DestroyEverything implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof CfnResource) node.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }
}

/**
 * The assertions' handlers (integ-tests-alpha's, 2 minutes each) invoke the function and wait for
 * its answer: a deep audit reads every batch back through Spectrum and may take longer. A handler
 * that times out never sees the answer, and each retry of the waiter starts another audit, which
 * waits for the one before (one concurrent execution): so they may wait as long as the function
 * may run (15 minutes, the Lambda maximum).
 */
class PatientAssertionHandlers implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof CfnResource && node.cfnResourceType === 'AWS::Lambda::Function') {
      node.addPropertyOverride('Timeout', Duration.minutes(15).toSeconds());
    }
  }
}

/**
 * A VPC of three isolated subnets in three Availability Zones (a Serverless workgroup requires
 * three): no NAT, no internet gateway. The Data API, S3 and Glue are reached by Redshift itself,
 * not through the VPC. Environment agnostic: the zones are the deploy Region's first three.
 */
export function isolatedSubnets(stack: Stack): ec2.CfnSubnet[] {
  const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.42.0.0/16' });
  return [0, 1, 2].map(
    (i) =>
      new ec2.CfnSubnet(stack, `Subnet${i}`, {
        vpcId: vpc.ref,
        cidrBlock: `10.42.${i * 16}.0/20`,
        availabilityZone: Fn.select(i, Fn.getAzs()),
      }),
  );
}

/** The admin's credentials (`username`, `password`, as the Data API reads a secret). */
export function adminSecret(stack: Stack): secrets.Secret {
  return new secrets.Secret(stack, 'Admin', {
    description: 'Admin of the redshift-archive integration test warehouse',
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: INTEG.adminUser }),
      generateStringKey: 'password',
      excludePunctuation: true,
      requireEachIncludedType: true,
      passwordLength: 32,
    },
  });
}

/** The warehouse an integration test runs on, as the shared parts need it. */
export interface IntegWarehouse {
  /** The archive's configuration, naming this warehouse. */
  readonly config: ArchiveConfig;
  /** The warehouse resource: the seed waits for it. */
  readonly resource: IDependable;
  readonly admin: secrets.ISecret;
  /** How the Data API names it: `{ WorkgroupName }` or `{ ClusterIdentifier }`. */
  readonly target: Readonly<Record<string, string>>;
  /** The database user of the stack's functions, whom the seed grants the README's privileges. */
  readonly databaseUser: string;
  /** On Serverless, the name of the stack's Data API role (its database user is `IAMR:<name>`). */
  readonly dataApiRoleName?: string;
}

/**
 * The functions that run SQL as the admin: the seed's (one Data API batch, then polled until it
 * ends) and the count's. They share ONE role: the Data API lets only the IAM identity that ran a
 * statement describe it (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html,
 * "Considerations"), so an isComplete of its own role could never see the seed end.
 */
function adminFunctions(stack: Stack, warehouse: IntegWarehouse) {
  const role = new iam.Role(stack, 'AdminSqlRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        'redshift-data:BatchExecuteStatement',
        'redshift-data:ExecuteStatement',
        'redshift-data:DescribeStatement',
        'redshift-data:GetStatementResult',
      ],
      resources: ['*'],
    }),
  );
  warehouse.admin.grantRead(role);
  const fn = (id: string, handler: string, timeout: Duration, environment?: Record<string, string>) =>
    new nodejs.NodejsFunction(stack, id, {
      entry: join(__dirname, 'seed-handler.ts'),
      handler,
      runtime: lambda.Runtime.NODEJS_22_X,
      timeout,
      role,
      ...(environment ? { environment } : {}),
    });
  return {
    onEvent: fn('SeedonEventHandler', 'onEventHandler', Duration.minutes(1)),
    isComplete: fn('SeedisCompleteHandler', 'isCompleteHandler', Duration.minutes(1)),
    // The union view of orders, counted as the admin (it reads the lake through Spectrum).
    count: fn('CountOrders', 'countHandler', Duration.minutes(5), {
      TARGET: JSON.stringify(warehouse.target),
      DATABASE: INTEG.database,
      SECRET_ARN: warehouse.admin.secretArn,
      SQL: `SELECT COUNT(*) FROM "${INTEG.schema}"."all_orders"`,
    }),
  };
}

/** The seed: one Data API batch as the admin, polled until it ends. */
function seed(
  stack: Stack,
  warehouse: IntegWarehouse,
  functions: ReturnType<typeof adminFunctions>,
): CustomResource {
  const provider = new cr.Provider(stack, 'SeedProvider', {
    onEventHandler: functions.onEvent,
    isCompleteHandler: functions.isComplete,
    queryInterval: Duration.seconds(10),
    totalTimeout: Duration.minutes(30),
  });
  const resource = new CustomResource(stack, 'Seed', {
    serviceToken: provider.serviceToken,
    properties: {
      ...warehouse.target,
      Database: INTEG.database,
      SecretArn: warehouse.admin.secretArn,
      Sqls: seedStatements(warehouse.databaseUser),
    },
  });
  resource.node.addDependency(warehouse.resource);
  return resource;
}

/**
 * The seed, the archive (once the warehouse holds the seeded tables) and the test with its
 * assertions through the function's own actions: a run until status says it finished, a deep
 * audit, the union view's count of every seeded order (the Data API, as the admin), and Athena's
 * count of last year's orders. Everything is destroyed after.
 */
export function archiveIntegTest(app: App, stack: Stack, name: string, warehouse: IntegWarehouse): IntegTest {
  const functions = adminFunctions(stack, warehouse);
  const seeded = seed(stack, warehouse, functions);
  const lake = new s3.Bucket(stack, 'Lake', {
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
    versioned: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  const archive = new RedshiftArchive(stack, 'Archive', {
    config: warehouse.config,
    bucket: lake,
    removalPolicy: RemovalPolicy.DESTROY,
    ...(warehouse.dataApiRoleName ? { dataApiRoleName: warehouse.dataApiRoleName } : {}),
  });
  archive.node.addDependency(seeded);
  // Verification counts through Athena, whose query history a workgroup must be emptied of to go.
  archive.workgroup.recursiveDeleteOption = true;
  Aspects.of(stack).add(new DestroyEverything());

  const integ = new IntegTest(app, name, {
    testCases: [stack],
    diffAssets: false,
    stackUpdateWorkflow: false,
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });
  Aspects.of(integ).add(new PatientAssertionHandlers());
  assertThroughTheFunction(integ, archive, warehouse, functions.count);
  return integ;
}

function assertThroughTheFunction(
  integ: IntegTest,
  archive: RedshiftArchive,
  warehouse: IntegWarehouse,
  countOrders: lambda.IFunction,
): void {
  const fn = archive.unloadFunction.functionName;
  const payload = (action: Record<string, unknown>) => JSON.stringify(action);

  // 1. The run, asynchronously: it goes on through its statements' completion events.
  const run = integ.assertions.invokeFunction({
    functionName: fn,
    invocationType: InvocationType.EVENT,
    payload: payload({ action: 'run' }),
  });

  // 2. Until status says the run finished (read only: repeating it is safe; a call throttled while
  // the run holds the function's one concurrent execution is tried again).
  const finished = integ.assertions
    .invokeFunction({ functionName: fn, payload: payload({ action: 'status' }) })
    .expect(
      ExpectedResult.objectLike({
        Payload: Match.serializedJson(
          Match.objectLike({
            outcome: 'status',
            // the one run, finished, with every row of the past years archived
            status: Match.objectLike({
              runs: [Match.objectLike({ state: 'finished', archivedRows: SEEDED.archived, error: null })],
            }),
          }),
        ),
      }),
    )
    .waitForAssertions({ totalTimeout: Duration.minutes(45), interval: Duration.seconds(30) });

  // 3. A deep audit: every batch in the lake and the catalog as recorded, read back through Spectrum.
  const audited = integ.assertions
    .invokeFunction({ functionName: fn, payload: payload({ action: 'audit', deep: true }) })
    .expect(
      ExpectedResult.objectLike({
        Payload: Match.serializedJson(
          Match.objectLike({ outcome: 'audit', audit: Match.objectLike({ ok: true, deep: true }) }),
        ),
      }),
    )
    .waitForAssertions({ totalTimeout: Duration.minutes(15), interval: Duration.seconds(30) });

  // 4. The union view of orders returns every seeded order, hot and archived (the Data API, as the
  // admin, through the test's count function, which waits for its statement itself).
  const viewCount = integ.assertions
    .invokeFunction({ functionName: countOrders.functionName })
    .expect(ExpectedResult.objectLike({ Payload: Match.serializedJson({ count: SEEDED.orders }) }));

  // 5. Athena counts the orders of last year, an archived year, in the archive's workgroup.
  const athenaCount = integ.assertions.awsApiCall('Athena', 'startQueryExecution', {
    QueryString: `SELECT COUNT(*) FROM "${warehouse.config.catalog.database}"."orders" WHERE "year" = year(current_date) - 1`,
    WorkGroup: archive.workgroup.ref,
  });
  const athenaDone = integ.assertions
    .awsApiCall('Athena', 'getQueryExecution', {
      QueryExecutionId: athenaCount.getAttString('QueryExecutionId'),
    })
    .expect(ExpectedResult.objectLike({ QueryExecution: { Status: { State: 'SUCCEEDED' } } }))
    .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(10) }) as AwsApiCall;
  const athenaRows = integ.assertions.awsApiCall('Athena', 'getQueryResults', {
    QueryExecutionId: athenaCount.getAttString('QueryExecutionId'),
  });
  // A number, though Athena answers "100": an assertion at a path flattens the response after
  // parsing every string in it as JSON (integ-tests-alpha's AwsApiCallHandler: deepParseJson), and
  // exact() compares types, so the string "100" would fail against the number it became.
  athenaRows.assertAtPath('ResultSet.Rows.1.Data.0.VarCharValue', ExpectedResult.exact(INTEG.ordersPerYear));

  // What the derived IAM actions miss: Athena's waits, and its reads of the catalog and the lake
  // (the construct's own grantRead, on the assertions' role). (Every awsApiCall of the stack shares
  // one provider, and so one role.)
  athenaDone.waiterProvider?.addToRolePolicy({
    Effect: 'Allow',
    Action: ['athena:GetQueryExecution'],
    Resource: ['*'],
  });
  archive.grantRead(
    iam.Role.fromRoleArn(athenaCount, 'Reader', Token.asString(athenaCount.provider.handlerRoleArn)),
  );

  run.next(finished).next(audited).next(viewCount).next(athenaCount).next(athenaDone).next(athenaRows);
}
