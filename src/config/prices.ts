import type { ArchiveConfig } from './types';

/** The prices the estimates use, every one given. */
export interface Prices {
  readonly warehouseGbMonth: number;
  readonly lakeGbMonth: number;
  readonly scanPerTb: number;
  readonly retrievalPerGb: number;
  readonly source: string;
}

/**
 * us-east-1 list prices, read 2026-11 (re-check before quoting them: prices change):
 * - Redshift Managed Storage, which Serverless primary storage is billed as: $0.024 per GB-month
 *   (https://aws.amazon.com/redshift/pricing/; MG "Billing for Amazon Redshift Serverless").
 * - S3 Standard-IA, the storage class the stack's lifecycle rule moves archived files to after 90
 *   days: $0.0125 per GB-month, and $0.01 per GB retrieved, which a deep audit's read pays
 *   (https://aws.amazon.com/s3/pricing/). Glacier Instant Retrieval would be $0.004 and $0.03.
 * - Spectrum (provisioned RA3) and Athena: $5 per TB scanned, 10 MB minimum per query
 *   (https://aws.amazon.com/athena/pricing/; AWS re:Post "Redshift Spectrum query charges").
 *   Serverless bills Spectrum reads as RPU time instead.
 */
export const DEFAULT_PRICES: Prices = {
  warehouseGbMonth: 0.024,
  lakeGbMonth: 0.0125,
  scanPerTb: 5,
  retrievalPerGb: 0.01,
  source: 'us-east-1 list prices of 2026-11, S3 Standard-IA',
};

/** The configuration's prices, each one it leaves out taking its default. */
export function pricesOf(config: Pick<ArchiveConfig, 'prices'>): Prices {
  const given = config.prices ?? {};
  const source =
    given.source ??
    (Object.keys(given).length === 0 ? DEFAULT_PRICES.source : 'the configuration, defaults for the rest');
  return { ...DEFAULT_PRICES, ...given, source };
}
