// The handlers log and emit metrics on standard output in Lambda; tests keep their output quiet.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_REGION ??= 'eu-west-1';
