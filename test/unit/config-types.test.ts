import { configJson, parseConfig, type ConfigSchemaOutput } from '../../src/config/config';
import type { ArchiveConfig } from '../../src/config/types';

// Compile time (tsc --noEmit, part of `npm run build`): the zod schema's output and the plain
// interfaces that the package exports are one type, each assignable to the other. A field added to
// the schema but not to src/config/types.ts, or the other way round, fails the build here.
type Assignable<From, To> = [From] extends [To] ? true : false;
type Mutual<A, B> = Assignable<A, B> extends true ? Assignable<B, A> : false;
export const schemaOutputIsThePlainConfig: Mutual<ConfigSchemaOutput, ArchiveConfig> = true;
export const eachTableToo: Mutual<ConfigSchemaOutput['tables'][number], ArchiveConfig['tables'][number]> =
  true;
// The check bites: a plain interface missing a section, or with one too many, is refused.
// @ts-expect-error the schema's output has `maintenance`, which this type lacks
export const missingSection: Mutual<ConfigSchemaOutput, Omit<ArchiveConfig, 'maintenance'>> = true;
// @ts-expect-error the schema's output has no `comment` on a table
export const extraField: Mutual<ConfigSchemaOutput, ArchiveConfig & { tables: { comment: string }[] }> = true;

test('a configuration written as the plain ArchiveConfig reads back the same from its JSON', () => {
  // given a configuration built from the plain interfaces alone, every default spelled out
  const config: ArchiveConfig = {
    warehouse: { type: 'serverless', workgroupName: 'analytics', database: 'dev' },
    lake: { prefix: 'archive', reportsPrefix: 'archive-reports' },
    catalog: { database: 'archive', externalSchema: 'archive_ext' },
    views: { schema: 'reporting', prefix: '', readers: [{ kind: 'group', name: 'analysts' }] },
    retention: { keepYears: 2, timeZone: 'Europe/Berlin' },
    maxAttempts: 3,
    ledger: { schema: 'archive_meta', stageSchema: 'archive_stage' },
    maintenance: { vacuum: false },
    tables: [
      {
        schema: 'sales',
        name: 'orders',
        alias: 'orders',
        archiveBy: { column: 'ordered_at' },
        columns: [
          { name: 'id', type: { kind: 'bigint' } },
          { name: 'ordered_at', type: { kind: 'timestamptz' } },
          { name: 'total', type: { kind: 'decimal', precision: 12, scale: 2 } },
        ],
      },
      {
        schema: 'sales',
        name: 'order_lines',
        alias: 'sales_order_lines',
        archiveBy: { parent: 'orders', foreignKey: ['order_id'], parentKey: ['id'] },
        columns: [
          { name: 'order_id', type: { kind: 'bigint' } },
          { name: 'sku', type: { kind: 'varchar', length: 32 } },
        ],
      },
    ],
  };

  // when it is written as the file and validated again, then nothing is added, lost or changed
  expect(parseConfig(JSON.parse(configJson(config)))).toEqual(config);
});
