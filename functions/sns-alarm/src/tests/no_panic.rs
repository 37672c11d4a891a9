//! No input may panic: the release profile aborts on panic, which would kill the container with a
//! claim held. Real messages (AWS's alarm and finding samples), mutated and re-signed so that they
//! reach the parsers behind authentication; arbitrary JSON; and hostile envelopes (ids, times,
//! signatures, certificate URLs) that authentication must turn away without a panic.

use super::*;
use proptest::prelude::*;
use remediate_core::testing::hostile::{arbitrary_json, hostile_value, replace_leaf};

fn sample_message(event: &str) -> String {
    let event: serde_json::Value = serde_json::from_str(event).unwrap();
    event["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Real messages: CloudWatch's single-metric, metric-math and composite samples, and AWS's
/// GuardDuty, Security Hub and Health events.
fn real_messages() -> Vec<String> {
    vec![
        alarm_message("ALARM", INSTANCE),
        sample_message(include_str!(
            "../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-multiple-metrics.json"
        )),
        sample_message(include_str!(
            "../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-composite.json"
        )),
        GUARDDUTY.to_owned(),
        include_str!(
            "../../../../events/fixtures/aws/eventbridge-securityhub-findings-imported.json"
        )
        .to_owned(),
        include_str!("../../../../events/fixtures/aws/eventbridge-health-ec2-issue.json")
            .to_owned(),
    ]
}

/// The record loop must answer every record: an outcome, never an error (nothing in memory is
/// transient) and never a panic.
fn through_the_handler(records: Vec<SnsRecord>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let h = harness();
        let count = records.len();
        let batch = h
            .app
            .handle_records(&records, deadline())
            .await
            .unwrap_or_else(|failure| panic!("no input is transient: {failure}"));
        assert_eq!(batch.records.len(), count);
        for report in &batch.records {
            assert!(
                report.outcome == Outcome::Executed || report.reason.is_some(),
                "{report:?}"
            );
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_messages_never_panic(
        which in 0usize..6,
        pick in any::<usize>(),
        value in hostile_value(),
    ) {
        let messages = real_messages();
        let mut parsed: serde_json::Value =
            serde_json::from_str(&messages[which % messages.len()]).unwrap();
        replace_leaf(&mut parsed, pick, value);
        let message = parsed.to_string();
        let _ = remediate_adapters::sns::notification(&message);
        through_the_handler(vec![record("m-prop", &message)]);
    }

    #[test]
    fn arbitrary_json_messages_never_panic(
        value in arbitrary_json(&[
            "AlarmName", "NewStateValue", "StateChangeTime", "Trigger", "Metrics", "Dimensions",
            "AlarmRule", "source", "detail-type", "detail", "findings", "severity", "resources",
            "time", "type",
        ]),
    ) {
        let message = value.to_string();
        let _ = remediate_adapters::sns::notification(&message);
        through_the_handler(vec![record("m-json", &message)]);
    }

    #[test]
    fn hostile_envelopes_are_turned_away_without_a_panic(
        message_id in ".{0,120}",
        signature in ".{0,64}",
        url in prop_oneof![
            Just(CERT_URL.to_owned()),
            ".{0,200}",
            Just("https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-0.pem".to_owned()),
        ],
        version in prop_oneof![Just("1".to_owned()), Just("2".to_owned()), ".{0,3}"],
        seconds in any::<i32>(),
    ) {
        let mut delivery = record("m-env", &alarm_message("ALARM", INSTANCE));
        delivery.sns.message_id = message_id;
        delivery.sns.signature = signature;
        delivery.sns.signing_cert_url = url;
        delivery.sns.signature_version = version;
        delivery.sns.timestamp += chrono::Duration::seconds(i64::from(seconds));
        through_the_handler(vec![delivery]);
    }
}
