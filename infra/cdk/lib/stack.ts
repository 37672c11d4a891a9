// remediate's stack in CDK: the resources of infra/template.yaml (SAM), with the same logical ids,
// properties and IAM statements. tests/it/infra/drift.rs compares the two templates, resource by
// resource and statement by statement, under every scenario of
// tests/fixtures/iam/template-scenarios.json; what differs on purpose is listed there.
//
// The template's parameters are typed settings here (lib/settings.ts): a setting known at synth
// time decides what the template contains, where SAM writes conditions.

import * as path from 'node:path';
import * as fs from 'node:fs';
import { Aws, CfnOutput, CfnResource, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct, IConstruct } from 'constructs';
import { logicalId } from './ids';
import { Observability } from './observability';
import {
  ENVIRONMENT_HOLDS_NAMES,
  FAILURES_GO_TO_A_DESTINATION,
  LOGS_ENCRYPTED_BY_CLOUDWATCH,
  NO_VPC,
  QUEUE_SQS_MANAGED_KEY,
  skip,
} from './checkov';
import { RemediateSettings, Settings, resolveSettings } from './settings';

export interface RemediateStackProps extends StackProps {
  readonly settings: RemediateSettings;
}

/** The cargo workspace (the directory of the Cargo.toml with [workspace]) above this file. */
function workspaceManifest(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'Cargo.toml');
    if (fs.existsSync(manifest) && fs.readFileSync(manifest, 'utf8').includes('[workspace]')) {
      return manifest;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error('no cargo workspace above infra/cdk');
    }
    dir = parent;
  }
}

const arn = (service: string, resource: string) =>
  `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
const parameterArn = (name: string) => arn('ssm', `parameter${name}`);

function statement(sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) {
  return new iam.PolicyStatement({ sid, actions, resources, conditions });
}

/** One of the five functions, as the SAM template declares it. */
interface FunctionSpec {
  /** SAM's logical id of the function; its role and log group are named after it. */
  readonly id: string;
  readonly logs: string;
  readonly binary: string;
  readonly description: string;
  readonly timeout: number;
  readonly reservedConcurrency: number;
  readonly environment: Record<string, string>;
  readonly statements: iam.PolicyStatement[];
  /** checkov suppressions of the function, each with its reason. */
  readonly skips: Record<string, string>;
}

export class RemediateStack extends Stack {
  readonly settings: Settings;
  readonly functions: Record<string, lambda.Function> = {};
  readonly logGroups: Record<string, logs.LogGroup> = {};

  constructor(scope: Construct, id: string, props: RemediateStackProps) {
    super(scope, id, props);
    const settings = resolveSettings(props.settings);
    this.settings = settings;
    const hasRundeck = settings.rundeckUrl !== '';
    const manifestPath = workspaceManifest();

    // -------------------------------------------------------------------------------------------
    // The ledger, the kill switch, the catalog bucket

    const table = new dynamodb.Table(this, 'LedgerTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at_ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logicalId(table, 'LedgerTable');
    skip(table, {
      CKV_AWS_119:
        'Encrypted at rest with the AWS managed key (SSEEnabled). A customer managed key would add a key policy ' +
        'to keep right and a monthly cost, for no gain: the ledger holds run records (ids, runbook names, ' +
        'outcomes), never secrets.',
    });
    for (const [indexName, partition, sort] of [
      ['by_incident', 'incident_id', 'decided_at'],
      ['by_runbook', 'runbook', 'decided_at'],
      ['by_handle', 'command_id', undefined],
      ['by_open', 'open_run', 'decided_at'],
    ] as const) {
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partition, type: dynamodb.AttributeType.STRING },
        sortKey: sort === undefined ? undefined : { name: sort, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    const killSwitch = logicalId(
      new ssm.StringParameter(this, 'KillSwitch', {
        parameterName: settings.killSwitchParameterName,
        stringValue: 'off',
        description: 'remediate kill switch: on makes every automated run a dry run',
      }),
      'KillSwitch',
    );

    let catalogBucket: s3.Bucket | undefined;
    if (settings.createCatalogBucket) {
      catalogBucket = logicalId(
        new s3.Bucket(this, 'CatalogStoreBucket', {
          versioned: true,
          encryption: s3.BucketEncryption.S3_MANAGED,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
        'CatalogStoreBucket',
      );
      skip(catalogBucket, {
        CKV_AWS_18:
          'No server access logs: the bucket holds one small object written by one role; CloudTrail records who ' +
          'changed it, and versioning keeps every catalog it ever held. An access-log bucket would be one more ' +
          'bucket to secure for no extra answer.',
      });
      const writer = settings.catalogWriterRoleArn;
      const objects = `${catalogBucket.bucketArn}/*`;
      const policy = logicalId(new s3.BucketPolicy(this, 'CatalogStoreBucketPolicy', { bucket: catalogBucket }), 'CatalogStoreBucketPolicy');
      policy.document.addStatements(
        new iam.PolicyStatement({
          sid: 'TlsOnly',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:*'],
          resources: [catalogBucket.bucketArn, objects],
          conditions: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        new iam.PolicyStatement({
          sid: 'OnlyTheWriterRoleWrites',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
          resources: [objects],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': writer } },
        }),
        new iam.PolicyStatement({
          sid: 'TheWriterRoleWritesTheCatalog',
          principals: [new iam.ArnPrincipal(writer)],
          actions: ['s3:PutObject', 's3:GetObject'],
          resources: [objects],
        }),
        new iam.PolicyStatement({
          sid: 'TheWriterRoleListsTheBucket',
          principals: [new iam.ArnPrincipal(writer)],
          actions: ['s3:ListBucket'],
          resources: [catalogBucket.bucketArn],
        }),
      );
    }

    // Where the catalog comes from: the same for every function.
    const catalogEnvironment: Record<string, string> = {};
    const catalogStatements: iam.PolicyStatement[] = [];
    const ownAccount = { StringEquals: { 's3:ResourceAccount': Aws.ACCOUNT_ID } };
    if (settings.catalogBucket !== '') {
      catalogEnvironment.RUNBOOKS_S3_URI = `s3://${settings.catalogBucket}/${settings.catalogKey}`;
      catalogStatements.push(
        statement('ReadTheCatalog', ['s3:GetObject'], [`arn:${Aws.PARTITION}:s3:::${settings.catalogBucket}/${settings.catalogKey}`], ownAccount),
      );
    } else if (settings.readCatalogFromCreatedBucket && catalogBucket) {
      catalogEnvironment.RUNBOOKS_S3_URI = `s3://${catalogBucket.bucketName}/${settings.catalogKey}`;
      catalogStatements.push(
        statement('ReadTheCatalogFromTheCreatedBucket', ['s3:GetObject'], [`${catalogBucket.bucketArn}/${settings.catalogKey}`], ownAccount),
      );
    }
    if (catalogEnvironment.RUNBOOKS_S3_URI !== undefined) {
      // The bucket must belong to this account (ExpectedBucketOwner on every read).
      catalogEnvironment.RUNBOOKS_S3_EXPECTED_OWNER = Aws.ACCOUNT_ID;
    }

    // -------------------------------------------------------------------------------------------
    // The topics and their key

    const topicKey = logicalId(
      new kms.Key(this, 'TopicKey', {
        description: 'remediate SNS topics (alarms in, results out)',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        policy: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'AccountAdministersTheKey',
              principals: [new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`)],
              actions: [
                'kms:DescribeKey',
                'kms:GetKeyPolicy',
                'kms:PutKeyPolicy',
                'kms:GetKeyRotationStatus',
                'kms:EnableKeyRotation',
                'kms:ListResourceTags',
                'kms:TagResource',
                'kms:UntagResource',
                'kms:UpdateKeyDescription',
                'kms:EnableKey',
                'kms:DisableKey',
                'kms:ScheduleKeyDeletion',
                'kms:CancelKeyDeletion',
                'kms:Encrypt',
                'kms:Decrypt',
                'kms:GenerateDataKey',
              ],
              resources: ['*'],
            }),
            // No aws:SourceAccount: KMS requests made for EventBridge deliveries to an encrypted
            // topic do not carry it (see the template). Who may publish is the topic policy's job.
            new iam.PolicyStatement({
              sid: 'CloudWatchAndEventBridgePublishToTheEncryptedTopic',
              principals: [
                new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
                new iam.ServicePrincipal('events.amazonaws.com'),
              ],
              actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
              resources: ['*'],
            }),
          ],
        }),
      }),
      'TopicKey',
    );

    let alarmTopicArn = settings.alarmTopicArn;
    let alarmTopic: sns.ITopic;
    if (alarmTopicArn === '') {
      const created = logicalId(
        new sns.Topic(this, 'AlarmTopic', { displayName: 'remediate alarms and findings', masterKey: topicKey }),
        'AlarmTopic',
      );
      logicalId(
        new sns.TopicPolicy(this, 'AlarmTopicPolicy', {
          topics: [created],
          policyDocument: new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                sid: 'AlarmsAndRulesOfThisAccountPublish',
                principals: [
                  new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
                  new iam.ServicePrincipal('events.amazonaws.com'),
                ],
                actions: ['sns:Publish'],
                resources: [created.topicArn],
                conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
              }),
            ],
          }),
        }),
        'AlarmTopicPolicy',
      );
      alarmTopic = created;
      alarmTopicArn = created.topicArn;
    } else {
      alarmTopic = sns.Topic.fromTopicArn(this, 'GivenAlarmTopic', alarmTopicArn);
    }

    const resultsTopic = logicalId(
      new sns.Topic(this, 'ResultsTopic', { displayName: 'remediate results', masterKey: topicKey }),
      'ResultsTopic',
    );

    // -------------------------------------------------------------------------------------------
    // The statements the functions share

    const readParameters = (sid: string, names: string[]) => statement(sid, ['ssm:GetParameter'], names.map(parameterArn));
    const decryptThroughParameterStore = statement(
      'DecryptSecretsThroughParameterStoreOnly',
      ['kms:Decrypt'],
      [arn('kms', 'key/*')],
      { StringEquals: { 'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com` } },
    );
    const publishResults = [
      statement('PublishResults', ['sns:Publish'], [resultsTopic.topicArn]),
      statement('EncryptForTheResultsTopic', ['kms:GenerateDataKey', 'kms:Decrypt'], [topicKey.keyArn], {
        StringEquals: { 'kms:ViaService': `sns.${Aws.REGION}.amazonaws.com` },
      }),
    ];
    const rundeckToken = hasRundeck ? [readParameters('ReadTheRundeckToken', [settings.rundeckTokenParameter])] : [];
    // What starts runs: the webhook's and sns-alarm's statements but for their secrets and queue.
    const startRuns = (secrets: string[]) => [
      statement('RunOnlyListedDocuments', ['ssm:SendCommand'], settings.runCommandDocuments.map((name) => `arn:*:ssm:*:*:document/${name}`)),
      statement(
        'StartOnlyListedAutomations',
        ['ssm:StartAutomationExecution'],
        settings.automationDocuments.map((name) => `arn:*:ssm:*:*:automation-definition/${name}:*`),
      ),
      ...(settings.automationRoleArn === ''
        ? []
        : [
            statement('PassOnlyTheAutomationRoleToSsm', ['iam:PassRole'], [settings.automationRoleArn], {
              StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' },
            }),
          ]),
      statement('FindOwnCommandsAfterATimeout', ['ssm:ListCommands'], ['*']),
      statement('CountTaggedInstancesForMaxTargets', ['ssm:DescribeInstanceInformation'], ['*']),
      statement('RunOnlyOnTaggedInstances', ['ssm:SendCommand'], [arn('ec2', 'instance/*')], {
        StringEquals: { 'ssm:resourceTag/remediate': settings.targetTagValue },
      }),
      readParameters('ReadOwnSecrets', secrets),
      decryptThroughParameterStore,
      ...rundeckToken,
      ...catalogStatements,
      statement('LedgerClaims', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [table.tableArn]),
      ...publishResults,
    ];
    const unscopedReads = statement(
      'ReadHowCommandsEnded',
      ['ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation'],
      ['*'],
    );
    const automationEndings = statement('ReadHowAutomationsEnded', ['ssm:GetAutomationExecution'], [arn('ssm', 'automation-execution/*')]);
    const recordEndings = statement('RecordRunEndings', ['dynamodb:UpdateItem'], [table.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TRIGGER#*'] },
    });
    const byHandle = `${table.tableArn}/index/by_handle`;
    const apiToken = readParameters('ReadTheApiToken', [settings.apiTokenParameterName]);

    const common = {
      PAGERDUTY_API_TOKEN_PARAMETER: settings.apiTokenParameterName,
      PAGERDUTY_FROM_EMAIL: settings.pagerDutyFromEmail,
      LEDGER_TABLE: table.tableName,
      RESULTS_TOPIC_ARN: resultsTopic.topicArn,
    };
    const rundeckEnvironment: Record<string, string> = hasRundeck
      ? {
          RUNDECK_URL: settings.rundeckUrl,
          RUNDECK_TOKEN_PARAMETER: settings.rundeckTokenParameter,
          RUNDECK_API_VERSION: String(settings.rundeckApiVersion),
        }
      : {};

    // -------------------------------------------------------------------------------------------
    // The functions

    const alarmFailureQueue = this.failureQueue('AlarmFailureQueue');
    const executionEventsFailureQueue = this.failureQueue('ExecutionEventsFailureQueue');

    // Extra root certificates, the same for every function (each has HTTPS clients): the layer
    // that ships the PEM file, and REMEDIATE_CA_FILE naming it under /opt. Both or neither
    // (settings.ts refuses one without the other, as the template's Rules do).
    const extraCaLayers =
      settings.extraCaLayerArn === ''
        ? undefined
        : [lambda.LayerVersion.fromLayerVersionArn(this, 'ExtraCaLayer', settings.extraCaLayerArn)];
    const caEnvironment: Record<string, string> =
      settings.extraCaFile === '' ? {} : { REMEDIATE_CA_FILE: settings.extraCaFile };

    const build = (spec: FunctionSpec): lambda.Function => {
      const group = logicalId(
        new logs.LogGroup(this, spec.id.replace(/Function$/, 'Logs'), {
          logGroupName: `/aws/lambda/${Aws.STACK_NAME}/${spec.logs}`,
          retention: settings.logRetentionDays as logs.RetentionDays,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        spec.id.replace(/Function$/, 'Logs'),
      );
      skip(group, { CKV_AWS_158: LOGS_ENCRYPTED_BY_CLOUDWATCH });
      // The role's statements are written out here, as in the template; nothing CDK would add
      // on its own (tracing, destinations) lands in a policy of its own.
      const role = logicalId(
        new iam.Role(this, `${spec.id}Role`, {
          assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
          managedPolicies: [
            iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
            iam.ManagedPolicy.fromAwsManagedPolicyName('AWSXrayWriteOnlyAccess'),
          ],
          inlinePolicies: { [`${spec.id}RolePolicy0`]: new iam.PolicyDocument({ statements: spec.statements }) },
        }),
        `${spec.id}Role`,
      );
      const fn = logicalId(
        new RustFunction(this, spec.id, {
          manifestPath,
          binaryName: spec.binary,
          runtime: 'provided.al2023',
          architecture: lambda.Architecture.ARM_64,
          description: spec.description,
          memorySize: 256,
          timeout: Duration.seconds(spec.timeout),
          reservedConcurrentExecutions: spec.reservedConcurrency,
          tracing: lambda.Tracing.ACTIVE,
          loggingFormat: lambda.LoggingFormat.JSON,
          logGroup: group,
          role: role.withoutPolicyUpdates(),
          layers: extraCaLayers,
          environment: { ...spec.environment, ...caEnvironment },
        }),
        spec.id,
      );
      skip(fn, spec.skips);
      // The role's inline policies are part of the role, which Role: !GetAtt already waits for:
      // CDK's DependsOn on it is redundant (cfn-lint W3005), and the template has none.
      (fn.node.defaultChild as CfnResource).addDeletionOverride('DependsOn');
      this.functions[spec.id] = fn;
      this.logGroups[spec.id] = group;
      return fn;
    };

    const webhook = build({
      id: 'PagerDutyWebhookFunction',
      logs: 'pagerduty-webhook',
      binary: 'pagerduty-webhook',
      description: 'PagerDuty v3 webhooks and Custom Incident Actions -> SSM Run Command',
      timeout: 20,
      reservedConcurrency: settings.reservedConcurrency,
      environment: {
        PAGERDUTY_WEBHOOK_SECRETS_PARAMETER: settings.webhookSecretsParameterName,
        PAGERDUTY_ACTION_TOKEN_PARAMETER: settings.actionTokenParameterName,
        ...common,
        REMEDIATE_DRY_RUN: String(settings.dryRun),
        REMEDIATE_KILL_SWITCH_PARAMETER: killSwitch.parameterName,
        ...catalogEnvironment,
        ...rundeckEnvironment,
      },
      statements: startRuns([
        settings.webhookSecretsParameterName,
        settings.actionTokenParameterName,
        settings.apiTokenParameterName,
        settings.killSwitchParameterName,
      ]),
      skips: {
        CKV_AWS_116:
          'No dead-letter queue: the function is invoked synchronously, through its Function URL only, and a DLQ ' +
          'receives only failed asynchronous invocations. A failed request is answered 5xx, PagerDuty retries ' +
          'it, and the ledger records every outcome.',
        CKV_AWS_117: NO_VPC,
        CKV_AWS_173: ENVIRONMENT_HOLDS_NAMES,
      },
    });
    this.publicUrl(
      webhook,
      'PagerDutyWebhookFunction',
      'AuthType NONE: PagerDuty cannot sign AWS requests. The function authenticates every request itself, before ' +
        'parsing it: the HMAC signature of v3 webhooks, the secret header of Custom Incident Actions (both compared ' +
        'in constant time), and confirms each tap in the incident\'s log entries.',
    );

    const snsAlarm = build({
      id: 'SnsAlarmFunction',
      logs: 'sns-alarm',
      binary: 'sns-alarm',
      description: 'CloudWatch alarms and AWS findings via SNS -> SSM Run Command',
      timeout: 60,
      reservedConcurrency: settings.alarmReservedConcurrency,
      environment: {
        ...common,
        ...(settings.incidentKeyTemplate === '' ? {} : { PAGERDUTY_INCIDENT_KEY_TEMPLATE: settings.incidentKeyTemplate }),
        REMEDIATE_DRY_RUN: String(settings.dryRun),
        REMEDIATE_KILL_SWITCH_PARAMETER: killSwitch.parameterName,
        SNS_TOPIC_ARNS: alarmTopicArn,
        ...catalogEnvironment,
        ...rundeckEnvironment,
      },
      statements: [
        ...startRuns([settings.apiTokenParameterName, settings.killSwitchParameterName]),
        statement('SendFailedInvocationsToTheFailureQueue', ['sqs:SendMessage'], [alarmFailureQueue.queueArn]),
      ],
      skips: { CKV_AWS_116: FAILURES_GO_TO_A_DESTINATION, CKV_AWS_117: NO_VPC, CKV_AWS_173: ENVIRONMENT_HOLDS_NAMES },
    });
    alarmTopic.addSubscription(new subscriptions.LambdaSubscription(snsAlarm));
    const subscription = this.nameChildren(snsAlarm, 'AWS::SNS::Subscription', 'SnsAlarmFunctionAlarmNotifications');
    // The topic is in the stack's region (AlarmTopicArn says so): no Region, as in the template.
    subscription.addPropertyDeletionOverride('Region');
    this.nameChildren(snsAlarm, 'AWS::Lambda::Permission', 'SnsAlarmFunctionAlarmNotificationsPermission');
    logicalId(
      new lambda.EventInvokeConfig(this, 'SnsAlarmInvokeConfig', {
        function: snsAlarm,
        qualifier: '$LATEST',
        retryAttempts: 2,
        onFailure: new destinations.SqsDestination(alarmFailureQueue),
      }),
      'SnsAlarmInvokeConfig',
    );

    const executionEvents = build({
      id: 'ExecutionEventsFunction',
      logs: 'execution-events',
      binary: 'execution-events',
      description: "SSM command and automation status changes via EventBridge -> the run's ending on the incident",
      timeout: 40,
      reservedConcurrency: settings.executionEventsReservedConcurrency,
      environment: { ...common, ...catalogEnvironment },
      statements: [
        unscopedReads,
        automationEndings,
        statement('FindRunsByTheirHandle', ['dynamodb:Query'], [byHandle]),
        recordEndings,
        apiToken,
        decryptThroughParameterStore,
        ...catalogStatements,
        ...publishResults,
        statement('SendFailedInvocationsToTheFailureQueue', ['sqs:SendMessage'], [executionEventsFailureQueue.queueArn]),
      ],
      skips: { CKV_AWS_116: FAILURES_GO_TO_A_DESTINATION, CKV_AWS_117: NO_VPC, CKV_AWS_173: ENVIRONMENT_HOLDS_NAMES },
    });
    // SSM's own status changes, final statuses only (a test holds both lists to the code).
    const runEnded = logicalId(
      new events.Rule(this, 'ExecutionEventsFunctionRunEnded', { eventPattern: { source: ['aws.ssm'] } }),
      'ExecutionEventsFunctionRunEnded',
    );
    (runEnded.node.defaultChild as events.CfnRule).addPropertyOverride('EventPattern', {
      source: ['aws.ssm'],
      $or: [
        {
          'detail-type': ['EC2 Command Status-change Notification'],
          detail: { status: ['Success', 'Failed', 'Cancelled', 'TimedOut'] },
        },
        {
          'detail-type': ['EC2 Automation Execution Status-change Notification'],
          detail: {
            Status: [
              'Success',
              'CompletedWithSuccess',
              'Failed',
              'CompletedWithFailure',
              'Rejected',
              'ChangeCalendarOverrideRejected',
              'Exited',
              'Cancelled',
              'TimedOut',
            ],
          },
        },
      ],
    });
    runEnded.addTarget(
      new targets.LambdaFunction(executionEvents, {
        deadLetterQueue: executionEventsFailureQueue,
        retryAttempts: 20,
        maxEventAge: Duration.hours(1),
      }),
    );
    this.nameRuleTarget(runEnded, executionEvents, 'ExecutionEventsFunctionRunEnded');
    // EventBridge delivers to a dead-letter queue through the queue's policy: CDK writes it (only
    // this rule may send); named as the template names it.
    const queuePolicy = executionEventsFailureQueue.node.tryFindChild('Policy') as sqs.QueuePolicy;
    logicalId(queuePolicy, 'ExecutionEventsFailureQueuePolicy');
    (queuePolicy.node.defaultChild as sqs.CfnQueuePolicy).addPropertyOverride(
      'PolicyDocument.Statement.0.Sid',
      'TheRunEndedRuleSendsWhatItCouldNotDeliver',
    );
    logicalId(
      new lambda.EventInvokeConfig(this, 'ExecutionEventsInvokeConfig', {
        function: executionEvents,
        qualifier: '$LATEST',
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        onFailure: new destinations.SqsDestination(executionEventsFailureQueue),
      }),
      'ExecutionEventsInvokeConfig',
    );

    if (hasRundeck) {
      const notification = build({
        id: 'RundeckNotificationFunction',
        logs: 'rundeck-notification',
        binary: 'rundeck-notification',
        description: "Rundeck webhook notifications -> the Rundeck run's ending on the incident",
        timeout: 15,
        reservedConcurrency: 10,
        environment: {
          RUNDECK_NOTIFICATION_TOKEN_PARAMETER: settings.rundeckNotificationTokenParameter,
          ...rundeckEnvironment,
          ...common,
          ...catalogEnvironment,
        },
        statements: [
          statement('FindRunsByTheirHandle', ['dynamodb:Query'], [byHandle]),
          recordEndings,
          readParameters('ReadOwnSecrets', [
            settings.rundeckNotificationTokenParameter,
            settings.rundeckTokenParameter,
            settings.apiTokenParameterName,
          ]),
          decryptThroughParameterStore,
          ...catalogStatements,
          ...publishResults,
        ],
        skips: {
          CKV_AWS_116:
            'No dead-letter queue: the function is invoked synchronously, through its Function URL only, and a ' +
            'DLQ receives only failed asynchronous invocations. Rundeck never sends a notification again; a run ' +
            'whose ending was not recorded stays open in the ledger and the reconciler asks Rundeck about it.',
          CKV_AWS_117: NO_VPC,
          CKV_AWS_173: ENVIRONMENT_HOLDS_NAMES,
        },
      });
      this.publicUrl(
        notification,
        'RundeckNotificationFunction',
        "AuthType NONE: Rundeck cannot sign AWS requests. The secret in the URL's path (/notify/<secret>, an SSM " +
          'SecureString) is the authentication: it is compared in constant time before the body is read, and the ' +
          'path is never logged.',
      );
    }

    const reconciler = build({
      id: 'ReconcilerFunction',
      logs: 'reconciler',
      binary: 'reconciler',
      description: 'Every 5 minutes, the ledger\'s open runs -> their endings and pending follow-ups',
      timeout: 300,
      reservedConcurrency: 1,
      environment: {
        ...common,
        ...catalogEnvironment,
        ...rundeckEnvironment,
        RECONCILE_OVERDUE_SECONDS: String(settings.reconcileOverdueSeconds),
        RECONCILE_GIVE_UP_SECONDS: String(settings.reconcileGiveUpSeconds),
        RECONCILE_BATCH: String(settings.reconcileBatch),
      },
      statements: [
        unscopedReads,
        automationEndings,
        statement('FindOpenRunsAndRunsByTheirHandle', ['dynamodb:Query'], [`${table.tableArn}/index/by_open`, byHandle]),
        recordEndings,
        apiToken,
        decryptThroughParameterStore,
        ...rundeckToken,
        statement('ReadAlarmStates', ['cloudwatch:DescribeAlarms'], [arn('cloudwatch', 'alarm:*')]),
        ...catalogStatements,
        ...publishResults,
      ],
      skips: {
        CKV_AWS_116:
          'No dead-letter queue or failure destination: each invocation is a scheduled tick with nothing in it, ' +
          'and the next tick, five minutes later, is the retry. A failed pass leaves every open run in the ' +
          'ledger, where the next pass finds it.',
        CKV_AWS_117: NO_VPC,
        CKV_AWS_173: ENVIRONMENT_HOLDS_NAMES,
      },
    });
    const schedule = logicalId(
      new events.Rule(this, 'ReconcilerFunctionEveryFiveMinutes', {
        schedule: events.Schedule.rate(Duration.minutes(5)),
        description: "One remediate reconciler pass over the ledger's open runs",
      }),
      'ReconcilerFunctionEveryFiveMinutes',
    );
    schedule.addTarget(new targets.LambdaFunction(reconciler));
    this.nameRuleTarget(schedule, reconciler, 'ReconcilerFunctionEveryFiveMinutes');
    logicalId(
      new lambda.EventInvokeConfig(this, 'ReconcilerInvokeConfig', {
        function: reconciler,
        qualifier: '$LATEST',
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      }),
      'ReconcilerInvokeConfig',
    );

    // -------------------------------------------------------------------------------------------
    // Alarms, the dashboard, the outputs

    const watch = new Observability(this, {
      settings,
      functions: this.functions,
      logGroups: this.logGroups,
      queues: { AlarmFailureQueue: alarmFailureQueue, ExecutionEventsFailureQueue: executionEventsFailureQueue },
    });

    const webhookUrl = (webhook.node.tryFindChild('FunctionUrl') as lambda.FunctionUrl).url;
    this.output('WebhookUrl', webhookUrl, 'PagerDuty v3 webhook subscription URL (POST, signed).');
    this.output(
      'ActionUrlExample',
      `${webhookUrl}actions/restart-web`,
      'Custom Incident Action URL for the runbook action "restart-web" (header x-remediate-token).',
    );
    this.output('LedgerTableName', table.tableName);
    this.output('AlarmTopicArnOut', alarmTopicArn, 'The SNS topic to point CloudWatch alarm actions and EventBridge rules at.');
    this.output(
      'ResultsTopicArn',
      resultsTopic.topicArn,
      'Subscribe here for outcomes (filter on the runbook, outcome and source attributes).',
    );
    this.output('AlarmFailureQueueUrl', alarmFailureQueue.queueUrl, "Alarm notifications whose handling failed after Lambda's retries.");
    this.output(
      'RunEndedRuleArn',
      runEnded.ruleArn,
      "The EventBridge rule that sends SSM's final command and automation statuses to execution-events.",
    );
    this.output(
      'ExecutionEventsFailureQueueUrl',
      executionEventsFailureQueue.queueUrl,
      "SSM status events whose handling failed after EventBridge's or Lambda's retries.",
    );
    if (hasRundeck) {
      const url = (this.functions.RundeckNotificationFunction.node.tryFindChild('FunctionUrl') as lambda.FunctionUrl).url;
      this.output(
        'RundeckNotificationUrl',
        `${url}notify/`,
        'Rundeck job webhook notification URL (JSON format, on success and failure): append the secret, the value of RundeckNotificationTokenParameter, at the end (.../notify/<secret>).',
      );
    }
    this.output('ReconcilerScheduleRuleArn', schedule.ruleArn, 'The EventBridge schedule (every 5 minutes) that runs one reconciler pass.');
    this.output(
      'DashboardUrl',
      `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${watch.dashboard.dashboardName}`,
      "The stack's CloudWatch dashboard (outcomes per function and runbook, runs ended, errors, throttles, durations, failure queues, alarms).",
    );
    if (catalogBucket) {
      this.output(
        'CatalogBucketName',
        catalogBucket.bucketName,
        'The created catalog bucket; upload the catalog to its CatalogKey as CatalogWriterRoleArn.',
      );
    }
  }

  private output(id: string, value: string, description?: string) {
    new CfnOutput(this, id, { value, description });
  }

  /** A queue for what the functions could not handle, its messages kept 14 days. */
  private failureQueue(id: string): sqs.Queue {
    const queue = logicalId(
      new sqs.Queue(this, id, {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
      }),
      id,
    );
    skip(queue, { CKV_AWS_27: QUEUE_SQS_MANAGED_KEY });
    return queue;
  }

  /** A public Function URL (AuthType NONE: the function authenticates every request itself). */
  private publicUrl(fn: lambda.Function, id: string, why: string) {
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    logicalId(url, `${id}Url`);
    skip(url, { CKV_AWS_258: why });
    for (const child of fn.node.children) {
      if (child instanceof lambda.CfnPermission) {
        const action = Stack.of(this).resolve(child.action);
        if (action === 'lambda:InvokeFunctionUrl') {
          logicalId(child, `${id}UrlPublicPermissions`);
        } else if (action === 'lambda:InvokeFunction' && child.invokedViaFunctionUrl !== undefined) {
          logicalId(child, `${id}URLInvokeAllowPublicAccess`);
        }
      }
    }
  }

  /** Names the one child resource of a type under a construct (a subscription, a permission). */
  private nameChildren(scope: IConstruct, type: string, id: string) {
    const found = scope.node
      .findAll()
      .filter((child): child is CfnResource => child instanceof CfnResource && child.cfnResourceType === type);
    if (found.length !== 1) {
      throw new Error(`${scope.node.path}: ${found.length} ${type}, one expected`);
    }
    found[0].overrideLogicalId(id);
    return found[0];
  }

  /** The rule's one target and its invoke permission, named as SAM names them. */
  private nameRuleTarget(rule: events.Rule, fn: lambda.Function, id: string) {
    (rule.node.defaultChild as events.CfnRule).addPropertyOverride('Targets.0.Id', `${id}LambdaTarget`);
    // CDK puts the permission under the rule.
    const permissions = [...rule.node.findAll(), ...fn.node.findAll()].filter(
      (child): child is lambda.CfnPermission =>
        child instanceof lambda.CfnPermission && Stack.of(this).resolve(child.principal) === 'events.amazonaws.com',
    );
    if (permissions.length !== 1) {
      throw new Error(`${fn.node.path}: ${permissions.length} EventBridge permissions, one expected`);
    }
    permissions[0].overrideLogicalId(`${id}Permission`);
  }
}

