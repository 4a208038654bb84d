import {
  columnTypeProblem,
  parseColumnType,
  simpleCatalogType,
  travelType,
  typeMapping,
  typeName,
  typeOfGlue,
} from '../../src/core/column-types';

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
    // travel as text, which the views cast back
    ['time', 'TIME', 'BYTE_ARRAY (UTF8)', 'varchar(15)', 'TIME'],
    ['timetz', 'TIMETZ', 'BYTE_ARRAY (UTF8)', 'varchar(24)', 'TIMETZ'],
    ['varbyte(100)', 'VARBYTE(100)', 'BYTE_ARRAY (UTF8)', 'varchar(200)', 'BLOB'],
    ['varbyte(32767)', 'VARBYTE(32767)', 'BYTE_ARRAY (UTF8)', 'varchar(65534)', 'BLOB'],
    ['super', 'SUPER', 'BYTE_ARRAY (UTF8)', 'varchar(65535)', 'JSON'],
  ])('maps %s to Redshift %s, Parquet %s, Glue %s and DuckDB %s', (text, redshift, parquet, glue, duckdb) => {
    const type = parseColumnType(text);
    expect(type).toBeDefined();
    expect(typeMapping(type as NonNullable<typeof type>)).toEqual({ redshift, parquet, glue, duckdb });
  });

  test.each([
    ['int2', 'smallint'],
    ['int', 'integer'],
    ['INT4', 'integer'],
    ['int8', 'bigint'],
    ['numeric(12,2)', 'decimal(12,2)'],
    ['numeric', 'decimal(18,0)'],
    ['decimal(10)', 'decimal(10,0)'],
    ['float4', 'real'],
    ['float8', 'double precision'],
    ['float', 'double precision'],
    ['bool', 'boolean'],
    ['character(3)', 'char(3)'],
    ['nchar(3)', 'char(3)'],
    ['char', 'char(1)'],
    ['bpchar', 'char(256)'],
    ['character varying(20)', 'varchar(20)'],
    ['Character  Varying ( 20 )', 'varchar(20)'],
    ['nvarchar(20)', 'varchar(20)'],
    ['text', 'varchar(256)'],
    ['varchar', 'varchar(256)'],
    ['timestamp without time zone', 'timestamp'],
    ['timestamp with time zone', 'timestamptz'],
    ['time without time zone', 'time'],
    ['time with time zone', 'timetz'],
    ['varbinary(10)', 'varbyte(10)'],
    ['binary varying(10)', 'varbyte(10)'],
  ])("reads Redshift's own spelling %j as %s, the one canonical type", (text, canonical) => {
    const type = parseColumnType(text);
    expect(type && typeName(type)).toBe(canonical);
    expect(parseColumnType(canonical)).toEqual(type);
  });

  test.each([
    'decimal(39,2)',
    'decimal(5,6)',
    'char(0)',
    'varchar(65536)',
    'char(4097)',
    'varbyte(32768)',
    // VARBYTE is VARBYTE(64000) when no length is given: its hex would not fit
    'varbyte',
    'geometry',
    'hllsketch',
    'money',
    '',
  ])('refuses %j', (text) => {
    expect(parseColumnType(text)).toBeUndefined();
  });

  test('says why a type cannot be archived, and that the table and its descendants stay hot', () => {
    expect(columnTypeProblem('GEOMETRY')).toBe(
      'UNLOAD writes GEOMETRY to text or CSV only, not Parquet (Redshift UNLOAD), and Spectrum and Athena have no such type: ' +
        'the table and its descendants stay hot (leave them out of the configuration)',
    );
    expect(columnTypeProblem('geography')).toContain('GEOGRAPHY');
    expect(columnTypeProblem('hllsketch')).toContain('only Redshift can read the value');
    expect(columnTypeProblem('varbyte(40000)')).toContain('varbyte(n) with n <= 32767');
    expect(columnTypeProblem('money')).toBeUndefined();
  });

  test('TIME, TIMETZ, VARBYTE and SUPER travel as a VARCHAR their text fits', () => {
    expect(
      ['time', 'timetz', 'varbyte(8)', 'super'].map((t) => travelType(parseColumnType(t) as never)),
    ).toEqual([
      { kind: 'varchar', length: 15 },
      { kind: 'varchar', length: 24 },
      { kind: 'varchar', length: 16 },
      { kind: 'varchar', length: 65535 },
    ]);
  });

  test.each([
    ['redshift', 'timestamp with time zone', 'timestamptz'],
    ['redshift', 'timestamp without time zone', 'timestamp'],
    ['redshift', 'double precision', 'double precision'],
    ['duckdb', 'TIMESTAMP WITH TIME ZONE', 'timestamptz'],
    ['duckdb', 'FLOAT', 'real'],
    ['duckdb', 'DOUBLE', 'double precision'],
    ['redshift', 'time without time zone', 'time'],
    ['redshift', 'time with time zone', 'timetz'],
    ['redshift', 'super', 'super'],
    ['duckdb', 'TIME WITH TIME ZONE', 'timetz'],
    ['duckdb', 'JSON', 'super'],
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
