import { Annotations, Stack, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** An AWS service that must use a key on the stack's behalf. */
export interface ServiceGrant {
  readonly sid: string;
  readonly service: string;
  readonly actions: string[];
  /** Only on behalf of this account (`aws:SourceAccount`). */
  readonly sourceAccount?: string;
}

/**
 * The key-policy statements the stack needs. A key of this app gets them in its key policy; an
 * imported key's policy is its owner's, so they are collected and synth warns with all of them.
 */
export class KeyPolicies {
  private readonly missing: iam.PolicyStatement[] = [];

  constructor(private readonly scope: Construct) {}

  /** Lets `grant.service` use `key`. */
  admit(key: kms.IKey, grant: ServiceGrant): void {
    const statement = new iam.PolicyStatement({
      sid: grant.sid,
      principals: [new iam.ServicePrincipal(grant.service)],
      actions: grant.actions,
      resources: ['*'],
      ...(grant.sourceAccount
        ? { conditions: { StringEquals: { 'aws:SourceAccount': grant.sourceAccount } } }
        : {}),
    });
    if (!key.addToResourcePolicy(statement, true).statementAdded) this.missing.push(statement);
  }

  /** Warns at synth with the statements an imported `encryptionKey` lacks, if any. */
  warnOwner(): void {
    if (this.missing.length === 0) return;
    Annotations.of(this.scope).addWarningV2(
      'redshift-archive:encryptionKey.keyPolicy',
      "encryptionKey is imported, so its key policy is its owner's: add these statements to it, or " +
        'alarms will not reach the topic and EventBridge cannot use the dead-letter queue: ' +
        JSON.stringify(this.missing.map((st) => Stack.of(this.scope).resolve(st.toStatementJson()))),
    );
  }
}
