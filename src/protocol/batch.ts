import { createHash } from 'node:crypto';
import type { ArchiveConfig, TableConfig } from '../config/config';
import {
  firstLine,
  InternalError,
  RunFailedError,
  StillRunningError,
  VerificationError,
} from '../core/errors';
import { partitionLocation } from '../core/lake-layout';
import type { ArchiveSql, BatchKey, ExportFigures, Figures } from '../sql/statements';
import { BatchRecord, count, LedgerView, readLedger } from './ledger';
import type { Catalog, Lake, LakeFile, Manifest, Row, Warehouse } from './ports';
import type { ProgressEvent } from './report';
import { checkSchema } from './schema-guard';

/** What the batch steps need: the ports, the SQL, and where progress goes. */
export interface BatchDeps {
  readonly config: ArchiveConfig;
  readonly warehouse: Warehouse;
  readonly lake: Lake;
  readonly catalog: Catalog;
  readonly sql: ArchiveSql;
  readonly emit: (event: ProgressEvent) => void;
  readonly sleep: (ms: number) => Promise<void>;
  /** The engine's clock, which timestamps each step's end in the ledger. */
  readonly clock: () => Date;
}

/** Commits that lost to a concurrent transaction are tried again this many times. */
const CONFLICT_RETRIES = 5;

/**
 * A commit transaction that failed, as whoever saw it end tells it: this process while it waited
 * for it, or a later invocation from the status-change event of a commit that outlived its own
 * (`src/runtime/unload.ts`). Both hand it to the same rule ({@link BatchSteps.process}).
 */
export interface CommitFailure {
  /** The commit's step, as {@link batchStep} names it: `<run>.commit.<root table>.<year>.a<attempt>`. */
  readonly step: string;
  /** The statements of the transaction as they were sent; empty when they are not known. */
  readonly sent: readonly string[];
  /** What failed it; thrown again when the rule says the run fails. */
  readonly error: unknown;
  /** How often the same commit had failed before this failure (conflicts already retried). */
  readonly before: number;
}

/**
 * The step name of a batch's statements: `<run>.<phase>[.<alias>].<year>[.a<attempt>]`. It names
 * the Data API statement too, so an event tells its run and phase; the alias, as two tables may
 * share a name in two schemas (and a commit's earlier failures are counted by its name).
 */
export function batchStep(key: BatchKey, phase: string, table?: TableConfig, attempt?: number): string {
  return [key.runId, phase, table?.alias, key.year, attempt === undefined ? undefined : `a${attempt}`]
    .filter((p) => p !== undefined)
    .join('.');
}

/** Whether a step (as {@link batchStep} names it) is a batch's commit transaction. */
export function isCommitStep(step: string): boolean {
  return step.split('.')[1] === 'commit';
}

/** One table's figures as a batch step knows them. */
interface TablePart {
  readonly table: TableConfig;
  record: BatchRecord;
}

/**
 * One batch: one family's rows of one archive year in one run, exported, verified and committed
 * on its own. Export writes the files; verify reads them back and records the archive's figures;
 * the commit, ONE transaction, deletes the hot rows only if they still have exactly those figures.
 */
export class BatchSteps {
  constructor(private readonly deps: BatchDeps) {}

  /**
   * Takes the batch as far as it goes: exports what is pending, verifies what is exported, then
   * commits. Returns when the batch committed, or was discarded for another export (the caller
   * reads the ledger and calls again).
   * @param failed - this batch's commit, which failed after an earlier invocation stopped waiting
   *   for it: it gets the rule of a failed commit before anything is sent
   * @throws the failure itself when `failed` is not this batch's commit (nothing is sent)
   */
  async process(
    key: BatchKey,
    family: readonly TableConfig[],
    ledger: LedgerView,
    failed?: CommitFailure,
  ): Promise<void> {
    const parts: TablePart[] = family.flatMap((table) => {
      const record = ledger.batch(key.runId, table.alias, key.year);
      return record ? [{ table, record }] : [];
    });
    const attempt = Math.max(...parts.map((p) => p.record.attempt));
    // The failed commit was the run's latest statement, so the ledger's next batch is its batch,
    // verified, at its attempt; anything else is a state this rule was not made for.
    if (failed && failed.step !== batchStep(key, 'commit', family[0], attempt)) throw failed.error;
    const figures = new Map<TableConfig, Figures>();
    for (const part of parts) {
      if (part.record.state === 'pending') {
        const exported = await this.export(key, part.table, attempt);
        part.record = { ...part.record, state: 'exported', ...exported };
      }
      // Verified by an earlier version, which recorded no digest of its files: verified again.
      const undigested = part.record.filesDigest === null && (part.record.rows ?? 0) > 0;
      if (part.record.state === 'exported' || (part.record.state === 'verified' && undigested)) {
        const { read, digest } = await this.verify(key, parts, part, attempt);
        part.record = { ...part.record, state: 'verified', filesDigest: digest };
        figures.set(part.table, read);
      } else {
        figures.set(part.table, { rows: part.record.rows ?? 0, checksum: part.record.checksum ?? '0' });
      }
    }
    const changed = await this.recheck(key, parts);
    if (changed.length > 0) {
      await this.exportAgain(
        key,
        family,
        attempt,
        `the files changed since their verification: ${changed.join('; ')}`,
      );
      return;
    }
    await this.commit(
      key,
      parts.map((p) => p.table),
      attempt,
      figures,
      ledger,
      failed,
    );
  }

  /**
   * Exports one table's part of the batch straight from where its rows are, to the batch's own
   * root. An export that completed after an earlier invocation stopped waiting left its manifest
   * (written last): it is recorded, not repeated. Otherwise the rows are counted first: an empty
   * part exports nothing (UNLOAD may then write no manifest at all), and a retry starts from an
   * empty root.
   */
  private async export(key: BatchKey, table: TableConfig, attempt: number): Promise<ExportFigures> {
    const { warehouse, lake, sql } = this.deps;
    const step = batchStep(key, 'export', table, attempt);
    const root = lake.batchRoot(table.alias, key.year, key.runId);
    let manifest = await lake.readManifest(root);
    if (!manifest) {
      const [counted] = await warehouse.query(sql.countQuery(table, key), `${step}.count`);
      if (count(counted.row_count) > 0) {
        // A discard that died before its catalog step left the partition registered: it goes
        // first, so that no definition names files this export deletes.
        if (attempt > 1) await this.deps.catalog.removePartitions(table.alias, key.runId, key.year);
        await lake.clear(root);
        for (const statement of sql.unloadStatements(table, key, root)) {
          await warehouse.execute(statement, step, { outlives: true });
        }
        manifest = await lake.readManifest(root);
      }
    }
    const figures = exportFigures(manifest, partitionLocation(root, key.year));
    await warehouse.execute(sql.recordExport(key, table, figures, this.deps.clock()), step);
    this.deps.emit({
      phase: 'export',
      runId: key.runId,
      table: table.alias,
      year: key.year,
      rows: figures.rows,
      files: figures.files,
      bytes: figures.bytes,
      message: figures.location ? `exported to ${figures.location}` : 'no rows to export',
    });
    return figures;
  }

  /**
   * Registers the part's partition and reads it back through the external table: rows and
   * checksum (and rows through Athena where configured). Records the archive's figures, which the
   * commit compares with the hot rows. A read-back that disagrees with the manifest discards the
   * batch's files, so that the next attempt exports it again.
   */
  private async verify(
    key: BatchKey,
    parts: TablePart[],
    part: TablePart,
    attempt: number,
  ): Promise<{ read: Figures; digest: string | null }> {
    const { warehouse, catalog, lake, sql } = this.deps;
    const { table, record } = part;
    const step = batchStep(key, 'verify', table, attempt);
    const exported = record.rows ?? 0;
    let read: Figures = { rows: 0, checksum: '0' };
    let digest: string | null = null;
    if (exported > 0 && record.location) {
      const location = record.location;
      const failed = async (reason: string): Promise<never> => {
        await this.discard(
          key,
          parts.map((p) => p.table),
          reason,
        );
        throw new VerificationError(reason);
      };
      let counted = 0;
      try {
        await catalog.addPartition(table.alias, { year: key.year, runId: key.runId, location });
        // Listed before they are read: a file written again after this listing is caught by the
        // commit's comparison, whatever the read saw.
        const files = await lake.listFiles(location);
        digest = filesDigest(files);
        const [row] = await warehouse.query(sql.archiveFiguresQuery(table, key), step);
        read = { rows: count(row.row_count), checksum: checksumText(row) };
        counted = catalog.countRows ? await catalog.countRows(table.alias, key.runId, key.year) : read.rows;
      } catch (error) {
        // Files that are no longer what the export wrote (deleted, cut short) are exported again;
        // any other failure (the warehouse, Athena) fails the run, and a resume verifies again.
        if (error instanceof StillRunningError || !(await this.damaged(record, location))) throw error;
        await failed(
          `${table.alias} ${key.year}: the files under ${location} cannot be read back: ${firstLine(error)}`,
        );
      }
      if (read.rows !== exported || counted !== exported) {
        await failed(
          `${table.alias} ${key.year}: the manifest lists ${exported} rows; read back through the external table: ` +
            `${read.rows}${catalog.countRows ? `, counted through the catalog: ${counted}` : ''}`,
        );
      }
    }
    await warehouse.execute(sql.recordVerified(key, table, read, digest, this.deps.clock()), step);
    this.deps.emit({
      phase: 'verify',
      runId: key.runId,
      table: table.alias,
      year: key.year,
      rows: read.rows,
      message: `read back: ${read.rows} rows, checksum ${read.checksum}`,
    });
    return { read, digest };
  }

  /**
   * The commit, ONE transaction (see {@link ArchiveSql.commitTransaction}). A failure goes to
   * {@link afterFailedCommit}, which says whether to send the same commit again.
   * @param failed - a failure of this commit that an earlier invocation did not see: its rule first
   */
  private async commit(
    key: BatchKey,
    family: readonly TableConfig[],
    attempt: number,
    figures: ReadonlyMap<TableConfig, Figures>,
    read: LedgerView,
    failed?: CommitFailure,
  ): Promise<void> {
    const { warehouse, sql } = this.deps;
    const step = batchStep(key, 'commit', family[0], attempt);
    let ledger = read;
    let failure = failed;
    for (;;) {
      if (failure) {
        const after = await this.afterFailedCommit(key, family, attempt, figures, failure);
        if (after === 'done') return;
        ledger = after;
      }
      const statements = sql.commitTransaction(family, key, attempt, figures, ledger.version, (t) =>
        ledger.viewState(t, { runId: key.runId, year: key.year, rows: figures.get(t)?.rows ?? 0 }),
      );
      try {
        await warehouse.transaction(statements, step, { outlives: true });
        this.deps.emit({
          phase: 'commit',
          runId: key.runId,
          table: family[0].alias,
          year: key.year,
          rows: [...figures.values()].reduce((sum, f) => sum + f.rows, 0),
          message: `committed: ${family.map((t) => t.alias).join(', ')} ${key.year} left the hot tables; the views read the batch`,
        });
        return;
      } catch (error) {
        if (error instanceof StillRunningError) throw error;
        failure = { step, sent: statements, error, before: failure ? failure.before + 1 : 0 };
      }
    }
  }

  /**
   * The rule of a failed commit, wherever its failure became known. The ledger says whether it
   * committed after all; otherwise the hot rows are compared with the archive: if they changed
   * (the commit check failed), the batch is discarded and exported again (at most `maxAttempts`
   * exports); if they did not and another transaction won a conflict (the warehouse says so, or
   * the views' version moved since the commit was built), the same commit is to be sent again
   * after a pause, at most {@link CONFLICT_RETRIES} times; anything else fails the run, after
   * the schema guard names any column that changed meanwhile.
   * @returns 'done' when the batch committed or was discarded; otherwise the ledger to build the
   *   same commit from again
   */
  private async afterFailedCommit(
    key: BatchKey,
    family: readonly TableConfig[],
    attempt: number,
    figures: ReadonlyMap<TableConfig, Figures>,
    failure: CommitFailure,
  ): Promise<LedgerView | 'done'> {
    const { warehouse, sql, config } = this.deps;
    const ledger = await readLedger(warehouse, sql);
    if (family.every((t) => ledger.batch(key.runId, t.alias, key.year)?.committed)) return 'done';
    if (ledger.active?.runId !== key.runId) {
      throw new RunFailedError(
        `run ${key.runId} is no longer active (aborted?); its batch ${key.year} was not committed`,
      );
    }
    const changed = await this.changes(key, family, figures);
    if (changed.length > 0) {
      await this.exportAgain(
        key,
        family,
        attempt,
        `the hot rows changed since the export: ${changed.join('; ')}`,
      );
      return 'done';
    }
    const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
    // The commit's first statement raises the version it was built from: if the ledger's version
    // is not that one's, another transaction redefined the views first. Statements that are not
    // known tell nothing, and the failure stays one.
    const moved = failure.sent.length > 0 && !failure.sent.includes(sql.bumpVersion(ledger.version));
    if (!(warehouse.dialect.isConflict(message) || moved) || failure.before >= CONFLICT_RETRIES) {
      await checkSchema(config, warehouse, sql);
      throw failure.error;
    }
    this.deps.emit({
      phase: 'commit',
      runId: key.runId,
      table: family[0].alias,
      year: key.year,
      message: `lost to a concurrent transaction; trying the same commit again (${failure.before + 1} of ${CONFLICT_RETRIES})`,
    });
    await this.deps.sleep(1000 * 2 ** failure.before);
    return ledger;
  }

  /**
   * The hot rows changed since the export: the batch is discarded, to be exported again, unless it
   * has had its `maxAttempts`.
   */
  private async exportAgain(
    key: BatchKey,
    family: readonly TableConfig[],
    attempt: number,
    reason: string,
  ): Promise<void> {
    const { maxAttempts } = this.deps.config;
    await this.discard(key, family, reason);
    if (attempt >= maxAttempts) {
      throw new RunFailedError(
        `${family[0].alias} ${key.year}: the commit check failed ${attempt} times (maxAttempts ${maxAttempts}); ${reason}. ` +
          'Nothing was deleted; run again to try once more',
      );
    }
  }

  /** Whether a part's files are no longer those its manifest lists (their count or bytes). */
  private async damaged(record: BatchRecord, location: string): Promise<boolean> {
    const files = await this.deps.lake.listFiles(location).catch(() => undefined);
    if (!files) return false;
    return files.length !== record.files || files.reduce((sum, f) => sum + f.bytes, 0) !== record.bytes;
  }

  /**
   * Before every commit (after a resume too, however long ago verification ran): the files of each
   * part as they are now, compared with those verification read (names, sizes, and their ETags or
   * inodes and times: the recorded digest). The commit trusts the figures verification read from
   * those files: files written again since (by any writer) send the batch back to export.
   * @returns one line per part whose files differ
   */
  private async recheck(key: BatchKey, parts: readonly TablePart[]): Promise<string[]> {
    const changed: string[] = [];
    for (const { table, record } of parts) {
      if (!record.location || (record.rows ?? 0) === 0) continue;
      const files = await this.deps.lake.listFiles(record.location);
      if (filesDigest(files) === record.filesDigest) continue;
      const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
      changed.push(
        `${table.alias} ${key.year}: the files under ${record.location} are not those verification read ` +
          `(now ${files.length} files of ${bytes} bytes; the export wrote ${record.files} files of ${record.bytes} bytes)`,
      );
    }
    return changed;
  }

  /**
   * After a failed commit: each table whose hot rows no longer have the archive's figures, with
   * both figures and the columns whose checksums differ.
   */
  private async changes(
    key: BatchKey,
    family: readonly TableConfig[],
    figures: ReadonlyMap<TableConfig, Figures>,
  ): Promise<string[]> {
    const { warehouse, sql } = this.deps;
    const changed: string[] = [];
    for (const table of family) {
      const archived = figures.get(table) as Figures;
      const step = batchStep(key, 'diagnose', table);
      // one row of figures, read in as many queries as the table is wide
      const figuresOf = async (side: 'hot' | 'archive') => {
        const row: Record<string, string | null> = {};
        for (const query of sql.columnFiguresQuery(table, key, side))
          Object.assign(row, (await warehouse.query(query, step))[0]);
        return row;
      };
      const hot = await figuresOf('hot');
      const now = { rows: count(hot.row_count), checksum: checksumText(hot) };
      if (now.rows === archived.rows && now.checksum === archived.checksum) continue;
      const lake = await figuresOf('archive');
      const columns = table.columns.filter((_, i) => hot[`c${i}`] !== lake[`c${i}`]).map((c) => c.name);
      changed.push(
        `${table.alias} ${key.year}: ${now.rows} rows (checksum ${now.checksum}) in the warehouse, ` +
          `${archived.rows} rows (checksum ${archived.checksum}) in the archive` +
          (columns.length ? `; columns that differ: ${columns.join(', ')}` : ''),
      );
    }
    return changed;
  }

  /**
   * Discards a family's batch for another export. The ledger first: once it says pending, no
   * commit can use the old figures (the check requires the verified attempt); only then the
   * partitions and files go. A crash in between leaves old files that the next export may
   * record, and that verification and the commit's check judge like any others.
   */
  async discard(key: BatchKey, family: readonly TableConfig[], reason: string): Promise<void> {
    const { warehouse, lake, catalog, sql } = this.deps;
    await warehouse.execute(sql.discardBatch(key, family, reason), batchStep(key, 'discard', family[0]));
    for (const table of family) {
      await catalog.removePartitions(table.alias, key.runId, key.year);
      await lake.clear(lake.batchRoot(table.alias, key.year, key.runId));
    }
    this.deps.emit({
      phase: 'commit',
      runId: key.runId,
      table: family[0].alias,
      year: key.year,
      message: `discarded for another export: ${reason}`,
    });
  }
}

/** The figures of an export from its manifest; none (or an empty one) means no rows. */
function exportFigures(manifest: Manifest | undefined, location: string): ExportFigures {
  if (!manifest || manifest.rows === 0) return { location: null, rows: 0, files: 0, bytes: 0 };
  const stray = manifest.entries.find((e) => !e.url.startsWith(location));
  if (stray)
    throw new VerificationError(`the manifest lists ${stray.url}, outside the partition ${location}`);
  const rows = manifest.entries.reduce((sum, e) => sum + e.rows, 0);
  if (rows !== manifest.rows) {
    throw new VerificationError(`the manifest's files hold ${rows} rows but it states ${manifest.rows}`);
  }
  return {
    location,
    rows,
    files: manifest.entries.length,
    bytes: manifest.entries.reduce((sum, e) => sum + e.bytes, 0),
  };
}

/** A digest of a partition's files, as listed: names, sizes and what changes when one is written again. */
export function filesDigest(files: readonly LakeFile[]): string {
  const lines = files.map((f) => `${f.url}\t${f.bytes}\t${f.tag ?? ''}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** A checksum the warehouse returned as text: exact decimal digits. */
function checksumText(row: Row): string {
  const text = String(row.checksum ?? '');
  if (!/^-?\d{1,40}$/.test(text))
    throw new InternalError(`the warehouse returned ${text} where a checksum was expected`);
  return text;
}
