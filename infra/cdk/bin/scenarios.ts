#!/usr/bin/env node
// The tests' app: one stack per scenario of tests/fixtures/iam/template-scenarios.json, in one
// run, bundling skipped (no Rust build, no Docker), so that tests/it/infra/drift.rs compares each
// with the SAM template resolved under the same scenario.
//   node dist/bin/scenarios.js SCENARIOS.json OUTDIR
// Writes OUTDIR/remediate-<scenario>.template.json for each scenario, OUTDIR/parameters.json
// (the settings' SAM names and defaults) and OUTDIR/patterns.json (each setting's pattern, null
// without one), which the tests hold to the template's defaults and AllowedPatterns.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { RemediateStack } from '../lib/stack';
import { PARAMETERS, settingsFromStrings } from '../lib/settings';

const [scenariosFile, outdir] = process.argv.slice(2);
if (!scenariosFile || !outdir) {
  process.stderr.write('usage: node dist/bin/scenarios.js SCENARIOS.json OUTDIR\n');
  process.exit(2);
}
const file = JSON.parse(fs.readFileSync(scenariosFile, 'utf8')) as {
  parameters?: Record<string, string>;
  scenarios: Record<string, Record<string, string>>;
};
// The same feature flags as `cdk synth` (cdk.json's context), and no bundling.
const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context?: Record<string, unknown>;
};
const app = new App({
  outdir,
  context: cdkJson.context ?? {},
  postCliContext: { 'aws:cdk:bundling-stacks': [] },
});
for (const [name, values] of Object.entries(file.scenarios)) {
  new RemediateStack(app, `remediate-${name}`, {
    stackName: 'remediate',
    settings: settingsFromStrings({ ...(file.parameters ?? {}), ...values }),
  });
}
app.synth();
const defaults = Object.fromEntries(Object.entries(PARAMETERS).map(([name, parameter]) => [name, parameter.default ?? null]));
fs.writeFileSync(path.join(outdir, 'parameters.json'), JSON.stringify(defaults, null, 1) + '\n');
const patterns = Object.fromEntries(Object.entries(PARAMETERS).map(([name, parameter]) => [name, parameter.pattern?.source ?? null]));
fs.writeFileSync(path.join(outdir, 'patterns.json'), JSON.stringify(patterns, null, 1) + '\n');
