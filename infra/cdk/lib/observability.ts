// The stack's alarms and dashboard, as infra/template.yaml declares them: each function's errors
// and throttles, each failure queue's waiting messages (to the operator topic, if any), and a
// dashboard of the outcome metrics the functions emit (shared/core/src/metrics.rs: namespace
// Remediate, `Triggers` per Function and Outcome, `RunsEnded` per Function and RunState, the
// runbook a field of each `Triggers` line).

import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Settings } from './settings';
import { logicalId } from './ids';

export interface ObservabilityProps {
  readonly settings: Settings;
  /** The functions, by their logical ids. */
  readonly functions: Record<string, lambda.Function>;
  readonly logGroups: Record<string, logs.LogGroup>;
  readonly queues: Record<string, sqs.Queue>;
}

/** The names the functions give themselves in their metrics (each crate's FUNCTION_NAME). */
const SHORT: Record<string, string> = {
  PagerDutyWebhookFunction: 'pagerduty-webhook',
  SnsAlarmFunction: 'sns-alarm',
  ExecutionEventsFunction: 'execution-events',
  ReconcilerFunction: 'reconciler',
  RundeckNotificationFunction: 'rundeck-notification',
};

/** Every outcome (Outcome::ALL) and end state (FinalState::ALL), in the code's words. */
const OUTCOMES = ['executed', 'dry_run', 'ignored', 'refused', 'rejected', 'suppressed', 'duplicate'];
const RUN_STATES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'unknown'];

/** Why each function's errors and throttles alarm, and how many failing periods it takes. */
const ERRORS: Record<string, { periods: number; description: string }> = {
  PagerDutyWebhookFunction: {
    periods: 1,
    description:
      'remediate pagerduty-webhook crashed or timed out (it answers every problem it knows itself, 5xx ' +
      'included): a PagerDuty request got no answer. Its log group says why.',
  },
  SnsAlarmFunction: {
    periods: 3,
    description:
      'remediate sns-alarm failed invocations for 15 minutes in a row (it fails one on purpose when a ' +
      'transient failure should be retried). Its log group says why.',
  },
  ExecutionEventsFunction: {
    periods: 3,
    description:
      'remediate execution-events failed invocations for 15 minutes in a row (it fails one on purpose to be ' +
      'delivered again, e.g. a follow-up left pending). Its log group says why.',
  },
  RundeckNotificationFunction: {
    periods: 1,
    description:
      'remediate rundeck-notification crashed or timed out: Rundeck never sends a notification again (the ' +
      'reconciler still ends the run later). Its log group says why.',
  },
  ReconcilerFunction: {
    periods: 3,
    description:
      'remediate reconciler: three passes in a row failed (each is followed by another five minutes later). ' +
      'Open runs wait in the ledger. Its log group says why.',
  },
};

const THROTTLES: Record<string, string> = {
  PagerDutyWebhookFunction:
    'remediate pagerduty-webhook refused requests: its reserved concurrency (ReservedConcurrency) was all in ' +
    'use. PagerDuty retries; raise it if the load is real.',
  SnsAlarmFunction:
    'remediate sns-alarm was throttled: its reserved concurrency (AlarmReservedConcurrency) was all in use, so ' +
    "alarm notifications wait in Lambda's queue (an alarm storm?).",
  ExecutionEventsFunction:
    'remediate execution-events was throttled: its reserved concurrency (ExecutionEventsReservedConcurrency) ' +
    "was all in use, so run endings wait in Lambda's queue.",
  RundeckNotificationFunction:
    'remediate rundeck-notification refused notifications: its reserved concurrency was all in use (a flood ' +
    'of requests with a wrong secret?). Rundeck does not retry.',
  ReconcilerFunction:
    'remediate reconciler: a scheduled pass was refused because the previous one was still running (one at a ' +
    'time). Passes taking five minutes: lower ReconcileBatch.',
};

const QUEUES: Record<string, { name: string; label: string; description: string }> = {
  AlarmFailureQueue: {
    name: 'alarm-failure-queue',
    label: 'sns-alarm',
    description:
      'remediate: alarm notifications that sns-alarm could not handle, retries included, wait in ' +
      'AlarmFailureQueueUrl with their error. Read them, fix the cause, redrive or delete.',
  },
  ExecutionEventsFailureQueue: {
    name: 'execution-events-failure-queue',
    label: 'execution-events',
    description:
      'remediate: SSM status events that execution-events could not handle, retries included, wait in ' +
      'ExecutionEventsFailureQueueUrl. The reconciler still ends their runs.',
  },
};

/** The order in which the functions appear on the dashboard (rundeck-notification last). */
const ORDER = [
  'PagerDutyWebhookFunction',
  'SnsAlarmFunction',
  'ExecutionEventsFunction',
  'ReconcilerFunction',
  'RundeckNotificationFunction',
];

const FIVE_MINUTES = Duration.minutes(5);

export class Observability {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, props: ObservabilityProps) {
    const operator =
      props.settings.operatorTopicArn === ''
        ? undefined
        : new actions.SnsAction(sns.Topic.fromTopicArn(scope, 'OperatorTopic', props.settings.operatorTopicArn));
    const alarm = (id: string, name: string, description: string, metric: cloudwatch.IMetric, periods = 1) => {
      const created = logicalId(
        new cloudwatch.Alarm(scope, id, {
          alarmName: `${Aws.STACK_NAME}-${name}`,
          alarmDescription: description,
          metric,
          evaluationPeriods: periods,
          datapointsToAlarm: periods > 1 ? periods : undefined,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        id,
      );
      if (operator) {
        created.addAlarmAction(operator);
        created.addOkAction(operator);
      }
      this.alarms.push(created);
      return created;
    };

    // In the template's order: each function's errors then throttles, then the queues.
    const functions = Object.keys(props.functions);
    for (const id of functions) {
      const fn = props.functions[id];
      const prefix = id.replace(/Function$/, '');
      alarm(
        `${prefix}ErrorsAlarm`,
        `${SHORT[id]}-errors`,
        ERRORS[id].description,
        fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        ERRORS[id].periods,
      );
      alarm(
        `${prefix}ThrottlesAlarm`,
        `${SHORT[id]}-throttles`,
        THROTTLES[id],
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      );
    }
    for (const [id, queue] of Object.entries(props.queues)) {
      alarm(
        `${id}MessagesAlarm`,
        QUEUES[id].name,
        QUEUES[id].description,
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      );
    }

    // ---------------------------------------------------------------------------------------------
    // The dashboard

    const ordered = ORDER.filter((id) => props.functions[id] !== undefined);
    const remediate = (name: string, fn: string, dimension: string, value: string) =>
      new cloudwatch.Metric({
        namespace: 'Remediate',
        metricName: name,
        dimensionsMap: { Function: fn, [dimension]: value },
        statistic: 'Sum',
        period: FIVE_MINUTES,
        label: value,
      });
    const triggers = (fn: string) =>
      new cloudwatch.GraphWidget({
        title: `${fn}: triggers by outcome`,
        width: 12,
        height: 6,
        stacked: true,
        left: OUTCOMES.map((outcome) => remediate('Triggers', fn, 'Outcome', outcome)),
      });
    const runsEnded = (fn: string) =>
      new cloudwatch.GraphWidget({
        title: `${fn}: runs ended by state`,
        width: 8,
        height: 6,
        stacked: true,
        left: RUN_STATES.map((state) => remediate('RunsEnded', fn, 'RunState', state)),
      });
    const lambdaMetric = (title: string, metric: (fn: lambda.Function, label: string) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({
        title,
        width: 8,
        height: 6,
        left: ordered.map((id) => metric(props.functions[id], SHORT[id])),
      });

    this.dashboard = logicalId(
      new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: Aws.STACK_NAME }),
      'Dashboard',
    );
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        width: 24,
        height: 3,
        background: cloudwatch.TextWidgetBackground.TRANSPARENT,
        markdown:
          "# remediate\nWhat became of each trigger (metric `Triggers`, namespace `Remediate`) and of each run (`RunsEnded`), outcomes per runbook (Logs Insights over the same log lines), the functions' errors, throttles and durations, the failure queues and the stack's alarms. See the README, *Dashboard and alarms*.",
      }),
    );
    this.dashboard.addWidgets(triggers('pagerduty-webhook'), triggers('sns-alarm'));
    this.dashboard.addWidgets(
      runsEnded('execution-events'),
      runsEnded('reconciler'),
      runsEnded('rundeck-notification'),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Outcomes per runbook',
        width: 24,
        height: 6,
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        logGroupNames: [
          props.logGroups.PagerDutyWebhookFunction.logGroupName,
          props.logGroups.SnsAlarmFunction.logGroupName,
        ],
        queryLines: [
          'filter ispresent(Runbook)',
          'stats sum(Triggers) as triggers by Runbook, Outcome, Function',
          'sort triggers desc',
        ],
      }),
    );
    this.dashboard.addWidgets(
      lambdaMetric('Errors', (fn, label) => fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label })),
      lambdaMetric('Throttles', (fn, label) => fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label })),
      lambdaMetric('Duration (p99)', (fn, label) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label })),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Failure queues: messages waiting',
        width: 12,
        height: 6,
        left: Object.entries(props.queues).map(([id, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: 'Maximum',
            label: QUEUES[id].label,
          }),
        ),
      }),
      // rundeck-notification's alarms last, as the template lists them.
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 12,
        height: 6,
        alarms: [
          ...this.alarms.filter((a) => !a.node.id.startsWith('RundeckNotification')),
          ...this.alarms.filter((a) => a.node.id.startsWith('RundeckNotification')),
        ],
      }),
    );
  }
}
