/**
 * The package's one entry point (`import { RedshiftArchive } from 'redshift-archive'`): the
 * construct, its stack, their props, and the configuration they take. Nothing else of the
 * repository is public; `lib/private/` and `src/` may change in any release.
 */
export { RedshiftArchive, type IRedshiftArchive } from './redshift-archive';
export type { ArchiveTransition, RedshiftArchiveProps } from './props';
export { RedshiftArchiveStack, type RedshiftArchiveStackProps } from './redshift-archive-stack';
export { loadConfig, parseConfig } from '../src/config/config';
export type {
  ArchiveBy,
  ArchiveByColumn,
  ArchiveByParent,
  ArchiveConfig,
  CatalogConfig,
  ColumnConfig,
  LakeConfig,
  LedgerConfig,
  MaintenanceConfig,
  PricesConfig,
  ProvisionedWarehouse,
  Reader,
  RetentionConfig,
  ServerlessWarehouse,
  TableConfig,
  ViewsConfig,
  WarehouseConfig,
} from '../src/config/types';
export type {
  CharacterColumnType,
  ColumnType,
  DecimalColumnType,
  PlainColumnType,
} from '../src/core/column-types';
