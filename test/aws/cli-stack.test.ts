import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { resolve } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../bin/cli';
import type { StackAccess } from '../../src/cli/on-stack';
import { configDigest } from '../../src/config/config';
import { STACK_OUTPUTS } from '../../src/contract';
import { DataApiWarehouse } from '../../src/engines/aws/data-api-warehouse';
import type { LocalEngine } from '../../src/engines/local/engine';
import { handleUnload, parseUnloadEvent } from '../../src/runtime/unload';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import {
  BUCKET,
  Cluster,
  DataApiOnDuckDb,
  ledgerAnswers,
  PREFIX,
  ROLE,
  ScriptedAws,
  SimulatedStatement,
  statusChange,
} from '../../devkit/scripted-aws';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const CONFIG = resolve('config/contabyx.json');
const STACK = 'RedshiftArchive';
const FUNCTION = 'RedshiftArchive-Unload';
const RUN = '20260101T000005Z';
const NOW = new Date('2026-01-01T00:00:05Z');
/** What the function may wait in one invocation, in the simulation's milliseconds. */
const BUDGET_MS = 30_000;

const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);

const OUTPUTS: Record<string, string> = {
  [STACK_OUTPUTS.lakeBucket]: BUCKET,
  [STACK_OUTPUTS.redshiftRoleArn]: ROLE,
  [STACK_OUTPUTS.databaseUser]: 'archiver',
  [STACK_OUTPUTS.unloadFunction]: FUNCTION,
  [STACK_OUTPUTS.athenaWorkgroup]: 'redshift-archive',
  [STACK_OUTPUTS.alarmTopic]: 'arn:aws:sns:eu-west-1:123456789012:alarms',
  [STACK_OUTPUTS.configDigest]: configDigest(CONTABYX),
};

function deployedStack(outputs: Record<string, string> = OUTPUTS) {
  cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: NOW,
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

/** A JSON payload as Lambda's Invoke answers it (the SDK wraps the bytes in its blob adapter). */
const encode = (value: unknown) =>
  new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];
/** The JSON payload the command line sent with its first invocation. */
const firstPayload = () =>
  JSON.parse(
    new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array),
  );

/**
 * One DuckDB session that runs one statement or transaction at a time, as the cluster isolates
 * each Data API session's transaction from the others' reads (the operator reads while the
 * function commits).
 */
function serialized(session: Cluster): Cluster {
  let last: Promise<unknown> = Promise.resolve();
  const queued = <T>(work: () => Promise<T>): Promise<T> => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
  return {
    query: (sql) => queued(() => session.query(sql)),
    transaction: (sqls) => queued(() => session.transaction(sqls)),
  };
}

/**
 * A deployed stack played on the embedded engine: the function is `handleUnload` on a Data API
 * whose statements run on DuckDB (each statement with an event outlives its invocation when the
 * test says so, and its completion event is queued), the lake and catalog are local. The
 * operator's reads go through the same Data API. Time passes when the command line sleeps
 * between two reads of the ledger: then the running statements end and the queued events are
 * delivered, one invocation at a time (reserved concurrency 1).
 */
class DeployedStack {
  readonly queue: unknown[] = [];
  readonly api: DataApiOnDuckDb;
  invocations = 0;
  private busy = false;

  private constructor(
    readonly world: World,
    private readonly local: LocalEngine,
    cluster: LocalEngine,
    outlives: (statement: SimulatedStatement) => boolean,
    failure?: (statement: SimulatedStatement) => string | undefined,
  ) {
    this.api = new DataApiOnDuckDb(serialized(cluster.warehouse), {
      polls: (s) => (s.withEvent && outlives(s) ? Infinity : 0),
      ...(failure ? { failure } : {}),
      ended: (s) => this.queue.push(statusChange(s.fullName, s.id, s.status)),
    });
    lambda.on(InvokeCommand).callsFake(async ({ FunctionName, Payload }) => {
      expect(FunctionName).toBe(FUNCTION);
      return this.invoke(JSON.parse(new TextDecoder().decode(Payload as Uint8Array)));
    });
  }

  static async create(
    outlives: (statement: SimulatedStatement) => boolean = () => false,
    failure?: (statement: SimulatedStatement) => string | undefined,
  ): Promise<DeployedStack> {
    const world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
    return new DeployedStack(world, await world.session(), await world.session(), outlives, failure);
  }

  private warehouse(
    remainingMs: () => number,
    sleep: (ms: number) => Promise<void>,
    prefix = PREFIX,
  ): DataApiWarehouse {
    return new DataApiWarehouse({
      client: new RedshiftDataClient({}),
      target: CONTABYX.warehouse,
      dialect: duckdbDialect,
      statementPrefix: prefix,
      procedureSchema: CONTABYX.ledger.schema,
      remainingMs,
      sleep,
    });
  }

  /** One invocation of the function, answered as Lambda's Invoke answers. */
  async invoke(event: unknown) {
    this.busy = true;
    this.invocations += 1;
    this.api.invocation = this.invocations;
    let elapsed = 0;
    const warehouse = this.warehouse(
      () => BUDGET_MS - elapsed,
      async (ms) => {
        elapsed += ms;
      },
    );
    try {
      const engine = { config: CONTABYX, lake: this.local.lake, catalog: this.local.catalog, warehouse };
      const outcome = await handleUnload(parseUnloadEvent(event), engine, () => NOW);
      return { StatusCode: 200, Payload: encode(outcome) };
    } catch (error) {
      const { name, message } = error as Error;
      return {
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: encode({ errorType: name, errorMessage: message }),
      };
    } finally {
      this.busy = false;
    }
  }

  /** A while passes: what runs ends, and the queued events are delivered. */
  async elapse(): Promise<void> {
    // A sleep lets everything else go on, the invocation under way included.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.busy) return;
    for (const statement of this.api.running()) await this.api.end(statement);
    while (this.queue.length > 0) await this.invoke(this.queue.shift());
  }

  /** How the command line reaches this stack: mocked clients, the operator's reads on the same Data API. */
  access(): StackAccess {
    return {
      cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      engine: (deployment, progress) => ({
        config: deployment.config,
        lake: this.local.lake,
        catalog: this.local.catalog,
        warehouse: this.warehouse(
          () => Number.MAX_SAFE_INTEGER,
          async () => undefined,
          deployment.statementPrefix,
        ),
        progress,
      }),
      sleep: () => this.elapse(),
      pollMs: 5_000,
    };
  }

  close(): void {
    this.world.close();
  }
}

async function cli(args: string[], access?: StackAccess) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--config', CONFIG, '--stack', STACK, '--region', 'eu-west-1'], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    now: () => NOW,
    ...(access ? { aws: () => access } : {}),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

let stack: DeployedStack | undefined;
beforeEach(() => {
  cfn.reset();
  lambda.reset();
});
afterEach(() => {
  stack?.close();
  stack = undefined;
});

describe('redshift-archive --stack', () => {
  test('run invokes the function, follows the ledger batch by batch while completion events go on, and prints the summary', async () => {
    // given a deployed stack whose commits each outlive the invocation that sent them
    deployedStack();
    stack = await DeployedStack.create((s) => s.batch && /\.commit/.test(s.name));
    const before = await stack.world.viewRows();

    // when the operator runs
    const { code, stdout, stderr } = await cli(['run'], stack.access());

    // then the run finished over several invocations, and every union view reads the same rows
    expect(code).toBe(0);
    expect(stack.invocations).toBeGreaterThan(3);
    expect((await stack.world.ledgerRuns()).map((r) => [r.run_id, r.state, r.error])).toEqual([
      [RUN, 'finished', null],
    ]);
    expect(await stack.world.viewRows()).toEqual(before);
    // and the summary is the embedded engine's
    expect(stdout.split('\n')[0]).toBe(`run ${RUN} finished: cutoff 2026-01-01, 3 batches`);
    expect(stdout).toMatch(/^transactions {2}2025 +\d+ +1 +[\d,]+ +1 +yes$/m);
    expect(stdout).toMatch(/^total: [\d,]+ rows, 9 files, [\d,]+ bytes$/m);
    // and each batch's progress was printed once per change, ending committed
    for (const table of ['transactions', 'transfers', 'tax'])
      for (const year of [2023, 2024, 2025])
        expect(stderr.match(new RegExp(`^\\[commit\\] ${table} ${year} +committed`, 'gm'))).toHaveLength(1);
    expect(lambda.commandCalls(InvokeCommand)[0].args[0].input).toMatchObject({
      FunctionName: FUNCTION,
      InvocationType: 'RequestResponse',
    });
    expect(firstPayload()).toEqual({
      action: 'run',
    });
  });

  /** The operator's access to a deployed stack whose ledger the scripted Data API answers. */
  const scriptedAccess = (aws: ScriptedAws): StackAccess => ({
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
    lambda: new LambdaClient({ region: 'eu-west-1' }),
    engine: (deployment) => aws.open(deployment),
    sleep: async () => undefined,
    pollMs: 5_000,
  });

  test('status reads the ledger with the operator credentials, through the Redshift dialect, and writes nothing', async () => {
    // given a deployed stack whose ledger holds a finished run
    deployedStack();
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const access = scriptedAccess(aws);

    // when the operator asks for status
    const { code, stdout } = await cli(['status'], access);

    // then it prints the run, and sent only the three ledger reads, under the stack's prefix
    expect(code).toBe(0);
    expect(stdout).toMatch(/^20260101T000000Z {2}2026-01-01 {2}finished +1\/1 +15$/m);
    expect(aws.sent.map((s) => s.name)).toEqual([
      'ledger.shape',
      'ledger.runs',
      'ledger.batches',
      'ledger.version',
    ]);
    expect(aws.sent.every((s) => /^SELECT /.test(s.sql[0]) && !s.batch && !s.withEvent)).toBe(true);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  test('status on a stack whose ledger does not exist says that the deployment creates it (not the first run)', async () => {
    deployedStack();
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const { code, stdout } = await cli(['status'], scriptedAccess(aws));
    expect([code, stdout]).toEqual([
      0,
      "no runs yet: schema archive_meta holds no ledger; the stack's deployment creates it (its setup custom resource): " +
        'deploy the stack with this configuration',
    ]);
    expect(aws.sent.map((s) => s.name)).toEqual(['ledger.shape']);
  });

  test('audit --deep reads every committed batch back on the deployed stack and exits 3 naming a damaged one', async () => {
    // given a stack whose run finished, and then a partition left the catalog
    deployedStack();
    stack = await DeployedStack.create();
    expect((await cli(['run'], stack.access())).code).toBe(0);
    const clean = await cli(['audit', '--deep'], stack.access());
    expect([clean.code, clean.stdout.split('\n').at(-1)]).toEqual([0, 'audit --deep: 9 batches intact']);
    await (await stack.world.session()).catalog.removePartitions('transfers', RUN, 2025);

    // when the operator audits
    const { code, stdout } = await cli(['audit'], stack.access());

    // then the damaged batch is named, and the function was only invoked for the run
    expect(code).toBe(3);
    expect(stdout).toMatch(
      new RegExp(
        `^DAMAGED transfers 2025 \\(run ${RUN}\\): the catalog has no partition for run ${RUN}, year 2025$`,
        'm',
      ),
    );
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });

  test('restore has the function put a year back into the hot tables, and the union views read the same rows', async () => {
    // given a stack whose run finished
    deployedStack();
    stack = await DeployedStack.create();
    expect((await cli(['run'], stack.access())).code).toBe(0);
    const before = await stack.world.viewRows();

    // when the operator restores 2024
    const { code, stdout } = await cli(['restore', '--year', '2024'], stack.access());

    // then the function restored it: the year's rows are hot again, the views read the same rows
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(
      /^restored 2024: [\d,]+ rows are hot again; the union views return the same rows$/,
    );
    expect(stdout.split('\n').at(-1)).toBe('3 partitions left the catalog; files kept in the lake');
    expect(await stack.world.viewRows()).toEqual(before);
    expect(
      JSON.parse(
        new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[1].args[0].input.Payload as Uint8Array),
      ),
    ).toEqual({
      action: 'restore',
      year: 2024,
    });
  });

  test('fails with exit 1 and the ledger reason when a statement of the followed run fails, and the data is safe', async () => {
    // given a stack whose commits outlive their invocations, and whose 2024 export of transactions
    // fails in an invocation that a completion event started
    deployedStack();
    stack = await DeployedStack.create(
      (s) => s.batch && /\.commit/.test(s.name),
      (s) =>
        /\.export\.transactions\.2024\./.test(s.name) ? 'S3ServiceException: Access Denied' : undefined,
    );
    const before = await stack.world.viewRows();

    // when the operator runs
    const { code, stderr } = await cli(['run'], stack.access());

    // then the command fails with the reason the ledger recorded, and no row was lost or doubled
    expect(code).toBe(1);
    expect(stderr.split('\n').at(-1)).toBe(
      `redshift-archive: run ${RUN} failed at transactions 2024: statement ${RUN}.export.transactions.2024.a1.count ` +
        'FAILED: ERROR: S3ServiceException: Access Denied; the data is safe, and `run` resumes it once the cause is fixed',
    );
    expect(await stack.world.viewRows()).toEqual(before);
  });
});

describe('redshift-archive --stack refuses, changing nothing', () => {
  test.each([
    [
      'a stack that does not exist',
      () =>
        cfn
          .on(DescribeStacksCommand)
          .rejects(
            Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }),
          ),
      2,
      `redshift-archive: --stack: "${STACK}" does not exist in eu-west-1; allowed: the name of a deployed redshift-archive stack (and --region where it is)`,
    ],
    [
      'a stack without the outputs',
      () => deployedStack({ [STACK_OUTPUTS.lakeBucket]: BUCKET }),
      2,
      `redshift-archive: --stack: "${STACK}" (UPDATE_COMPLETE) has no output RedshiftRoleArn, UnloadFunctionName, ConfigurationDigest; allowed: a stack deployed by this version of redshift-archive (cdk deploy creates the outputs)`,
    ],
    [
      'another configuration file than the deployed one',
      () => deployedStack({ ...OUTPUTS, [STACK_OUTPUTS.configDigest]: 'f'.repeat(64) }),
      2,
      `redshift-archive: --config: not the configuration deployed in stack ${STACK} (its digest ${'f'.repeat(64)}, this file's ${configDigest(CONTABYX)}); allowed: the file the stack was deployed with, or deploy this one first (cdk deploy -c config=FILE)`,
    ],
    [
      'an output that is not a bucket name',
      () => deployedStack({ ...OUTPUTS, [STACK_OUTPUTS.lakeBucket]: 'Not_A_Bucket' }),
      2,
      `redshift-archive: --stack: ${STACK}'s output LakeBucketName: "Not_A_Bucket" is not allowed; allowed: an S3 bucket name`,
    ],
    [
      'missing credentials',
      () =>
        cfn.on(DescribeStacksCommand).rejects(
          Object.assign(new Error('Could not load credentials from any providers'), {
            name: 'CredentialsProviderError',
          }),
        ),
      2,
      'redshift-archive: AWS credentials: none found (Could not load credentials from any providers); allowed: credentials of the environment, a profile (AWS_PROFILE) or SSO (aws sso login)',
    ],
    [
      'credentials that may not describe the stack',
      () =>
        cfn
          .on(DescribeStacksCommand)
          .rejects(
            Object.assign(
              new Error(
                'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudformation:DescribeStacks',
              ),
              { name: 'AccessDenied' },
            ),
          ),
      2,
      'redshift-archive: AWS refused access: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudformation:DescribeStacks; allowed: credentials whose IAM policy allows it (README, "Operating it": what an operator needs)',
    ],
    [
      'a failure on AWS side',
      () =>
        cfn
          .on(DescribeStacksCommand)
          .rejects(Object.assign(new Error('We encountered an internal error'), { name: 'InternalFailure' })),
      1,
      'redshift-archive: We encountered an internal error',
    ],
  ])('fails for %s', async (_case, given, exitCode, message) => {
    // given the stack as described
    given();
    const rsd = mockClient(RedshiftDataClient);

    // when the operator runs
    const { code, stderr } = await cli(['run']);

    // then the command names the problem, and nothing reached the function or the warehouse
    expect(code).toBe(exitCode);
    expect(stderr.split('\n')[0]).toBe(message);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(rsd.calls()).toHaveLength(0);
    rsd.restore();
  });

  test('fails with exit 2 when the function refuses the request, with its message', async () => {
    // given a deployed function that refuses the cutoff as the configuration's
    deployedStack();
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({
        errorType: 'InputError',
        errorMessage: 'configuration file: the table has a column the configuration does not list',
      }),
    });

    // when the operator runs
    const { code, stderr } = await cli(['run', '--cutoff', '2025-01-01'], new DeployedAccess().value);

    // then the function's message is the command's, with exit 2
    expect(code).toBe(2);
    expect(stderr).toBe(
      'redshift-archive: configuration file: the table has a column the configuration does not list',
    );
    expect(firstPayload()).toEqual({
      action: 'run',
      cutoff: '2025-01-01',
    });
  });

  test.each([
    [
      '--stack with --local',
      ['run', '--config', CONFIG, '--stack', STACK, '--local', 'w.duckdb'],
      '--stack: not allowed with --local/--lake; allowed: one engine, --local <warehouse.duckdb> --lake <dir> or --stack <name> [--region R]',
    ],
    [
      'a stack name that is not one',
      ['run', '--config', CONFIG, '--stack', 'my_stack'],
      '--stack: "my_stack" is not allowed; allowed: a CloudFormation stack name',
    ],
    [
      'a Region that is not one',
      ['run', '--config', CONFIG, '--stack', STACK, '--region', 'Europe'],
      '--region: "Europe" is not allowed; allowed: a Region such as eu-west-1',
    ],
    [
      '--region without --stack',
      ['run', '--config', CONFIG, '--local', 'w', '--lake', 'l', '--region', 'eu-west-1'],
      '--region: not allowed without --stack; allowed with: --stack',
    ],
  ])('fails with exit 2 for %s', async (_case, argv, message) => {
    const err: string[] = [];
    const code = await main(argv, { stdout: () => undefined, stderr: (t) => err.push(t), now: () => NOW });
    expect(code).toBe(2);
    expect(err[0].split('\n')[0]).toBe(`redshift-archive: ${message}`);
    expect(cfn.calls()).toHaveLength(0);
  });
});

/** Mocked clients only: for a function whose answer the test scripts. */
class DeployedAccess {
  readonly value: StackAccess = {
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
    lambda: new LambdaClient({ region: 'eu-west-1' }),
    engine: (deployment) => new ScriptedAws(ledgerAnswers(undefined)).open(deployment),
    sleep: async () => undefined,
    pollMs: 5_000,
  };
}
