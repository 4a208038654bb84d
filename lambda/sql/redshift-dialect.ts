import { PARTITION_KEYS, ArchiveConfig } from '../config/config';
import { typeMapping } from '../core/column-types';
import { startOfDayUtc } from '../core/cutoff';
import { InputError, show } from '../core/errors';
import type { Dialect } from './dialect';
import { quoteIdent } from './identifiers';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\-/]{1,512}$/;
const KMS_KEY = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/)?[A-Za-z0-9-]{1,128}$/;

/** What UNLOAD and the external schema need besides configuration. */
export interface RedshiftOptions {
  /** The role Redshift assumes to write the lake and read the catalog. */
  readonly iamRoleArn: string;
  /** Encrypt exported files with this KMS key instead of SSE-S3. */
  readonly kmsKeyId?: string;
}

/** Validates the options: both values are rendered into SQL, where UNLOAD takes no parameters. */
export function checkRedshiftOptions(options: RedshiftOptions): RedshiftOptions {
  if (!ROLE_ARN.test(options.iamRoleArn)) {
    throw new InputError(`iamRoleArn: ${show(options.iamRoleArn)} is not allowed; allowed: an IAM role ARN`);
  }
  if (options.kmsKeyId !== undefined && !KMS_KEY.test(options.kmsKeyId)) {
    throw new InputError(
      `kmsKeyId: ${show(options.kmsKeyId)} is not allowed; allowed: a KMS key id or key ARN`,
    );
  }
  return options;
}

/** Redshift's string literal: quotes doubled, and backslashes too (Redshift reads `\` as an escape). */
function literal(text: string): string {
  if (text.includes('\0')) throw new InputError(`refusing a literal with a NUL character: ${show(text)}`);
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The Redshift dialect of the archive protocol, sent through the Data API. */
export function redshiftDialect(options: RedshiftOptions): Dialect {
  const { iamRoleArn, kmsKeyId } = checkRedshiftOptions(options);
  return {
    name: 'redshift',
    literal,
    columnType: (type) => typeMapping(type).redshift,
    cutoffLiteral(type, cutoff, timeZone) {
      switch (type.kind) {
        case 'date':
          return `CAST('${cutoff}' AS DATE)`;
        case 'timestamptz':
          return `CAST('${startOfDayUtc(cutoff, timeZone)}+00' AS TIMESTAMPTZ)`;
        default:
          return `CAST('${cutoff} 00:00:00' AS TIMESTAMP)`;
      }
    },
    yearOf(expr, type, timeZone) {
      const local = type.kind === 'timestamptz' ? `CONVERT_TIMEZONE(${literal(timeZone)}, ${expr})` : expr;
      return `CAST(EXTRACT(YEAR FROM ${local}) AS INTEGER)`;
    },
    checksum(expr) {
      // FNV_HASH hashes the value's binary form (CHAR trailing blanks included) into a BIGINT;
      // summed as DECIMAL(38,0) it cannot overflow for any table Redshift can hold.
      return `COALESCE(SUM(CAST(FNV_HASH(${expr}) AS DECIMAL(38,0))), 0)`;
    },
    createView(name, select) {
      // Late binding: the view survives the external table and the stage tables being replaced.
      return `CREATE VIEW ${name} AS ${select} WITH NO SCHEMA BINDING`;
    },
    unload(select, location) {
      const encryption = kmsKeyId ? ` KMS_KEY_ID ${literal(kmsKeyId)} ENCRYPTED` : '';
      return [
        `UNLOAD (${literal(select)}) TO ${literal(location)} IAM_ROLE ${literal(iamRoleArn)} FORMAT AS PARQUET ` +
          `PARTITION BY (${quoteIdent(PARTITION_KEYS.year)}) MANIFEST VERBOSE${encryption}`,
      ];
    },
    maintenance(table) {
      return [`VACUUM DELETE ONLY ${table}`, `ANALYZE ${table}`];
    },
  };
}

/**
 * The external schema over the Glue database (deploy time; not allowed in a transaction). It
 * maps the catalog into Redshift; dropping it later leaves the Glue database and the data alone.
 */
export function externalSchemaStatement(config: ArchiveConfig, options: RedshiftOptions): string {
  const { iamRoleArn } = checkRedshiftOptions(options);
  return (
    `CREATE EXTERNAL SCHEMA IF NOT EXISTS ${quoteIdent(config.catalog.externalSchema)} FROM DATA CATALOG ` +
    `DATABASE ${literal(config.catalog.database)} IAM_ROLE ${literal(iamRoleArn)}`
  );
}
