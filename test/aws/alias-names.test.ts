import { BatchCreatePartitionCommand } from '@aws-sdk/client-glue';
import { replayOnAws } from '../../devkit/replay';
import { PAYMENTS, PAYMENTS_SEED } from '../support/payments';

test('an aliased table is its alias in statement names, Glue, S3 and Athena, and its schema and name in the warehouse', async () => {
  // given billing.payments archived as billing_payments, the parent of sales.payments,
  // when a run of 2023 and 2024 goes through the AWS adapters
  const replay = await replayOnAws(PAYMENTS, PAYMENTS_SEED, '2025-01-01T00:00:00Z');
  expect(replay.outcome.outcome).toBe('run');

  // then each statement of a batch names its table by its alias, so no two tables share one
  const steps = new Set(
    replay.aws.sent.map((s) => /^\d{8}T\d{6}Z\.(\w+)\.(\w+)\.2023\.a1$/.exec(s.name)?.slice(1).join(' ')),
  );
  steps.delete(undefined);
  expect([...steps]).toEqual([
    'export billing_payments',
    'verify billing_payments',
    'export payments',
    'verify payments',
    'commit billing_payments',
  ]);
  // and the Glue table, its partitions' folders and Athena's count are the alias's, with each table's own columns
  expect(
    replay.aws.glue
      .commandCalls(BatchCreatePartitionCommand)
      .map((c) => c.args[0].input)
      .map((i) => [
        i.TableName,
        i.PartitionInputList?.[0].StorageDescriptor?.Location,
        i.PartitionInputList?.[0].StorageDescriptor?.Columns?.map((x) => x.Name),
      ])
      .slice(0, 2),
  ).toEqual([
    [
      'billing_payments',
      's3://contabyx-archive-lake/lake/billing_payments/year=2023/archive_run=20250101T000000Z/year=2023/',
      ['id', 'paid', 'amount'],
    ],
    [
      'payments',
      's3://contabyx-archive-lake/lake/payments/year=2023/archive_run=20250101T000000Z/year=2023/',
      ['billing_id', 'channel'],
    ],
  ]);
  expect(replay.athenaQueries.slice(0, 2)).toEqual([
    `SELECT COUNT(*) FROM "shop"."billing_payments" WHERE "archive_run" = '20250101T000000Z' AND "year" = 2023`,
    `SELECT COUNT(*) FROM "shop"."payments" WHERE "archive_run" = '20250101T000000Z' AND "year" = 2023`,
  ]);
  // and the warehouse's own tables are read and deleted from by schema and name
  expect(replay.aws.sent.find((s) => s.name === 'plan.sizes')?.sql[0]).toContain(
    `WHERE ("schema" = 'billing' AND "table" = 'payments') OR ("schema" = 'sales' AND "table" = 'payments')`,
  );
  const commit = replay.aws.sent.find((s) => s.name.endsWith('.commit.billing_payments.2023.a1'))?.sql ?? [];
  expect(commit.filter((q) => q.startsWith('DELETE')).map((q) => q.split(' WHERE')[0])).toEqual([
    'DELETE FROM "sales"."payments"',
    'DELETE FROM "billing"."payments"',
  ]);
});
