//! The results topic on moto's SNS: what a subscriber receives, and that the message attributes
//! let a subscription filter policy pick outcomes (here: a queue that wants only `executed`).

use crate::support::*;
use remediate_adapters::aws::results_topic::SnsResults;
use remediate_core::outcome::{Outcome, Report};
use remediate_core::ports::ResultsPublisher;
use remediate_core::ports::results::ResultMessage;
use remediate_core::trigger::{Alarm, Source, Trigger};
use std::time::Duration;
use tokio::time::Instant;

fn alarm_trigger(id: &str) -> Trigger {
    Trigger {
        source: Source::CloudwatchAlarm,
        dedupe_id: id.into(),
        event_type: "ALARM".into(),
        action: None,
        occurred_at: chrono::Utc::now(),
        incident: None,
        actor: None,
        alarm: Some(Alarm {
            name: "web-1-disk-used".into(),
            state: "ALARM".into(),
            ..Alarm::default()
        }),
        event: None,
        workflow: None,
    }
}

async fn topic_with_queues(fifo: bool) -> (aws_sdk_sns::Client, String, String, String) {
    let sns = aws_sdk_sns::Client::new(&moto_config().await);
    let mut create = sns.create_topic().name(if fifo {
        format!("{}.fifo", unique("results"))
    } else {
        unique("results")
    });
    if fifo {
        create = create.attributes("FifoTopic", "true");
    }
    let topic = create
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic arn");
    let (all_url, all_arn) = sqs_queue(&unique("all")).await;
    let (executed_url, executed_arn) = sqs_queue(&unique("executed")).await;
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(all_arn)
        .send()
        .await
        .expect("Subscribe all");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(executed_arn)
        .attributes("FilterPolicy", r#"{"outcome": ["executed"]}"#)
        .send()
        .await
        .expect("Subscribe executed");
    (sns, topic, all_url, executed_url)
}

#[tokio::test]
async fn subscribers_receive_the_outcome_and_filter_on_its_attributes() {
    let (sns, topic, all_url, executed_url) = topic_with_queues(false).await;
    let results = SnsResults::new(sns, topic);
    let deadline = Instant::now() + Duration::from_secs(5);
    let executed = {
        let mut report = Report::run(
            &"sns:m-1".into(),
            "clean-disk",
            &"run-1".into(),
            "v1",
            "i-0abc".into(),
        );
        report.command_id = Some("cmd-1".into());
        ResultMessage::new(&alarm_trigger("sns:m-1"), &report)
    };
    let suppressed = ResultMessage::new(
        &alarm_trigger("sns:m-2"),
        &Report::suppressed(
            &"sns:m-2".into(),
            "clean-disk",
            "cooldown until 03:40".into(),
        ),
    );
    results
        .publish(&executed, deadline)
        .await
        .expect("publish executed");
    results
        .publish(&suppressed, deadline)
        .await
        .expect("publish suppressed");

    let everything = sqs_drain(&all_url).await;
    assert_eq!(everything.len(), 2, "{everything:?}");
    let envelope: serde_json::Value = serde_json::from_str(&everything[0]).unwrap();
    assert_eq!(envelope["Subject"], "remediate: clean-disk executed");
    assert_eq!(
        envelope["MessageAttributes"]["outcome"]["Value"],
        "executed"
    );
    assert_eq!(
        envelope["MessageAttributes"]["runbook"]["Value"],
        "clean-disk"
    );
    assert_eq!(
        envelope["MessageAttributes"]["source"]["Value"],
        "cloudwatch-alarm"
    );
    let message: serde_json::Value =
        serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["outcome"], "executed");
    assert_eq!(message["run_id"], "run-1");
    assert_eq!(message["command_id"], "cmd-1");
    assert_eq!(message["alarm"], "web-1-disk-used");

    let filtered = sqs_drain(&executed_url).await;
    assert_eq!(
        filtered.len(),
        1,
        "the filter policy admits executed only: {filtered:?}"
    );
    let envelope: serde_json::Value = serde_json::from_str(&filtered[0]).unwrap();
    assert!(
        envelope["Message"]
            .as_str()
            .unwrap()
            .contains("\"executed\"")
    );
    assert_eq!(Outcome::parse("executed"), Some(executed.outcome));
}

#[tokio::test]
async fn a_fifo_results_topic_gets_a_message_group() {
    let (sns, topic, all_url, _) = topic_with_queues(true).await;
    let results = SnsResults::new(sns, topic);
    let deadline = Instant::now() + Duration::from_secs(5);
    let message = ResultMessage::new(
        &alarm_trigger("sns:f-1"),
        &Report::suppressed(&"sns:f-1".into(), "clean-disk", "cooldown".into()),
    );
    // SNS refuses a FIFO publish without a message group: this one passes.
    results
        .publish(&message, deadline)
        .await
        .expect("FIFO publish");
    let received = sqs_drain(&all_url).await;
    assert_eq!(received.len(), 1, "{received:?}");
    // The same publish without the group is refused, so the test above is not vacuous.
    let (sns, topic, _, _) = topic_with_queues(true).await;
    let refused = sns
        .publish()
        .topic_arn(topic)
        .message("no group")
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a FIFO topic must refuse a publish without a group"
    );
}

#[tokio::test]
async fn a_missing_topic_is_a_permanent_error() {
    let sns = aws_sdk_sns::Client::new(&moto_config().await);
    let results = SnsResults::new(sns, format!("arn:aws:sns:{REGION}:123456789012:nope"));
    let message = ResultMessage::new(
        &alarm_trigger("sns:x"),
        &Report::suppressed(&"sns:x".into(), "clean-disk", "cooldown".into()),
    );
    let error = results
        .publish(&message, Instant::now() + Duration::from_secs(5))
        .await
        .expect_err("no such topic");
    assert!(!error.is_retryable(), "{error}");
}
