#!/usr/bin/env node
// `npx cdk deploy` (cdk.json runs this after `tsc`): one stack, its settings from CDK context
// values named as the SAM template's parameters, e.g.
//   npx cdk deploy -c PagerDutyFromEmail=remediate-bot@example.com -c RundeckUrl=https://rundeck.example.com
// (or a "context" block in cdk.json). The stack name is the context value `stackName`
// (default: remediate). RustFunction builds each function with
// `cargo lambda build --release --arm64` (cargo-lambda on the PATH; Docker otherwise).

import { App } from 'aws-cdk-lib';
import { RemediateStack } from '../lib/stack';
import { PARAMETERS, settingsFromStrings } from '../lib/settings';

const app = new App();
const values: Record<string, string | undefined> = {};
for (const name of Object.keys(PARAMETERS)) {
  const value = app.node.tryGetContext(name);
  if (value !== undefined) {
    values[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
}
const stackName = String(app.node.tryGetContext('stackName') ?? 'remediate');
new RemediateStack(app, stackName, {
  stackName,
  description:
    'remediate: PagerDuty webhooks, Custom Incident Actions, CloudWatch alarms and AWS findings turned into ' +
    'audited SSM and Rundeck recoveries, with the outcome written back onto the incident (infra/cdk).',
  settings: settingsFromStrings(values),
});
app.synth();
