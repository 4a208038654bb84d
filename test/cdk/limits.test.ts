import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../src/config/config';
import { SIZED_FOR_RUNS } from '../../src/sql/limits';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { MAX_TEMPLATE_BYTES, templateLimits } from '../../lib/private/template-limits';
import { config, stackOf, unitApp } from './support';
import { checkEventSize } from '../../lib/private/schema-and-views';
import contabyx from '../../config/contabyx.json';

/** The sample configuration with `tables` tables of `columns` columns each (a timestamp, then integers). */
function wide(tables: number, columns: number, name = (i: number) => `c${i}`) {
  return parseConfig({
    ...contabyx,
    tables: Array.from({ length: tables }, (_, t) => ({
      schema: 'shop',
      name: `t${t}`,
      archiveBy: { column: 'at' },
      columns: [
        { name: 'at', type: 'timestamp' },
        ...Array.from({ length: columns - 1 }, (_, i) => ({ name: name(i), type: 'integer' })),
      ],
    })),
  });
}

describe('limits of a deployment, found at synth', () => {
  test("refuses a configuration one of whose statements would pass the Data API's 100 KB, naming the table, its size, the statements and the rule", () => {
    expect(() => stackOf({ config: wide(1, 1600, (i) => `a_rather_long_column_name_${i}`) })).toThrow(
      'RedshiftArchive props: config.tables["shop.t0"] (1600 columns, names of 29.3 bytes on average): its ' +
        'read-back, commit check, column figures, restore, preflight probe and union view (with 20 committed runs) would ' +
        'pass the 100000 bytes the Data API takes in one statement (the restore: 122286 bytes); allowed: about 1305 ' +
        "columns like these, or shorter names: a column adds its name's bytes and about 46 more to a checksum (a string " +
        "11 more, a boolean 10, a date 17, a timestamp 22, a TIME, TIMETZ or VARBYTE about 20, a TIMESTAMPTZ or SUPER about 43) and twice its name's bytes and about 20 more to the union view " +
        '(docs/design.md §7)',
    );
  });

  test("a table of 1,600 columns (Redshift's most) with names of 13 bytes fits every statement", () => {
    expect(() =>
      stackOf({ config: wide(1, 1600, (i) => `column_${String(i).padStart(4, '0')}_x`) }),
    ).not.toThrow();
  });

  test(`a configuration of 200 tables of 50 columns fits every limit (statements with ${SIZED_FOR_RUNS} committed runs, the template, the custom resources' events)`, () => {
    const stack = stackOf({ config: wide(200, 50) });
    const template = Template.fromStack(stack).toJSON();
    // (about 508 KB)
    expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(MAX_TEMPLATE_BYTES);
    // the custom resources carry the digest and the footprint, not the configuration
    const [views] = Object.values(
      Template.fromStack(stack).findResources('Custom::RedshiftArchiveSchemaAndViews'),
    );
    expect(Buffer.byteLength(JSON.stringify(views.Properties))).toBeLessThan(8_000);
  });

  test('refuses a template that would pass 1 MB, naming its size', () => {
    // the views' setup limits the tables and columns first; a template can still grow past 1 MB
    const app = unitApp();
    const stack = new Stack(app, 'Big');
    new CfnResource(stack, 'Large', {
      type: 'AWS::SSM::Parameter',
      properties: { Value: 'x'.repeat(1_000_000) },
    });
    stack.node.addValidation(templateLimits(stack));
    expect(() => app.synth()).toThrow(
      /stack Big: its template is \d+ bytes, more than CloudFormation takes \(1000000\); allowed: fewer tables or columns per stack/,
    );
  });

  test('refuses a configuration of more than 500 resources (the CDK counts them as CloudFormation does)', () => {
    const app = unitApp();
    expect(() => {
      stackOf({ config: wide(520, 2) }, app);
      app.synth();
    }).toThrow(/greater than allowed maximum of 500/);
  });

  test("refuses custom-resource properties that an update's event (old and new) would carry past 256 KiB", () => {
    const properties = {
      ConfigDigest: 'd',
      Footprint: 'x'.repeat(130_000),
      LakeBucket: 'b',
      RedshiftRoleArn: 'r',
    };
    expect(() => checkEventSize(properties)).toThrow(
      "config: the custom resources' properties are 130074 bytes, and an update's event carries them twice, more than " +
        'the provider framework passes (262144); allowed: fewer tables or views.readers per stack',
    );
    expect(() => checkEventSize({ ...properties, Footprint: 'x'.repeat(100_000) })).not.toThrow();
  });

  test('the sample configuration is far from every limit', () => {
    expect(() => stackOf({ config: config() })).not.toThrow();
  });
});
