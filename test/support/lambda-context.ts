import type { Context } from 'aws-lambda';

/**
 * A Lambda context as the Node.js runtime passes it to a handler of `functionName` (512 MB), for
 * the invocation `requestId`, with `remainingMs` left before its timeout. The runtime's
 * deprecated callbacks (`done`, `fail`, `succeed`) are left out: no handler calls them.
 */
export function lambdaContext(functionName: string, requestId: string, remainingMs = 900_000): Context {
  const context: Omit<Context, 'done' | 'fail' | 'succeed'> = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/01/01/[$LATEST]${requestId}`,
    getRemainingTimeInMillis: () => remainingMs,
  };
  return context as Context;
}
