/**
 * The adapters on real SDK clients built with the project's retry settings, over a request
 * handler that answers from a script: no HTTP, but the SDK's whole middleware stack, retries
 * included (aws-sdk-client-mock replaces `send`, so the SDK's retries never run under it).
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { checkClients, clients } from '../../lambda/clients';
import { AWS_RETRY, redshiftDataClient } from '../../src/engines/aws/clients';
import { DataApiWarehouse } from '../../src/engines/aws/data-api-warehouse';
import { GlueCatalog } from '../../src/engines/aws/glue-catalog';
import { S3Lake } from '../../src/engines/aws/s3-lake';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { PREFIX, statementId } from '../../devkit/scripted-aws';
import { CONTABYX } from '../../devkit/world';

/** An HTTP response as the SDK reads it: it takes any object of this shape. */
interface Answer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

/** A request as the handler keeps it: what a test needs to tell one call from another. */
interface Request {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

/** What the SDK needs besides the handler: any region, any credentials (nothing is signed for real). */
const OFFLINE = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** A request handler that answers each request with the next answer, and keeps the requests. */
function scripted(...answers: Answer[]) {
  const requests: Request[] = [];
  const requestHandler = {
    handle: async (request: Request) => {
      requests.push(request);
      const response = answers.shift();
      if (!response) throw new Error(`no answer left for ${request.method} ${request.path}`);
      return { response };
    },
  };
  return { requests, config: { ...OFFLINE, requestHandler } };
}

/** An answer of the JSON protocols (Data API, Glue): an error when `errorType` is given. */
function json(statusCode: number, body: object, errorType?: string): Answer {
  return {
    statusCode,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    },
    body: new TextEncoder().encode(JSON.stringify(body)),
  };
}

/** An error of the JSON protocols, of HTTP status 400 like throttling and access denied. */
const jsonError = (type: string, message: string) => json(400, { __type: type, message }, type);

/** An answer of S3's XML protocol. */
function xml(statusCode: number, body: string): Answer {
  return {
    statusCode,
    headers: { 'content-type': 'application/xml' },
    body: new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`),
  };
}

/** The operation of a JSON-protocol request. */
const target = (request: Request) => request.headers['x-amz-target'];

const ID = statementId(1);
const RUN_ID = '20260101T000000Z';
const ROOT = `s3://lake-bucket/contabyx-parquet/tax/year=2024/archive_run=${RUN_ID}/`;
const ROOT_KEY = `contabyx-parquet/tax/year=2024/archive_run=${RUN_ID}/`;
const S3_NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function warehouse(config: ReturnType<typeof scripted>['config']) {
  return new DataApiWarehouse({
    client: redshiftDataClient(config),
    target: { type: 'serverless', workgroupName: 'analytics', database: 'prod' },
    dialect: redshiftDialect({ iamRoleArn: 'arn:aws:iam::123456789012:role/archive' }),
    statementPrefix: PREFIX,
    procedureSchema: 'archive_meta',
    remainingMs: () => 60_000,
    sleep: async () => undefined,
  });
}

const lake = (config: ReturnType<typeof scripted>['config']) =>
  new S3Lake(new S3Client({ ...AWS_RETRY, ...config }), 'lake-bucket', 'contabyx-parquet', 'archive-reports');

describe("the AWS adapters through the SDK's retry settings", () => {
  test("builds every client of the handlers with the project's retry settings", async () => {
    for (const client of [...Object.values(clients), ...Object.values(checkClients)]) {
      expect(await client.config.maxAttempts()).toBe(AWS_RETRY.maxAttempts);
      expect((await client.config.retryStrategy()).mode).toBe(AWS_RETRY.retryMode);
    }
    expect(clients.redshiftData.middlewareStack.identify()).toContain(
      'activeStatementsExceededAsThrottling - after retryMiddleware',
    );
  });

  test.each([
    ['ThrottlingException', 'Rate exceeded'],
    // HTTP 400 and in none of the SDK's lists: the Data API client retries it as throttling
    ['ActiveStatementsExceededException', 'Active statements exceeded the allowed quota'],
  ])("retries a Data API call refused with %s through the SDK's retry settings", async (type, message) => {
    // given the Data API refuses the first submission
    const { requests, config } = scripted(
      jsonError(type, message),
      json(200, { Id: ID }),
      json(200, { Id: ID, Status: 'FINISHED' }),
    );
    // when a statement is executed, then it runs, the submission sent twice
    await warehouse(config).execute('SELECT 1', 's');
    expect(requests.map(target)).toEqual([
      'RedshiftData.ExecuteStatement',
      'RedshiftData.ExecuteStatement',
      'RedshiftData.DescribeStatement',
    ]);
  });

  test('fails at once when the Data API denies access, without retrying', async () => {
    const { requests, config } = scripted(
      jsonError('AccessDeniedException', 'not authorized to perform redshift-data:ExecuteStatement'),
    );
    await expect(warehouse(config).execute('SELECT 1', 's')).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: 'not authorized to perform redshift-data:ExecuteStatement',
    });
    expect(requests).toHaveLength(1);
  });

  test("retries a listing and a deletion that S3 throttled through the SDK's retry settings", async () => {
    // given S3 asks to slow down once for each call
    const slowDown = xml(
      503,
      '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
    );
    const { requests, config } = scripted(
      slowDown,
      xml(
        200,
        `<ListBucketResult ${S3_NS}><Name>lake-bucket</Name><Prefix>${ROOT_KEY}</Prefix><KeyCount>1</KeyCount>` +
          `<IsTruncated>false</IsTruncated><Contents><Key>${ROOT_KEY}manifest</Key></Contents></ListBucketResult>`,
      ),
      slowDown,
      xml(200, `<DeleteResult ${S3_NS}></DeleteResult>`),
    );
    // when the batch root is cleared, then each call was sent again once
    await expect(lake(config).clear(ROOT)).resolves.toBeUndefined();
    expect(requests.map((r) => `${r.method} ${Object.keys(r.query).join(',')}`)).toEqual([
      'GET list-type,prefix',
      'GET list-type,prefix',
      'POST delete',
      'POST delete',
    ]);
  });

  test('fails at once when S3 denies access, without retrying', async () => {
    const { requests, config } = scripted(
      xml(403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'),
    );
    await expect(lake(config).clear(ROOT)).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'Access Denied',
    });
    expect(requests).toHaveLength(1);
  });

  test("retries the calls that Glue throttled through the SDK's retry settings", async () => {
    // given Glue throttles the first call of each kind
    const throttled = jsonError('ThrottlingException', 'Rate exceeded');
    const { requests, config } = scripted(
      throttled,
      json(200, { Errors: [] }),
      throttled,
      json(200, { Partitions: [{ Values: ['2024', RUN_ID] }] }),
      throttled,
      json(200, {}),
    );
    const catalog = new GlueCatalog(new GlueClient({ ...AWS_RETRY, ...config }), CONTABYX);

    // when a partition is registered, then removed
    await catalog.addPartition('tax', {
      year: 2024,
      runId: RUN_ID,
      location: `${ROOT}year=2024/`,
    });
    await catalog.removePartitions('tax', RUN_ID, 2024);

    // then each call was sent again once
    expect(requests.map(target)).toEqual([
      'AWSGlue.BatchCreatePartition',
      'AWSGlue.BatchCreatePartition',
      'AWSGlue.GetPartitions',
      'AWSGlue.GetPartitions',
      'AWSGlue.BatchDeletePartition',
      'AWSGlue.BatchDeletePartition',
    ]);
  });
});
