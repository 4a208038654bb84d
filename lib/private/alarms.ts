import {
  Duration,
  RemovalPolicy,
  Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as actions,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../src/contract';
import type { KeyPolicies } from './key-policies';

/** The alarm topic and every alarm that publishes to it. */
export function createAlarming(
  scope: Construct,
  options: Parameters<typeof createAlarmTopic>[1] & Parameters<typeof createAlarms>[2],
): [sns.Topic, cloudwatch.Alarm[]] {
  const topic = createAlarmTopic(scope, options);
  return [topic, createAlarms(scope, topic, options)];
}

/**
 * The topic alarms go to. CloudWatch publishes to an encrypted topic only under a customer
 * managed key whose policy admits it; the policy of the AWS managed alias/aws/sns cannot (SNS
 * Developer Guide, "Enable compatibility between event sources from AWS services and encrypted
 * topics"). Encrypted rather than plain: the key costs little, and the topic stays like the rest
 * of the stack.
 */
function createAlarmTopic(
  scope: Construct,
  options: {
    readonly key?: kms.IKey;
    readonly removalPolicy: RemovalPolicy;
    readonly keyPolicies: KeyPolicies;
    readonly alarmEmail?: string;
  },
): sns.Topic {
  const account = Stack.of(scope).account;
  const topicKey =
    options.key ??
    new kms.Key(scope, 'AlarmsKey', {
      description: 'Encrypts the alarm topic of the Redshift archive (redshift-archive)',
      enableKeyRotation: true,
      // It protects notifications only until they are delivered, never beyond the topic's life,
      // so it follows the one switch for what survives the stack rather than outlive it alone.
      removalPolicy: options.removalPolicy,
    });
  // aws:SourceAccount keeps other accounts' alarms from using the key through CloudWatch.
  options.keyPolicies.admit(topicKey, {
    sid: 'CloudWatchPublishesAlarms',
    service: 'cloudwatch.amazonaws.com',
    actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
    sourceAccount: account,
  });
  const topic = new sns.Topic(scope, 'Alarms', {
    displayName: 'Redshift archive alarms',
    enforceSSL: true,
    masterKey: topicKey,
  });
  // enforceSSL writes a topic policy, which replaces the default one that let the account's
  // CloudWatch publish: without this Allow, alarms change state and notify no one.
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchPublishesAlarms',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': account } },
    }),
  );
  if (options.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(options.alarmEmail));
  return topic;
}

/** A daily maximum of one of the unload function's own metrics. */
function dailyMaximum(metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    dimensionsMap: { ...METRIC_DIMENSIONS },
    period: Duration.days(1),
    statistic: 'Maximum',
  });
}

/**
 * Failure is loud: function errors, dead letters, an unfinished run that stopped moving for a day,
 * a monthly preflight that says the next run would not work, and an audit that finds an archived
 * batch no longer as the ledger recorded it. Each description says what to do.
 */
function createAlarms(
  scope: Construct,
  topic: sns.ITopic,
  watched: { readonly unloadFunction: lambda.IFunction; readonly deadLetters: sqs.IQueue },
): cloudwatch.Alarm[] {
  const alarm = (
    name: string,
    description: string,
    metric: cloudwatch.IMetric,
    { periods = 1, missing = cloudwatch.TreatMissingData.NOT_BREACHING } = {},
  ) => {
    const created = new cloudwatch.Alarm(scope, name, {
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: missing,
    });
    created.addAlarmAction(new actions.SnsAction(topic));
    return created;
  };
  return [
    alarm(
      'UnloadErrorsAlarm',
      'The archive job failed: the ledger says why (status), the data is safe; fix the cause and invoke {"action": "run"} to resume',
      watched.unloadFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    ),
    alarm(
      'DeadLettersAlarm',
      'An invocation of the archive job failed all its retries; see the dead-letter queue',
      watched.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    ),
    alarm(
      'StalledRunAlarm',
      'An unfinished archive run has recorded no step for a day, longer than any Data API statement runs: ' +
        'invoke {"action": "status"} (its last error says why), then {"action": "run"} to resume, or abort it',
      // Daily, on one datapoint: a long first run that moves on publishes 0 every hour however many
      // days it takes (the metric says whether the run is idle, not whether it is unfinished).
      dailyMaximum(METRICS.stalledRun),
    ),
    alarm(
      'PreflightFailuresAlarm',
      'The monthly preflight found that the next run would not work: invoke {"action": "preflight"}; each failed check names its fix',
      dailyMaximum(METRICS.preflightFailures),
    ),
    alarm(
      'AuditFailuresAlarm',
      'An audit found archived batches that the lake or the catalog no longer holds as the ledger recorded them (the lake holds the only copy of their rows): ' +
        'invoke {"action": "audit"} (or with "deep": true); each damaged batch names what differs. Restore the files from their S3 versions or the partitions in Glue, then audit again',
      dailyMaximum(METRICS.auditFailures),
      // Only an audit publishes the metric, about once a month. Damage does not mend itself, so
      // the days without an audit keep the alarm as it is (in ALARM until an audit finds the
      // archive intact again) rather than count as fine, which would clear it the next day.
      { missing: cloudwatch.TreatMissingData.IGNORE },
    ),
  ];
}
