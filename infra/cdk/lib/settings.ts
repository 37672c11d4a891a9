// The stack's settings: the SAM template's parameters (infra/template.yaml), as typed props.
//
// Every setting has the name of its SAM parameter with a lower-case first letter
// (`PagerDutyFromEmail` -> `pagerDutyFromEmail`), the same default and the same checks, so that a
// samconfig.toml translates one to one, and `settingsFromStrings` reads the SAM names (CDK
// context values, the test scenarios of tests/fixtures/iam/template-scenarios.json).
// tests/it/infra/cdk.rs holds the names and defaults to the template's.

export interface RemediateSettings {
  /** Email of the PagerDuty (bot) user that notes are written as. Required. */
  readonly pagerDutyFromEmail: string;
  /** SecureString with the PagerDuty v3 webhook signing secrets, one per line. */
  readonly webhookSecretsParameterName?: string;
  /** SecureString with the Custom Incident Actions' header secret. */
  readonly actionTokenParameterName?: string;
  /** SecureString with a PagerDuty REST API key. */
  readonly apiTokenParameterName?: string;
  /** The kill switch parameter, created by the stack as `off`. */
  readonly killSwitchParameterName?: string;
  /** SSM documents the runbooks may run, by name. */
  readonly runCommandDocuments?: string[];
  /** SSM Automation runbooks the runbooks may start, by name. */
  readonly automationDocuments?: string[];
  /** The role automations assume; the functions may pass it, to SSM only. Empty: none. */
  readonly automationRoleArn?: string;
  /** Commands run only on instances tagged remediate=<this value>. */
  readonly targetTagValue?: string;
  /** Decide and report, never execute. */
  readonly dryRun?: boolean;
  /** Reserved (and capping) concurrency of pagerduty-webhook. */
  readonly reservedConcurrency?: number;
  /** An existing SNS topic carrying alarms and findings to sns-alarm. Empty: the stack creates one. */
  readonly alarmTopicArn?: string;
  /** PAGERDUTY_INCIDENT_KEY_TEMPLATE of sns-alarm. Empty: no incident lookup. */
  readonly incidentKeyTemplate?: string;
  /** Reserved (and capping) concurrency of sns-alarm. */
  readonly alarmReservedConcurrency?: number;
  /** Reserved (and capping) concurrency of execution-events. */
  readonly executionEventsReservedConcurrency?: number;
  /** An existing bucket of this account holding the catalog. */
  readonly catalogBucket?: string;
  /** The catalog's key in catalogBucket or in the created bucket. */
  readonly catalogKey?: string;
  /** Create a catalog bucket that only catalogWriterRoleArn may write. */
  readonly createCatalogBucket?: boolean;
  /** Read the catalog from the created bucket (upload it first). */
  readonly readCatalogFromCreatedBucket?: boolean;
  /** The one role that may write the created catalog bucket. */
  readonly catalogWriterRoleArn?: string;
  /** Base URL of the Rundeck server (https). Empty: no Rundeck, no rundeck-notification. */
  readonly rundeckUrl?: string;
  /** SecureString with the Rundeck API token. */
  readonly rundeckTokenParameter?: string;
  /** The Rundeck API version (18 or later). */
  readonly rundeckApiVersion?: number;
  /** SecureString with the secret at the end of rundeck-notification's URL. */
  readonly rundeckNotificationTokenParameter?: string;
  /** RECONCILE_OVERDUE_SECONDS. */
  readonly reconcileOverdueSeconds?: number;
  /** RECONCILE_GIVE_UP_SECONDS. */
  readonly reconcileGiveUpSeconds?: number;
  /** RECONCILE_BATCH. */
  readonly reconcileBatch?: number;
  /** Retention of each function's log group, in days. */
  readonly logRetentionDays?: number;
  /** An SNS topic of yours that the stack's alarms notify. Empty: they notify no one. */
  readonly operatorTopicArn?: string;
  /** A layer version (same region) shipping a PEM file of extra root certificates; every function gets it. Needs extraCaFile. */
  readonly extraCaLayerArn?: string;
  /** The PEM file's path under /opt (from extraCaLayerArn): every function's REMEDIATE_CA_FILE. Needs extraCaLayerArn. */
  readonly extraCaFile?: string;
}

type Kind = 'string' | 'list' | 'boolean' | 'number';

interface Parameter {
  readonly kind: Kind;
  /** The SAM default, as the template writes it; absent: required. */
  readonly default?: string;
  readonly pattern?: RegExp;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly string[];
}

const SSM_NAME = /^\/[A-Za-z0-9_./-]+$/;
const ROLE_ARN = /^(arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9_+=,.@/-]+)?$/;

/** The SAM template's parameters, by their SAM names, with its defaults and checks. */
export const PARAMETERS: Readonly<Record<string, Parameter>> = {
  RunCommandDocuments: { kind: 'list', default: 'AWS-RunShellScript' },
  AutomationDocuments: { kind: 'list', default: 'AWS-RestartEC2Instance' },
  AutomationRoleArn: { kind: 'string', default: '', pattern: ROLE_ARN },
  TargetTagValue: { kind: 'string', default: 'enabled', pattern: /^[A-Za-z0-9 _.:/=+@-]{1,256}$/ },
  WebhookSecretsParameterName: {
    kind: 'string',
    default: '/remediate/pagerduty/webhook-secrets',
    pattern: SSM_NAME,
  },
  ActionTokenParameterName: {
    kind: 'string',
    default: '/remediate/pagerduty/action-token',
    pattern: SSM_NAME,
  },
  ApiTokenParameterName: {
    kind: 'string',
    default: '/remediate/pagerduty/api-token',
    pattern: SSM_NAME,
  },
  PagerDutyFromEmail: { kind: 'string', pattern: /^[^@\s]+@[^@\s]+$/ },
  DryRun: { kind: 'boolean', default: 'false' },
  KillSwitchParameterName: { kind: 'string', default: '/remediate/kill-switch', pattern: SSM_NAME },
  CatalogBucket: { kind: 'string', default: '' },
  CatalogKey: { kind: 'string', default: 'runbooks.yaml', pattern: /^[A-Za-z0-9!_.*'()/-]{1,1024}$/ },
  CreateCatalogBucket: { kind: 'boolean', default: 'false' },
  ReadCatalogFromCreatedBucket: { kind: 'boolean', default: 'false' },
  CatalogWriterRoleArn: { kind: 'string', default: '', pattern: ROLE_ARN },
  ReservedConcurrency: { kind: 'number', default: '20', min: 1, max: 1000 },
  AlarmTopicArn: {
    kind: 'string',
    default: '',
    pattern: /^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256})?$/,
  },
  IncidentKeyTemplate: { kind: 'string', default: '' },
  AlarmReservedConcurrency: { kind: 'number', default: '10', min: 1, max: 1000 },
  ExecutionEventsReservedConcurrency: { kind: 'number', default: '5', min: 1, max: 1000 },
  RundeckUrl: { kind: 'string', default: '', pattern: /^(https:\/\/[^\s?#@]+)?$/ },
  RundeckTokenParameter: { kind: 'string', default: '/remediate/rundeck/api-token', pattern: SSM_NAME },
  RundeckApiVersion: { kind: 'number', default: '41', min: 18, max: 999 },
  RundeckNotificationTokenParameter: {
    kind: 'string',
    default: '/remediate/rundeck/notification-secret',
    pattern: SSM_NAME,
  },
  ReconcileOverdueSeconds: { kind: 'number', default: '900', min: 1, max: 315360000 },
  ReconcileGiveUpSeconds: { kind: 'number', default: '86400', min: 2, max: 315360000 },
  ReconcileBatch: { kind: 'number', default: '25', min: 1, max: 100 },
  LogRetentionDays: {
    kind: 'number',
    default: '90',
    allowed: ['7', '14', '30', '60', '90', '180', '365', '400', '545', '731', '1827', '3653'],
  },
  OperatorTopicArn: {
    kind: 'string',
    default: '',
    pattern: /^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256})?$/,
  },
  ExtraCaLayerArn: {
    kind: 'string',
    default: '',
    pattern: /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[0-9]+)?$/,
  },
  // Under /opt only, no segment starting with a dot: see the template's ExtraCaFile.
  ExtraCaFile: { kind: 'string', default: '', pattern: /^(\/opt(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+)?$/ },
};

/** Every setting given a value: what the stack is built from. */
export type Settings = Required<RemediateSettings>;

function propName(parameter: string): keyof RemediateSettings {
  return (parameter[0].toLowerCase() + parameter.slice(1)) as keyof RemediateSettings;
}

function parse(name: string, parameter: Parameter, text: string): string | string[] | boolean | number {
  switch (parameter.kind) {
    case 'list':
      return text.split(',').map((item) => item.trim());
    case 'boolean':
      if (text !== 'true' && text !== 'false') {
        throw new Error(`${name} must be true or false, not ${JSON.stringify(text)}`);
      }
      return text === 'true';
    case 'number': {
      const value = Number(text);
      if (!/^-?[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
        throw new Error(`${name} must be a whole number, not ${JSON.stringify(text)}`);
      }
      return value;
    }
    default:
      return text;
  }
}

/** The settings from values named as the SAM parameters (strings, lists comma-separated). */
export function settingsFromStrings(values: Readonly<Record<string, string | undefined>>): RemediateSettings {
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const parameter = PARAMETERS[name];
    if (parameter === undefined) {
      throw new Error(`${name} is not a parameter of the stack (see infra/cdk/lib/settings.ts)`);
    }
    if (value !== undefined) {
      settings[propName(name)] = parse(name, parameter, value);
    }
  }
  return settings as unknown as RemediateSettings;
}

/** Every setting with its default filled in, checked as CloudFormation checks the SAM template. */
export function resolveSettings(given: RemediateSettings): Settings {
  const settings: Record<string, unknown> = { ...given };
  const known = new Set(Object.keys(PARAMETERS).map(propName));
  for (const key of Object.keys(given)) {
    if (!known.has(key as keyof RemediateSettings)) {
      throw new Error(`${key} is not a setting of the stack`);
    }
  }
  for (const [name, parameter] of Object.entries(PARAMETERS)) {
    const key = propName(name);
    if (settings[key] === undefined) {
      if (parameter.default === undefined) {
        throw new Error(`${name} (${key}) is required`);
      }
      settings[key] = parse(name, parameter, parameter.default);
    }
    const value = settings[key];
    const texts = Array.isArray(value) ? value.map(String) : [String(value)];
    for (const text of texts) {
      if (parameter.pattern && !parameter.pattern.test(text)) {
        throw new Error(`${name} ${JSON.stringify(text)} does not match ${parameter.pattern}`);
      }
      if (parameter.allowed && !parameter.allowed.includes(text)) {
        throw new Error(`${name} must be one of ${parameter.allowed.join(', ')}, not ${text}`);
      }
    }
    if (parameter.kind === 'number') {
      const number = value as number;
      if ((parameter.min !== undefined && number < parameter.min) || (parameter.max !== undefined && number > parameter.max)) {
        throw new Error(`${name} must be within ${parameter.min} and ${parameter.max}, not ${number}`);
      }
    }
  }
  const resolved = settings as Settings;
  // The SAM template's Rules.
  if (resolved.createCatalogBucket && resolved.catalogWriterRoleArn === '') {
    throw new Error('CreateCatalogBucket needs CatalogWriterRoleArn, the one role that may write it.');
  }
  if (resolved.readCatalogFromCreatedBucket && !resolved.createCatalogBucket) {
    throw new Error('ReadCatalogFromCreatedBucket needs CreateCatalogBucket.');
  }
  if (resolved.readCatalogFromCreatedBucket && resolved.catalogBucket !== '') {
    throw new Error('Read the catalog from CatalogBucket or from the created bucket, not both.');
  }
  // Both or neither (the template's ExtraCaLayerNeedsItsFile, ExtraCaFileNeedsItsLayer).
  if (resolved.extraCaLayerArn !== '' && resolved.extraCaFile === '') {
    throw new Error("ExtraCaLayerArn needs ExtraCaFile, the PEM file's path under /opt.");
  }
  if (resolved.extraCaFile !== '' && resolved.extraCaLayerArn === '') {
    throw new Error('ExtraCaFile needs ExtraCaLayerArn, the layer that puts the file under /opt.');
  }
  return resolved;
}
