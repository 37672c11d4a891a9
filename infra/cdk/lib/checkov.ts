// checkov suppressions, written next to the resource they concern (as infra/template.yaml writes
// them in each resource's Metadata): `skip(resource, { CKV_AWS_117: NO_VPC })`. The reasons
// shared by several resources are here; tests/it/infra/cdk.rs refuses a suppression without one.

import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Adds checkov suppressions, each with its reason, to the resource's Metadata. */
export function skip(construct: IConstruct, reasons: Record<string, string>): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to suppress checks on`);
  }
  const existing = (resource.getMetadata('checkov') as { skip: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  resource.addMetadata('checkov', {
    skip: [...existing, ...Object.entries(reasons).map(([id, comment]) => ({ id, comment }))],
  });
}

export const NO_VPC =
  "Not in a VPC: the function calls PagerDuty's public REST API (and Rundeck at its https URL) and public AWS " +
  'APIs, nothing private. A VPC would need a NAT gateway (cost, one more thing to fail during an incident) and ' +
  'isolate nothing.';

export const ENVIRONMENT_HOLDS_NAMES =
  'The environment holds names, numbers, URLs and ARNs, never secrets: those are SSM SecureStrings read at run ' +
  "time. Lambda encrypts the environment at rest with its AWS managed key; a customer managed key would protect " +
  'nothing more.';

export const LOGS_ENCRYPTED_BY_CLOUDWATCH =
  'CloudWatch Logs encrypts every log group at rest. The functions never log secrets, raw requests or request ' +
  'paths, so a customer managed key would add a key policy (granting the logs service) and a cost, and protect ' +
  'nothing more.';

export const FAILURES_GO_TO_A_DESTINATION =
  "Failed asynchronous invocations go to the on-failure destination (the function's failure queue), which keeps " +
  'the event with its error; a dead-letter queue would receive the same events with less.';

export const QUEUE_SQS_MANAGED_KEY =
  'Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled). A customer managed key would need grants for ' +
  "Lambda's and EventBridge's deliveries and cost monthly, for events whose runs the ledger already records.";
