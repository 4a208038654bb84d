import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isRunId } from '../../core/cutoff';
import { InputError, show } from '../../core/errors';
import type { Lake, LakeFile, Manifest, ManifestEntry } from '../../protocol/ports';
import {
  batchRoot,
  isClearable,
  legacyRunPrefix,
  MANIFEST_NAME,
  PARTITION_KEYS,
  partitionLocation,
} from '../../core/lake-layout';

let writes = 0;

/** Writes a file so that readers see the old or the new content, never half of one. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  // Unique per write: two sessions of one process may write the same file at once.
  const temporary = `${file}.${process.pid}.${++writes}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, file);
  } catch (error) {
    // A full disk leaves a temporary file behind otherwise.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * A local folder playing the S3 bucket, with the same layout (`core/lake-layout.ts`): batch roots
 * with their manifests and partitions of Parquet files, and run reports under their own prefix.
 */
export class LocalLake implements Lake {
  readonly root: string;

  constructor(
    root: string,
    private readonly prefix: string,
    private readonly reportsPrefix: string,
  ) {
    this.root = resolve(root);
  }

  private location(key: string): string {
    return `${this.root}/${key}`;
  }

  batchRoot(table: string, year: number, runId: string): string {
    return this.location(batchRoot(this.prefix, table, year, runId));
  }

  legacyRunLocation(table: string, runId: string): string {
    return this.location(legacyRunPrefix(this.prefix, table, runId));
  }

  private checkClearable(location: string): void {
    const key = location.slice(this.root.length + 1);
    if (!location.startsWith(`${this.root}/`) || !isClearable(this.prefix, key)) {
      throw new InputError(`refusing to clear ${JSON.stringify(location)}: not a batch root of this lake`);
    }
  }

  /** Empties a root; a batch root is left with its (empty) partition folder, as an export needs it. */
  async clear(location: string): Promise<void> {
    this.checkClearable(location);
    await rm(location, { recursive: true, force: true });
    const year = new RegExp(`/${PARTITION_KEYS.year}=(\\d{4})/${PARTITION_KEYS.run}=[^/]+/$`).exec(
      location,
    )?.[1];
    await mkdir(year ? partitionLocation(location, Number(year)) : location, { recursive: true });
  }

  async readManifest(location: string): Promise<Manifest | undefined> {
    this.checkClearable(location);
    let text: string;
    try {
      text = await readFile(location + MANIFEST_NAME, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const entries: ManifestEntry[] = [];
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      let entry: { url?: unknown; bytes?: unknown; rows?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        // Cut short by a crash while it was written: as if the export had not finished.
        return undefined;
      }
      const [bytes, rows] = [Number(entry.bytes), Number(entry.rows)];
      if (typeof entry.url !== 'string' || !Number.isSafeInteger(bytes) || !Number.isSafeInteger(rows))
        return undefined;
      entries.push({ url: entry.url, bytes, rows });
    }
    return { entries, rows: entries.reduce((sum, e) => sum + e.rows, 0) };
  }

  async listFiles(location: string): Promise<LakeFile[]> {
    if (!location.startsWith(`${this.root}/`)) {
      throw new InputError(`refusing to list ${JSON.stringify(location)}: not in this lake`);
    }
    let names: string[];
    try {
      names = await readdir(location, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = await Promise.all(
      names.sort().map(async (name) => ({
        url: resolve(location, name),
        stats: await stat(resolve(location, name), { bigint: true }),
      })),
    );
    // A file written again gets a new inode (a rename over it) or a new modification time.
    return files
      .filter((f) => f.stats.isFile())
      .map((f) => ({ url: f.url, bytes: Number(f.stats.size), tag: `${f.stats.ino}:${f.stats.mtimeNs}` }));
  }

  async writeReport(runId: string, report: unknown): Promise<string> {
    if (!isRunId(runId)) throw new InputError(`no report for run ${show(runId)}`);
    const folder = resolve(this.root, this.reportsPrefix);
    await mkdir(folder, { recursive: true });
    const file = resolve(folder, `${runId}.json`);
    await writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
    return file;
  }
}
