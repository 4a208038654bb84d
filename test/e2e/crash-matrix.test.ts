import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (runId = RUN, cutoff = CUTOFF): RunTarget => ({ runId, cutoff });

// Its own file, so that jest runs it beside the other tests: it replays a run some 60 times.
describe('the crash matrix', () => {
  test('a crash before or after any step of a three-year run leaves every row in one place, and a resume completes', async () => {
    // given the calls a clean run makes
    const probe = new Faults();
    const scratch = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
    await (await scratch.archiver(probe.wrap)).run(target());
    scratch.close();
    expect(probe.calls.filter((c) => c.startsWith(`transaction ${RUN}.commit`))).toHaveLength(3);
    // Reads change nothing: a crash before a call leaves the state that a crash after the last
    // write before it leaves. So the states that matter are before the first write, and after
    // each write (which is also before the next one).
    const writes = probe.calls.flatMap((label, at) => (label.startsWith('query') ? [] : [at]));
    const points = [
      { at: writes[0], when: 'before' as const },
      ...writes.map((at) => ({ at, when: 'after' as const })),
    ];
    const failures: string[] = [];
    for (const { at, when } of points) {
      {
        const w = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
        const point = `${when} call ${at} (${probe.calls[at]})`;
        try {
          const invariants = await Invariants.capture(w, CUTOFF);
          // when the process dies there (in maintenance, after the run finished, a failure is a warning)
          const crashed = new Faults({ at, when });
          const ended = await (await w.archiver(crashed.wrap)).run(target()).catch((error: Error) => error);
          if (
            !(ended instanceof Error ? CRASHED.test(ended.message) : probe.calls[at].includes('.maintenance'))
          ) {
            throw new Error(
              `the crashed run ended with ${ended instanceof Error ? ended.message : ended.outcome}`,
            );
          }
          // then every invariant holds, and the next invocation resumes and finishes the same run
          await invariants.check(`crash ${point}`);
          const report = await (await w.archiver()).run(target('20260101T000001Z'));
          await invariants.check(`resume after crash ${point}`);
          const runs = await w.ledgerRuns();
          // a crash before the start committed leaves no run: the next invocation starts its own
          if (runs.length !== 1 || runs[0].state !== 'finished' || report.outcome === 'already-done') {
            throw new Error(
              `ledger after resume: ${JSON.stringify(runs)}, report ${report.outcome} ${report.runId}`,
            );
          }
          if ((await w.committedBatches()).length !== 9) throw new Error('not every batch was committed');
        } catch (error) {
          failures.push(`${point}: ${(error as Error).message}`);
        } finally {
          w.close();
        }
      }
    }
    expect(writes.length).toBeGreaterThan(30);
    expect(failures).toEqual([]);
  }, 240_000);
});
