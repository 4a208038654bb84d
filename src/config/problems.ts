import type { z } from 'zod';
import { show } from '../core/errors';

/**
 * One problem of an input (a configuration file, a footprint): where it is, what is wrong, and
 * what is allowed. Every problem of an input is found in one pass and reported together, each
 * allowed list once per kind of problem (docs/design.md §1, "Errors a person can act on").
 */
export interface Problem {
  /** Where, as the file names it: `tables["sales.orders"].columns["amount"].type`. */
  readonly at: string;
  /** What is wrong: `"money" is not allowed`, `is missing`. */
  readonly says: string;
  /** What is allowed, as a sentence of its own (`allowed: ...`, `allowed keys: ...`); none when nothing is to choose. */
  readonly allowed?: string;
}

type Path = readonly PropertyKey[];

function isRecord(value: unknown): value is Record<PropertyKey, unknown> {
  return value !== null && typeof value === 'object';
}

/** The value at `path` in `input`; undefined when there is none. */
export function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return value;
}

/**
 * How a person finds an entry of a list: a table by `schema.name`, a column by its name, when the
 * entry has them and no other entry of the list has the same; otherwise its position.
 */
function entryName(list: unknown, index: number, of: 'tables' | 'columns'): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const key = (entry: unknown): string | undefined => {
    if (!isRecord(entry)) return undefined;
    if (of === 'columns') return typeof entry.name === 'string' ? entry.name : undefined;
    return typeof entry.schema === 'string' && typeof entry.name === 'string'
      ? `${entry.schema}.${entry.name}`
      : undefined;
  };
  const mine = key(list[index]);
  if (mine === undefined) return undefined;
  const same = list.filter((e) => key(e)?.toLowerCase() === mine.toLowerCase()).length;
  return same === 1 ? mine : undefined;
}

/**
 * A path as the file names it: `tables["sales.orders"].columns["amount"].type`, tables and
 * columns by their names (positions only where an entry has no name, or shares it), other lists
 * by position.
 */
export function pathText(input: unknown, path: Path): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (typeof key === 'number') {
      const parent = path[i - 1];
      const named =
        parent === 'tables' || parent === 'columns'
          ? entryName(valueAt(input, path.slice(0, i)), key, parent)
          : undefined;
      out += named === undefined ? `[${key}]` : `[${JSON.stringify(named)}]`;
    } else {
      out += out ? `.${String(key)}` : String(key);
    }
  }
  return out || '(top level)';
}

/** What the file says about a value: the problem, where `allowed` is what the rule allows. */
export function problemAt(input: unknown, path: Path, allowed: string, says?: string): Problem {
  const value = valueAt(input, path);
  return {
    at: pathText(input, path),
    says: says ?? (value === undefined ? 'is missing' : `${show(value)} is not allowed`),
    allowed,
  };
}

const HUMAN_ALLOWED: Record<string, string> = {
  cluster: 'allowed: a cluster identifier (lower-case letters, digits and single hyphens, at most 63)',
  workgroup: 'allowed: a workgroup name (3 to 64 lower-case letters, digits or hyphens)',
  prefix: 'allowed: an S3 key prefix of letters, digits, . _ - separated by /, no leading or trailing /',
  role: 'allowed: an IAM role ARN (arn:aws:iam::<account>:role/<name>) already associated with the cluster or namespace',
};

function schemaDescription(issue: z.core.$ZodIssue): string | undefined {
  const last = issue.path[issue.path.length - 1];
  if (issue.code === 'invalid_format' || issue.code === 'too_big') {
    if (last === 'clusterIdentifier') return HUMAN_ALLOWED.cluster;
    if (last === 'workgroupName') return HUMAN_ALLOWED.workgroup;
    if (last === 'prefix' || last === 'reportsPrefix') return HUMAN_ALLOWED.prefix;
    if (last === 'roleArn') return HUMAN_ALLOWED.role;
  }
  return undefined;
}

function allowedFromZod(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'array'
        ? 'a list'
        : issue.expected === 'int'
          ? 'a whole number'
          : `a ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array' ? `a list of at least ${issue.minimum}` : `at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `a list of at most ${issue.maximum}` : `at most ${issue.maximum}`;
    case 'invalid_value':
      return issue.values.map((v) => show(v)).join(' or ');
    case 'invalid_format':
      return `a value matching ${'pattern' in issue ? String(issue.pattern) : issue.format}`;
    case 'invalid_union':
      return 'either {"column": ...} or {"parent": ..., "foreignKey": ..., "parentKey": ...}';
    default:
      return issue.message;
  }
}

/**
 * The problems of one zod issue, its path under `prefix` in `input` (a section of a file is
 * checked on its own, so that the other sections' problems come in the same pass).
 */
export function issueProblems(issue: z.core.$ZodIssue, input: unknown, prefix: Path = []): Problem[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      at: pathText(input, [...path, key]),
      says: 'unknown key',
      allowed: issue.message,
    }));
  }
  const allowed = issue.message.startsWith('allowed')
    ? issue.message
    : (schemaDescription(issue) ?? `allowed: ${allowedFromZod(issue)}`);
  return [problemAt(input, path, allowed)];
}

/**
 * The problems as lines, in the order found, except that problems with the same allowed list
 * (several columns of a type that is not allowed, say) stand together, where the first of them
 * was, and the list is said once after them.
 */
export function problemLines(problems: readonly Problem[]): string[] {
  const groups = new Map<string, Problem[]>();
  problems.forEach((p, i) => {
    const key = p.allowed ?? `\0${i}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  });
  return [...groups.values()].flatMap((group) => {
    const [{ allowed }] = group;
    if (group.length === 1 || allowed === undefined) {
      return group.map((p) => `${p.at}: ${p.says}${p.allowed ? `; ${p.allowed}` : ''}`);
    }
    const shared = allowed.replace(/^(allowed(?: keys)?):/, `$1, for the ${group.length} above:`);
    return [...group.map((p) => `${p.at}: ${p.says}`), `  ${shared}`];
  });
}
