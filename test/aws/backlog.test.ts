import { backlogWarehouse, LATENCY_PROFILES, statementLatency } from '../../devkit/backlog';
import { replayOnAws } from '../../devkit/replay';

test('a first run with a backlog sends a fixed set of statements per batch, its start and end marked by one, and takes the time its latencies add up to (quick profile)', async () => {
  // given 6 tables in 3 families and 4 archive years (12 batches), and the quick latencies
  const { config, seedSql } = backlogWarehouse({ families: 3, tables: 6, years: 4, rowsPerYear: 2 });
  const [quick] = LATENCY_PROFILES;
  const replay = await replayOnAws(config, seedSql, '2026-01-01T00:00:00Z', {
    callMs: quick.callMs,
    athenaMs: quick.athenaMs,
    statementMs: statementLatency(quick, config),
  });

  // then every batch committed, each with its start and end marked by one statement
  expect(replay.outcome).toMatchObject({ outcome: 'run', report: { outcome: 'finished', batches: 12 } });
  const names = replay.aws.sent.map((s) => s.name.replace(/^\d{8}T\d{6}Z\./, '').split('.')[0]);
  const count = (kind: string) => names.filter((n) => n === kind).length;
  // a batch of a family of k tables: k counts and UNLOADs and ledger records of each, k Spectrum
  // reads and records, one commit, one mark, and three reads of the ledger after it
  expect({
    batches: 12,
    submissions: replay.aws.sent.length,
    exports: count('export'),
    verifies: count('verify'),
    commits: count('commit'),
    marks: count('mark'),
    ledgerReads: count('ledger'),
    withEvent: replay.aws.sent.filter((s) => s.withEvent).length,
  }).toEqual({
    batches: 12,
    submissions: 215,
    exports: 72,
    verifies: 48,
    commits: 12,
    marks: 13,
    ledgerReads: 43,
    withEvent: 36,
  });
  // and the run took the latencies' time: 37 s a batch (45 s in the 245-batch bench, whose families are larger)
  expect(replay.elapsedMs).toBe(439_150);
  expect(Math.round(replay.elapsedMs / 12 / 1000)).toBe(37);
});
