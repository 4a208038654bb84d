import {
  DeleteObjectsCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { isRunId } from '../../core/cutoff';
import { InputError, RunFailedError, show } from '../../core/errors';
import type { Lake, LakeFile, Manifest } from '../../protocol/ports';
import { batchRoot, isClearable, legacyRunPrefix, MANIFEST_NAME } from '../../core/lake-layout';

/** The manifest UNLOAD writes beside the files: `<prefix>manifest`. */
interface RedshiftManifest {
  entries?: { url?: string; meta?: { content_length?: number; record_count?: number } }[];
  meta?: { record_count?: number };
}

/**
 * The lake on S3, laid out as `core/lake-layout.ts` says. It only ever deletes under one batch's
 * own root (or a v1 run's prefix), and refuses any other location.
 */
export class S3Lake implements Lake {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly reportsPrefix: string,
  ) {}

  get root(): string {
    return `s3://${this.bucket}`;
  }

  batchRoot(table: string, year: number, runId: string): string {
    return `s3://${this.bucket}/${batchRoot(this.prefix, table, year, runId)}`;
  }

  legacyRunLocation(table: string, runId: string): string {
    return `s3://${this.bucket}/${legacyRunPrefix(this.prefix, table, runId)}`;
  }

  /** The key prefix of a batch root of this lake, or an error. */
  private keyOf(location: string): string {
    const root = `s3://${this.bucket}/`;
    const key = location.slice(root.length);
    if (!location.startsWith(root) || !isClearable(this.prefix, key)) {
      // In full, not shortened by show(): a lake location is longer than 80 characters, and what
      // makes it wrong is often its end (a partition folder, a missing slash).
      throw new InputError(`refusing ${JSON.stringify(location)}: not a batch root of this lake`);
    }
    return key;
  }

  async clear(location: string): Promise<void> {
    const prefix = this.keyOf(location);
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix });
    for await (const page of pages) {
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (keys.length > 0) {
        const deleted = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
        const failed = deleted.Errors?.[0];
        if (failed)
          throw new RunFailedError(
            `lake: could not delete s3://${this.bucket}/${failed.Key}: ${failed.Code} ${failed.Message}`,
          );
      }
    }
  }

  async readManifest(location: string): Promise<Manifest | undefined> {
    const key = `${this.keyOf(location)}${MANIFEST_NAME}`;
    let object;
    try {
      object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
    let manifest: RedshiftManifest;
    try {
      manifest = JSON.parse((await object.Body?.transformToString()) ?? '{}') as RedshiftManifest;
    } catch {
      // Not a whole manifest (UNLOAD writes it last, at once, so this is damage): as if the
      // export had not finished, it is exported again.
      return undefined;
    }
    const entries = (manifest.entries ?? []).map((e) => ({
      url: e.url ?? '',
      bytes: e.meta?.content_length ?? 0,
      rows: e.meta?.record_count ?? 0,
    }));
    if (manifest.meta?.record_count === undefined) {
      throw new RunFailedError(
        `lake: s3://${this.bucket}/${key} states no record count (was it written by UNLOAD ... MANIFEST VERBOSE?)`,
      );
    }
    return { entries, rows: manifest.meta.record_count };
  }

  async listFiles(location: string): Promise<LakeFile[]> {
    const root = `s3://${this.bucket}/`;
    if (!location.startsWith(root)) {
      throw new InputError(`refusing to list ${JSON.stringify(location)}: not in this lake`);
    }
    const files: LakeFile[] = [];
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: location.slice(root.length) },
    );
    for await (const page of pages) {
      for (const o of page.Contents ?? [])
        files.push({ url: `${root}${o.Key}`, bytes: o.Size ?? 0, ...(o.ETag ? { tag: o.ETag } : {}) });
    }
    return files;
  }

  async writeReport(runId: string, report: unknown): Promise<string> {
    if (!isRunId(runId)) throw new InputError(`no report for run ${show(runId)}`);
    const key = `${this.reportsPrefix}/${runId}.json`;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: `${JSON.stringify(report, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    );
    return `s3://${this.bucket}/${key}`;
  }
}
