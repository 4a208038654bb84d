import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSystem, RemovalPolicy, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArchiveConfig, configJson } from '../../src/config/config';
import { CONFIG_FILE, SERVICE_NAME } from '../../src/contract';

/** The handlers that `npm run build` bundles from `lambda/<name>.ts` (bin/build.mjs). */
export type HandlerName = 'unload' | 'schema-and-views' | 'role-association';

/**
 * Where the prebuilt handlers are, one folder each (`index.js` and its source map). Compiled, this
 * module is `dist/lib/private/functions.js` of the package, beside `dist/handlers`; run from the
 * TypeScript source (this repository's tests and app), it is `lib/private/functions.ts`.
 */
export const HANDLERS = join(__dirname, '..', '..', __filename.endsWith('.ts') ? 'dist' : '', 'handlers');

/** The options of a function: those of `lambda.Function` but its code, and the configuration. */
export interface PrebuiltFunctionOptions extends Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'> {
  /** Written beside the handler as `CONFIG_FILE`: the unload function and the views setup read it. */
  readonly config?: ArchiveConfig;
}

/**
 * A function of the stack, running `handler` (`<prebuilt folder>.<export>`, as Lambda names a
 * handler), which was bundled when the package was built, so that synth needs neither esbuild nor
 * Docker: Node.js 22 on ARM, JSON logs kept a year.
 */
export function prebuiltFunction(
  scope: Construct,
  id: string,
  handler: `${HandlerName}.${string}`,
  options: PrebuiltFunctionOptions,
): lambda.Function {
  const { environment, config, ...rest } = options;
  const dot = handler.lastIndexOf('.');
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const props = (code: lambda.Code): lambda.FunctionProps => ({
    code,
    handler: `index.${handler.slice(dot + 1)}`,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: {
      ...environment,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    ...rest,
  });
  const bundle = handlerFolder(handler.slice(0, dot) as HandlerName);
  if (!config) return new lambda.Function(scope, id, props(lambda.Code.fromAsset(bundle)));
  // The handler and the configuration beside it, in a folder of their own that the asset copies
  // (its hash is that of both files) while the function is created; then the folder goes, as
  // CDK's own `s3deploy.Source.data` does with the files it writes.
  const folder = FileSystem.mkdtemp('redshift-archive-code-');
  try {
    for (const file of readdirSync(bundle)) copyFileSync(join(bundle, file), join(folder, file));
    writeFileSync(join(folder, CONFIG_FILE), configJson(config));
    return new lambda.Function(scope, id, props(lambda.Code.fromAsset(folder)));
  } finally {
    FileSystem.rmrf(folder);
  }
}

/** The prebuilt folder of a handler; a clear error where the package was not built. */
function handlerFolder(name: HandlerName): string {
  const folder = join(HANDLERS, name);
  if (!existsSync(join(folder, 'index.js'))) {
    throw new Error(
      `redshift-archive: the prebuilt Lambda handler ${folder}/index.js is missing; ` +
        'in a clone of the repository, `npm run build` makes it (the published package ships it)',
    );
  }
  return folder;
}
