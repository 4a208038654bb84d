import { InputError } from '../core/errors';

/** The names AWS and the SDK give refused access and missing or expired credentials. */
const ACCESS_DENIED = /^(AccessDenied(Exception)?|UnauthorizedOperation|UnauthorizedException|Forbidden)$/;
const BAD_CREDENTIALS =
  /^(ExpiredToken(Exception)?|InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException)$/;

/**
 * An AWS failure the operator can fix on their side (credentials, Region, permissions) as an
 * `InputError` (exit 2) that says what to do; anything else unchanged (exit 1: AWS failed).
 */
export function explainAwsError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { name, message } = error;
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
    return new InputError(
      `AWS credentials: none found (${message}); allowed: credentials of the environment, a profile (AWS_PROFILE) or SSO (aws sso login)`,
    );
  }
  if (/Region is missing/.test(message)) {
    return new InputError(
      '--region: is missing and no default Region is configured; allowed: a Region such as eu-west-1',
    );
  }
  if (BAD_CREDENTIALS.test(name)) {
    return new InputError(
      `AWS credentials: refused (${name}: ${message}); allowed: valid, unexpired credentials`,
    );
  }
  if (ACCESS_DENIED.test(name) || /not authorized to perform/.test(message)) {
    return new InputError(
      `AWS refused access: ${message}; allowed: credentials whose IAM policy allows it (README, "Operating it": what an operator needs)`,
    );
  }
  return error;
}
