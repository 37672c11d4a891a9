//! The CloudWatch alarm-states adapter (`verify:`): real states against moto (`PutMetricAlarm`,
//! `SetAlarmState`, read back through `DescribeAlarms`), and what moto cannot produce (composite
//! alarms' timestamps, throttling, a state this build does not know) from the SDK's own mocks.

use aws_sdk_cloudwatch::error::ErrorMetadata;
use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsError, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, CompositeAlarm, MetricAlarm, StateValue, Statistic,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use remediate_adapters::cloudwatch::CloudWatchAlarmStates;
use remediate_core::ports::AlarmStates;
use remediate_core::ports::alarms::AlarmState;

async fn cloudwatch() -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&crate::support::moto_config().await)
}

async fn put_alarm(client: &aws_sdk_cloudwatch::Client, name: &str) {
    client
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(90.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
}

async fn set_state(
    client: &aws_sdk_cloudwatch::Client,
    name: &str,
    state: StateValue,
    reason: &str,
) {
    client
        .set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason(reason)
        .send()
        .await
        .expect("SetAlarmState");
}

#[tokio::test]
async fn each_state_set_is_read_back_with_its_reason_and_time() {
    let client = cloudwatch().await;
    let name = crate::support::unique("HighCPU");
    put_alarm(&client, &name).await;
    let states = CloudWatchAlarmStates::from_client(client.clone());

    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    set_state(
        &client,
        &name,
        StateValue::Alarm,
        "Threshold Crossed: 1 datapoint [97.0]",
    )
    .await;
    let alarm = states
        .alarm_state(&name)
        .await
        .expect("DescribeAlarms")
        .expect("the alarm exists");
    assert_eq!(alarm.state, AlarmState::Alarm);
    assert_eq!(
        alarm.reason.as_deref(),
        Some("Threshold Crossed: 1 datapoint [97.0]")
    );
    assert!(alarm.updated_at >= before, "{alarm:?}");

    set_state(
        &client,
        &name,
        StateValue::Ok,
        "Threshold Crossed: 1 datapoint [12.0]",
    )
    .await;
    let ok = states
        .alarm_state(&name)
        .await
        .expect("DescribeAlarms")
        .expect("the alarm exists");
    assert_eq!(ok.state, AlarmState::Ok);
    assert_eq!(
        ok.reason.as_deref(),
        Some("Threshold Crossed: 1 datapoint [12.0]")
    );
    assert!(ok.updated_at >= alarm.updated_at, "{ok:?} after {alarm:?}");
}

#[tokio::test]
async fn an_unknown_alarm_reads_as_none_and_a_prefix_is_not_a_match() {
    let client = cloudwatch().await;
    let name = crate::support::unique("DiskFull");
    put_alarm(&client, &name).await;
    let states = CloudWatchAlarmStates::from_client(client);
    assert_eq!(
        states
            .alarm_state(&crate::support::unique("NoSuchAlarm"))
            .await
            .expect("DescribeAlarms"),
        None
    );
    // AlarmNames is exact; AlarmNamePrefix would have found it.
    assert_eq!(
        states
            .alarm_state(&name[..name.len() - 1])
            .await
            .expect("DescribeAlarms"),
        None
    );
}

fn at(secs: i64) -> AwsDateTime {
    AwsDateTime::from_secs(secs)
}

#[tokio::test]
async fn both_alarm_types_are_asked_for_and_a_composite_alarm_is_read() {
    let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|input| {
            input.alarm_names() == ["web-health"]
                && input.alarm_types() == [AlarmType::MetricAlarm, AlarmType::CompositeAlarm]
        })
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .composite_alarms(
                    CompositeAlarm::builder()
                        .alarm_name("web-health")
                        .state_value(StateValue::Ok)
                        .state_reason("  ")
                        .state_transitioned_timestamp(at(1_785_000_000))
                        .state_updated_timestamp(at(1_785_000_900))
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&rule]);
    let reading = CloudWatchAlarmStates::from_client(client)
        .alarm_state("web-health")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(reading.state, AlarmState::Ok);
    // The last change of state, not the last update of its reason.
    assert_eq!(reading.updated_at.timestamp(), 1_785_000_000);
    assert_eq!(reading.reason, None);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn another_alarms_answer_is_not_taken_and_an_unknown_state_is_an_error() {
    let other = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
        DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name("web-cpu-2")
                    .state_value(StateValue::Alarm)
                    .state_updated_timestamp(at(1))
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&other]);
    let states = CloudWatchAlarmStates::from_client(client);
    assert_eq!(states.alarm_state("web-cpu").await.expect("read"), None);

    let odd = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
        DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name("web-cpu")
                    .state_value(StateValue::from("SNOOZED"))
                    .state_updated_timestamp(at(1))
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&odd]);
    let error = CloudWatchAlarmStates::from_client(client)
        .alarm_state("web-cpu")
        .await
        .expect_err("unknown state");
    assert!(!error.is_retryable(), "{error}");
}

#[tokio::test]
async fn throttling_is_transient_and_a_bad_name_is_refused_without_a_call() {
    let throttled = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_error(|| {
        DescribeAlarmsError::generic(
            ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&throttled]);
    let states = CloudWatchAlarmStates::from_client(client);
    let error = states.alarm_state("web-cpu").await.expect_err("throttled");
    assert!(error.is_transient(), "{error}");
    let calls = throttled.num_calls();

    for bad in ["", "a\nb", &"a".repeat(256)] {
        let error = states.alarm_state(bad).await.expect_err("refused");
        assert!(!error.is_retryable(), "{error}");
    }
    assert_eq!(throttled.num_calls(), calls, "no call for a bad name");
}
