import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputError } from '../core/errors';

const WAREHOUSE = 'the DuckDB file that holds the configured tables';

/** What an error of the file system says, in its own first words (`EROFS: read-only file system`). */
const why = (error: unknown) => (error instanceof Error ? error.message.split(',')[0] : String(error));

/**
 * The embedded engine's paths, checked before anything opens them: opening a DuckDB file that
 * does not exist creates it, and a folder that cannot be written fails half way through a run.
 * Paths are quoted in full (a path's end is often what is wrong).
 * @param writes - the command writes to the lake (run, abort, restore, repair)
 * @throws InputError naming `--local` or `--lake`, the path and what is allowed
 */
export async function checkLocalPaths(
  paths: { warehouse: string; lake: string },
  writes: boolean,
): Promise<void> {
  await checkWarehouseFile(paths.warehouse);
  const lake = JSON.stringify(paths.lake);
  const folder = await stat(paths.lake).catch(() => undefined);
  if (folder && !folder.isDirectory()) {
    throw new InputError(`--lake: ${lake} is a file; allowed: a folder (the first run creates it)`);
  }
  if (!writes) return;
  // The folder itself, or the nearest one above it that exists (the first run creates the rest).
  let existing = resolve(paths.lake);
  while (!(await stat(existing).catch(() => undefined)) && dirname(existing) !== existing)
    existing = dirname(existing);
  try {
    await access(existing, constants.W_OK);
  } catch (error) {
    throw new InputError(
      `--lake: ${lake} is not writable (${why(error)}); allowed: a folder this user may write`,
    );
  }
}

/**
 * The embedded warehouse's file: it must exist (opening one that does not creates it).
 * @throws InputError naming `--local`, the path and what is allowed
 */
export async function checkWarehouseFile(path: string): Promise<void> {
  const warehouse = JSON.stringify(path);
  let found;
  try {
    found = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(
        `--local: ${warehouse} does not exist; allowed: ${WAREHOUSE} (the embedded engine never creates a warehouse: ` +
          'load the tables into one first)',
      );
    }
    throw new InputError(`--local: ${warehouse} cannot be read (${why(error)}); allowed: ${WAREHOUSE}`);
  }
  if (found.isDirectory())
    throw new InputError(`--local: ${warehouse} is a directory; allowed: ${WAREHOUSE}`);
}
