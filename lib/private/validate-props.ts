import { aws_s3 as s3 } from 'aws-cdk-lib';
import { InputError } from '../../src/core/errors';
import { statementSizeProblems } from '../../src/sql/limits';
import type { RedshiftArchiveProps } from '../props';
import { ATHENA_RESULTS_PREFIX } from './bucket';

/** Storage classes that Athena and Spectrum can still read without a restore. */
export const READABLE_CLASSES = [
  s3.StorageClass.INFREQUENT_ACCESS,
  s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  s3.StorageClass.INTELLIGENT_TIERING,
];

/**
 * IAM role names (IAM API Reference, CreateRole `RoleName`), in lower case: the database user
 * `IAMR:<name>` then reads the same whether or not Redshift folds it to lower case.
 */
const DATA_API_ROLE_NAME = /^[a-z0-9+=,.@_-]{1,64}$/;

/** The Serverless role of the functions that send SQL, when `dataApiRoleName` is not given. */
export function defaultDataApiRoleName(stackName: string): string {
  return `${stackName.toLowerCase()}-data-api`;
}

function problem(field: string, value: unknown, allowed: string): string {
  return `${field}: ${JSON.stringify(value)} is not allowed; allowed: ${allowed}`;
}

/** One concern of the props: the problems it finds, none when the props are fine. */
type Check = (props: RedshiftArchiveProps, stackName: string) => string[];

const transition: Check = ({ archiveTransition: t }) => {
  if (!t) return [];
  if (!READABLE_CLASSES.includes(t.storageClass)) {
    return [
      problem(
        'archiveTransition.storageClass',
        t.storageClass.value,
        'STANDARD_IA, GLACIER_IR or INTELLIGENT_TIERING (Athena and Spectrum cannot read Glacier Flexible Retrieval or Deep Archive)',
      ),
    ];
  }
  const days = t.after.toDays();
  return days < 30 && t.storageClass === s3.StorageClass.INFREQUENT_ACCESS
    ? [problem('archiveTransition.after', `${days} days`, 'at least 30 days for STANDARD_IA (an S3 rule)')]
    : [];
};

const alarmEmail: Check = ({ alarmEmail: email }) =>
  email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)
    ? [problem('alarmEmail', email, 'an e-mail address')]
    : [];

const athenaCutoff: Check = ({ athenaBytesScannedCutoffPerQuery: cutoff }) =>
  cutoff !== undefined && (!Number.isInteger(cutoff) || cutoff < 10_000_000)
    ? [
        problem(
          'athenaBytesScannedCutoffPerQuery',
          cutoff,
          'a whole number of bytes, at least 10000000 (an Athena rule)',
        ),
      ]
    : [];

const ROLE_NAME_RULE = 'an IAM role name in lower case: a-z, 0-9 and +=,.@_- , at most 64 characters';

const dataApiRole: Check = ({ config, dataApiRoleName: name }, stackName) => {
  if (name === undefined) {
    const derived = defaultDataApiRoleName(stackName);
    return config.warehouse.type === 'serverless' && !DATA_API_ROLE_NAME.test(derived)
      ? [problem('dataApiRoleName (its default from the stack name)', derived, ROLE_NAME_RULE)]
      : [];
  }
  if (config.warehouse.type !== 'serverless') {
    return [
      problem(
        'dataApiRoleName',
        name,
        'only with a Serverless warehouse (a provisioned one uses dbUser or secretArn)',
      ),
    ];
  }
  return DATA_API_ROLE_NAME.test(name) ? [] : [problem('dataApiRoleName', name, ROLE_NAME_RULE)];
};

const secretKey: Check = ({ config: { warehouse: w }, secretKey: key }) =>
  key && !(w.type === 'provisioned' && w.secretArn !== undefined)
    ? [
        problem(
          'secretKey',
          key.node.path,
          'only with a provisioned warehouse that names secretArn (the key that encrypts that secret)',
        ),
      ]
    : [];

const unloadTimeout: Check = ({ unloadTimeout: timeout }) => {
  const seconds = timeout?.toSeconds();
  return seconds !== undefined && (seconds < 180 || seconds > 900)
    ? [problem('unloadTimeout', `${seconds} seconds`, 'from 3 to 15 minutes')]
    : [];
};

const lakePrefixes: Check = ({ config: { lake } }) => {
  const prefixes = [lake.prefix, lake.reportsPrefix, ATHENA_RESULTS_PREFIX];
  const overlap = prefixes.some((a, i) =>
    prefixes.slice(i + 1).some((b) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)),
  );
  return overlap
    ? [
        problem(
          'config.lake',
          { prefix: lake.prefix, reportsPrefix: lake.reportsPrefix },
          `prefixes that do not overlap each other or ${ATHENA_RESULTS_PREFIX}`,
        ),
      ]
    : [];
};

/** Every statement the configuration makes the project send fits the Data API (100 KB each). */
const statementSizes: Check = ({ config }) => statementSizeProblems(config).map((p) => `config.${p}`);

const CHECKS: readonly Check[] = [
  statementSizes,
  transition,
  alarmEmail,
  athenaCutoff,
  dataApiRole,
  secretKey,
  unloadTimeout,
  lakePrefixes,
];

/**
 * Checks the props before anything is built, each concern on its own, and reports every problem
 * at once: a user fixes them in one pass, not one synth per mistake.
 * @throws InputError naming each prop, its bad value and what is allowed
 */
export function validateProps(props: RedshiftArchiveProps, stackName: string): void {
  const problems = CHECKS.flatMap((check) => check(props, stackName));
  if (problems.length === 1) throw new InputError(`RedshiftArchive props: ${problems[0]}`);
  if (problems.length > 1) {
    throw new InputError(
      `RedshiftArchive props: ${problems.length} problems\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}
