import { Stack, Stage, type StackProps, type StageProps } from 'aws-cdk-lib';
import { CodePipeline, CodePipelineSource, ShellStep } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { type ArchiveConfig, loadConfig, RedshiftArchiveStack } from 'redshift-archive';

/** What the pipeline deploys to one environment: the archive stack, with its configuration. */
export interface ArchiveStageProps extends StageProps {
  readonly config: ArchiveConfig;
  readonly alarmEmail?: string;
}

/** One deployment of the archive, as a pipeline stage. */
export class ArchiveStage extends Stage {
  readonly archive: RedshiftArchiveStack;

  constructor(scope: Construct, id: string, props: ArchiveStageProps) {
    super(scope, id, props);
    this.archive = new RedshiftArchiveStack(this, 'RedshiftArchive', {
      config: props.config,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });
  }
}

/** Where the pipeline's source is, and which configuration file each stage deploys. */
export interface ArchivePipelineProps extends StackProps {
  readonly repository: string;
  readonly connectionArn: string;
  readonly configFile: string;
  readonly alarmEmail?: string;
}

/**
 * A CDK Pipeline that synthesizes the team's app and deploys the archive to production. The synth
 * step needs neither esbuild nor Docker: the package ships its Lambda code prebuilt.
 */
export class ArchivePipelineStack extends Stack {
  constructor(scope: Construct, id: string, props: ArchivePipelineProps) {
    super(scope, id, props);
    const pipeline = new CodePipeline(this, 'Pipeline', {
      synth: new ShellStep('Synth', {
        input: CodePipelineSource.connection(props.repository, 'main', {
          connectionArn: props.connectionArn,
        }),
        commands: ['npm ci', 'npx cdk synth'],
      }),
    });
    pipeline.addStage(
      new ArchiveStage(this, 'Production', {
        ...(props.env ? { env: props.env } : {}),
        // An invalid file fails the synth step, naming the field, the bad value and what is allowed.
        config: loadConfig(props.configFile),
        ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
      }),
    );
  }
}
