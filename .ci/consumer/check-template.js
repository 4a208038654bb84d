// Checks a template synthesized by a consumer app: the archive is all there, with the lake bucket,
// one Glue table per configured table, the unload function and its yearly rule.
// Usage: node check-template.js <template.json> <configuration.json>
const { readFileSync } = require('node:fs');

const [templateFile, configFile] = process.argv.slice(2);
const resources = Object.values(JSON.parse(readFileSync(templateFile, 'utf8')).Resources);
const tables = JSON.parse(readFileSync(configFile, 'utf8')).tables.length;
const of = (type) => resources.filter((r) => r.Type === type);
const problems = [];
if (of('AWS::S3::Bucket').length !== 1) problems.push(`${of('AWS::S3::Bucket').length} buckets, not 1`);
if (of('AWS::Glue::Table').length !== tables)
  problems.push(`${of('AWS::Glue::Table').length} Glue tables, not ${tables}`);
const unload = of('AWS::Lambda::Function').filter(
  (f) => f.Properties.Handler === 'index.handler' && f.Properties.Runtime === 'nodejs22.x',
);
if (unload.length !== 1) problems.push(`${unload.length} unload functions, not 1`);
const yearly = of('AWS::Events::Rule').filter(
  (r) => r.Properties.ScheduleExpression === 'cron(0 0 1 JAN ? *)',
);
if (yearly.length !== 1) problems.push(`${yearly.length} yearly rules, not 1`);
if (problems.length > 0) {
  console.error(`${templateFile}: ${problems.join('; ')}`);
  process.exit(1);
}
