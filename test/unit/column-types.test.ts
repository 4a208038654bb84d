import { parseColumnType, simpleCatalogType, typeMapping, typeOfGlue } from '../../src/core/column-types';

describe('the type mapping', () => {
  test.each([
    ['smallint', 'SMALLINT', 'INT32 (INT_16)', 'smallint', 'SMALLINT'],
    ['integer', 'INTEGER', 'INT32', 'int', 'INTEGER'],
    ['bigint', 'BIGINT', 'INT64', 'bigint', 'BIGINT'],
    ['decimal(12,2)', 'DECIMAL(12,2)', 'DECIMAL(12,2)', 'decimal(12,2)', 'DECIMAL(12,2)'],
    ['DECIMAL( 38 , 0 )', 'DECIMAL(38,0)', 'DECIMAL(38,0)', 'decimal(38,0)', 'DECIMAL(38,0)'],
    ['real', 'REAL', 'FLOAT', 'float', 'REAL'],
    ['double precision', 'DOUBLE PRECISION', 'DOUBLE', 'double', 'DOUBLE'],
    ['Double  Precision', 'DOUBLE PRECISION', 'DOUBLE', 'double', 'DOUBLE'],
    ['boolean', 'BOOLEAN', 'BOOLEAN', 'boolean', 'BOOLEAN'],
    ['char(3)', 'CHAR(3)', 'BYTE_ARRAY (UTF8)', 'char(3)', 'VARCHAR'],
    // Athena's char(n) stops at 255; longer CHAR columns are varchar in the catalog
    ['char(255)', 'CHAR(255)', 'BYTE_ARRAY (UTF8)', 'char(255)', 'VARCHAR'],
    ['char(256)', 'CHAR(256)', 'BYTE_ARRAY (UTF8)', 'varchar(256)', 'VARCHAR'],
    ['char(4096)', 'CHAR(4096)', 'BYTE_ARRAY (UTF8)', 'varchar(4096)', 'VARCHAR'],
    ['varchar(256)', 'VARCHAR(256)', 'BYTE_ARRAY (UTF8)', 'varchar(256)', 'VARCHAR'],
    ['date', 'DATE', 'INT32 (DATE)', 'date', 'DATE'],
    ['timestamp', 'TIMESTAMP', 'INT64 (TIMESTAMP, MICROS)', 'timestamp', 'TIMESTAMP'],
    ['timestamptz', 'TIMESTAMPTZ', 'INT64 (TIMESTAMP, MICROS)', 'timestamp', 'TIMESTAMPTZ'],
  ])('maps %s to Redshift %s, Parquet %s, Glue %s and DuckDB %s', (text, redshift, parquet, glue, duckdb) => {
    const type = parseColumnType(text);
    expect(type).toBeDefined();
    expect(typeMapping(type as NonNullable<typeof type>)).toEqual({ redshift, parquet, glue, duckdb });
  });

  test.each([
    'float',
    'float4',
    'int',
    'text',
    'decimal(39,2)',
    'decimal(5,6)',
    'decimal(10)',
    'char(0)',
    'varchar(65536)',
    'char(4097)',
    'timestamp with time zone',
    '',
  ])('refuses %j', (text) => {
    expect(parseColumnType(text)).toBeUndefined();
  });

  test.each([
    ['redshift', 'timestamp with time zone', 'timestamptz'],
    ['redshift', 'timestamp without time zone', 'timestamp'],
    ['redshift', 'double precision', 'double precision'],
    ['duckdb', 'TIMESTAMP WITH TIME ZONE', 'timestamptz'],
    ['duckdb', 'FLOAT', 'real'],
    ['duckdb', 'DOUBLE', 'double precision'],
  ] as const)('reads %s catalog type %j as %s', (engine, dataType, kind) => {
    expect(simpleCatalogType(engine, dataType)).toEqual({ kind });
  });

  test.each([
    ['redshift', 'numeric'],
    ['redshift', 'REAL'],
    ['duckdb', 'real'],
    ['duckdb', 'VARCHAR'],
  ] as const)('leaves %s catalog type %j to the dialect', (engine, dataType) => {
    expect(simpleCatalogType(engine, dataType)).toBeUndefined();
  });

  test.each([
    ['int', { kind: 'integer' }],
    ['float', { kind: 'real' }],
    ['timestamp', { kind: 'timestamp' }],
    ['decimal(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    ['varchar(256)', { kind: 'varchar', length: 256 }],
    ['char(3)', { kind: 'char', length: 3 }],
    ['string', undefined],
  ])('reads the Glue type %j back as %j', (glue, type) => {
    expect(typeOfGlue(glue)).toEqual(type);
  });

  test.each([
    'smallint',
    'integer',
    'bigint',
    'real',
    'double precision',
    'boolean',
    'date',
    'timestamp',
    'decimal(9,3)',
    'varchar(10)',
  ])('reads back the Glue type it declares for %s', (text) => {
    const type = parseColumnType(text);
    expect(typeOfGlue(typeMapping(type as NonNullable<typeof type>).glue)).toEqual(type);
  });
});
