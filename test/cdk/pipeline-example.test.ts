import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ArchivePipelineStack, ArchiveStage } from '../../examples/pipeline';
import { configJson } from '../../src/config/config';
import { config } from './support';

const EXAMPLE = 'examples/pipeline.ts';

test('the README shows the CDK Pipelines example as the file that this test synthesizes', () => {
  const readme = readFileSync('README.md', 'utf8');
  expect(readme).toContain(`\`${EXAMPLE}\`:\n\n\`\`\`ts\n${readFileSync(EXAMPLE, 'utf8')}\`\`\`\n`);
});

test('the CDK Pipelines example deploys the archive stack in a stage: bucket, Glue tables, function, yearly rule', () => {
  // given the team's configuration file and the example's pipeline
  const file = join(mkdtempSync(join(tmpdir(), 'pipeline-')), 'archive.json');
  writeFileSync(file, configJson(config()));
  const app = new App({ builtinCloudFormationValidation: false });
  const pipeline = new ArchivePipelineStack(app, 'ArchivePipeline', {
    env: { account: '111111111111', region: 'eu-west-1' },
    repository: 'example-org/data-platform',
    connectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/example',
    configFile: file,
    alarmEmail: 'data-platform@example.com',
  });

  // when the app synthesizes
  const assembly = app.synth();

  // then the pipeline deploys the stage's stack ...
  const stage = pipeline.node.findChild('Production') as ArchiveStage;
  const pipelineTemplate = Template.fromStack(pipeline);
  pipelineTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', {
    Stages: Match.arrayWith([Match.objectLike({ Name: 'Production' })]),
  });
  expect(assembly.getNestedAssembly(stage.artifactId).stacks.map((s) => s.stackName)).toEqual([
    'Production-RedshiftArchive',
  ]);
  // ... which holds the archive: the lake, one Glue table per configured table, the unload
  // function and its yearly rule
  const archive = Template.fromStack(stage.archive);
  archive.resourceCountIs('AWS::S3::Bucket', 1);
  archive.resourceCountIs('AWS::Glue::Table', config().tables.length);
  archive.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs22.x' });
  archive.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 0 1 JAN ? *)' });
  archive.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'data-platform@example.com' });
});
