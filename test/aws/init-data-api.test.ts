import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  ExecuteStatementCommandInput,
  Field,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../src/config/config';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import { redshiftCatalog } from '../../src/sql/redshift-dialect';
import { cli } from '../support/cli';

const rsd = mockClient(RedshiftDataClient);

const COLUMNS = [
  'table_schema',
  'table_name',
  'column_name',
  'data_type',
  'char_length',
  'num_precision',
  'num_scale',
];
const field = (v: string | number | null): Field =>
  v === null ? { isNull: true } : typeof v === 'number' ? { longValue: v } : { stringValue: v };

/**
 * The catalog of the documentation's example (DG SHOW CONSTRAINTS: table demo_schema.fk2 references
 * demo_schema.pk1 by (i, j, c), key_seq 1 to 3), with a date column to archive pk1 by.
 */
const CATALOG: (string | number | null)[][] = [
  ['demo_schema', 'fk2', 'i', 'integer', null, 32, 0],
  ['demo_schema', 'fk2', 'j', 'integer', null, 32, 0],
  ['demo_schema', 'fk2', 'c', 'character', 10, null, null],
  ['demo_schema', 'fk2', 'amount', 'numeric', null, 12, 2],
  ['demo_schema', 'pk1', 'i', 'integer', null, 32, 0],
  ['demo_schema', 'pk1', 'j', 'integer', null, 32, 0],
  ['demo_schema', 'pk1', 'c', 'character', 10, null, null],
  ['demo_schema', 'pk1', 'created', 'date', null, null, null],
  ['demo_schema', 'pk1', 'note', 'character varying', 256, null, null],
];
const FOREIGN_KEY_COLUMNS = [
  'pk_database_name',
  'pk_schema_name',
  'pk_table_name',
  'pk_column_name',
  'fk_database_name',
  'fk_schema_name',
  'fk_table_name',
  'fk_column_name',
  'key_seq',
  'fk_name',
  'pk_name',
  'update_rule',
  'delete_rule',
  'deferrability',
];
const FK2_KEYS = ['i', 'j', 'c'].map((column, k) => [
  'demo_db',
  'demo_schema',
  'pk1',
  column,
  'demo_db',
  'demo_schema',
  'fk2',
  column,
  k + 1,
  'fk2_i_j_c_fkey',
  'pk1_pkey',
  3,
  3,
  7,
]);

const COLUMNS_SQL =
  'SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.character_maximum_length AS char_length, ' +
  'c.numeric_precision AS num_precision, c.numeric_scale AS num_scale FROM svv_columns c JOIN svv_tables t ' +
  "ON t.table_schema = c.table_schema AND t.table_name = c.table_name WHERE t.table_type IN ('BASE TABLE', 'TABLE') " +
  "AND (c.table_schema IN ('demo_schema')) ORDER BY c.table_schema, c.table_name, c.ordinal_position";

/** Answers each statement with what Redshift would: the catalog's rows by the SQL sent. */
function answering(sent: ExecuteStatementCommandInput[]) {
  rsd.reset();
  rsd.on(ExecuteStatementCommand).callsFake((input: ExecuteStatementCommandInput) => {
    sent.push(input);
    return { Id: `id-${sent.length}` };
  });
  rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
  rsd.on(GetStatementResultCommand).callsFake(({ Id }: { Id: string }) => {
    const sql = sent[Number(Id.slice(3)) - 1].Sql as string;
    const [labels, rows] = sql.startsWith('SELECT')
      ? [COLUMNS, CATALOG]
      : [FOREIGN_KEY_COLUMNS, sql.endsWith('"fk2"') ? FK2_KEYS : []];
    return { ColumnMetadata: labels.map((label) => ({ label })), Records: rows.map((r) => r.map(field)) };
  });
}

describe('init on Redshift through the Data API', () => {
  test("reads the columns and each table's declared foreign keys with exactly this SQL, as the operator, and only reads", async () => {
    // given the documentation's example catalog
    const sent: ExecuteStatementCommandInput[] = [];
    answering(sent);
    // when init reads it with a database user
    const result = await cli([
      'init',
      '--config',
      '-',
      '--cluster',
      'demo',
      '--database',
      'demo_db',
      '--db-user',
      'admin',
      '--region',
      'us-east-1',
      '--schema',
      'demo_schema',
    ]);
    // then three reads went, named under the operator's prefix, none of them a write
    expect(result.code).toBe(0);
    const connection = { ClusterIdentifier: 'demo', Database: 'demo_db', DbUser: 'admin' };
    expect(sent).toEqual([
      { ...connection, StatementName: 'redshift-archive-operator.init.init.columns', Sql: COLUMNS_SQL },
      {
        ...connection,
        StatementName: 'redshift-archive-operator.init.init.keys.0',
        Sql: 'SHOW CONSTRAINTS FOREIGN KEYS FROM TABLE "demo_schema"."fk2"',
      },
      {
        ...connection,
        StatementName: 'redshift-archive-operator.init.init.keys.1',
        Sql: 'SHOW CONSTRAINTS FOREIGN KEYS FROM TABLE "demo_schema"."pk1"',
      },
    ]);
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(0);
    // and the configuration archives pk1 by its date and fk2 with it by the composite key
    const config = parseConfig(JSON.parse(result.stdout));
    expect(config.warehouse).toEqual({
      type: 'provisioned',
      clusterIdentifier: 'demo',
      database: 'demo_db',
      dbUser: 'admin',
    });
    expect(config.tables.map((t) => [t.name, t.archiveBy, t.columns.map((c) => c.type)])).toEqual([
      [
        'pk1',
        { column: 'created' },
        [
          { kind: 'integer' },
          { kind: 'integer' },
          { kind: 'char', length: 10 },
          { kind: 'date' },
          { kind: 'varchar', length: 256 },
        ],
      ],
      [
        'fk2',
        { parent: 'pk1', foreignKey: ['i', 'j', 'c'], parentKey: ['i', 'j', 'c'] },
        [
          { kind: 'integer' },
          { kind: 'integer' },
          { kind: 'char', length: 10 },
          { kind: 'decimal', precision: 12, scale: 2 },
        ],
      ],
    ]);
    expect(result.stderr).toContain(
      'parent demo_schema.pk1 by (i, j, c) = (i, j, c) (declared foreign key fk2_i_j_c_fkey)',
    );
  });

  test('reaches a workgroup as the IAM identity, with no user or secret', async () => {
    const sent: ExecuteStatementCommandInput[] = [];
    answering(sent);
    const result = await cli([
      'init',
      '--config',
      '-',
      '--workgroup',
      'wg1',
      '--database',
      'demo_db',
      '--region',
      'us-east-1',
      '--tables',
      'demo_schema.pk1',
    ]);
    expect(result.code).toBe(0);
    expect(sent[0]).toMatchObject({ WorkgroupName: 'wg1', Database: 'demo_db' });
    expect(Object.keys(sent[0]).sort()).toEqual(['Database', 'Sql', 'StatementName', 'WorkgroupName']);
    expect(sent[0].Sql).toContain(`AND ((c.table_schema = 'demo_schema' AND c.table_name = 'pk1')) ORDER BY`);
  });
});

describe("init's catalog reads on the embedded engine", () => {
  test('reads base tables of schemas and tables, and declared keys by their place in the key, with exactly this SQL', () => {
    const scope = { schemas: ['Sales'], tables: [{ schema: 'ops', name: 'fam2' }] };
    expect(duckdbDialect.tableColumnsQuery(scope)).toBe(
      'SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.character_maximum_length AS char_length, ' +
        'c.numeric_precision AS num_precision, c.numeric_scale AS num_scale FROM information_schema.columns c ' +
        'JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name ' +
        "WHERE t.table_type = 'BASE TABLE' AND (lower(c.table_schema) IN ('sales') OR " +
        "(lower(c.table_schema) = 'ops' AND lower(c.table_name) = 'fam2')) " +
        'ORDER BY c.table_schema, c.table_name, c.ordinal_position',
    );
    expect(duckdbDialect.foreignKeysQueries([{ schema: 'ops', name: 'fam2' }])).toEqual([
      'SELECT k.constraint_name AS fk_name, k.table_schema AS fk_schema_name, k.table_name AS fk_table_name, ' +
        'k.column_name AS fk_column_name, k.ordinal_position AS key_seq, u.table_schema AS pk_schema_name, ' +
        'u.table_name AS pk_table_name, u.column_name AS pk_column_name FROM information_schema.referential_constraints r ' +
        'JOIN information_schema.key_column_usage k ON k.constraint_schema = r.constraint_schema AND k.constraint_name = r.constraint_name ' +
        'JOIN information_schema.key_column_usage u ON u.constraint_schema = r.unique_constraint_schema ' +
        'AND u.constraint_name = r.unique_constraint_name AND u.ordinal_position = k.position_in_unique_constraint ' +
        "WHERE (lower(k.table_schema) = 'ops' AND lower(k.table_name) = 'fam2') ORDER BY 2, 3, 1, 5",
    ]);
    expect(redshiftCatalog.foreignKeysQueries([])).toEqual([]);
  });
});
