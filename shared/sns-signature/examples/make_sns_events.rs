//! Writes the signed Lambda SNS sample events in `events/sns/` (deterministic, rerunnable):
//!
//! ```text
//! cargo run -p remediate-sns-signature --features testing --example make_sns_events
//! cargo run -p remediate-sns-signature --features testing --example make_sns_events -- --new-key
//! ```
//!
//! Every sample is an SNS event exactly as Lambda delivers it (`{"Records":[{"EventSource":
//! "aws:sns", ..., "Sns":{...}}]}`), signed as SNS signs a Notification, with the test-only key
//! in `events/sns/test-signing-key.pem`; the matching self-signed certificate is
//! `events/sns/certificates/<CERT_FILE>`, which the function reads through
//! `SNS_CERTIFICATES_DIR` instead of fetching it from AWS. The key and the certificate are
//! reused when they exist, and RSA PKCS#1 v1.5 signatures are deterministic, so a rerun after
//! editing a sample changes only that sample. `--new-key` makes a new key and certificate
//! (valid 2026-01-01..2036-01-01, so that the fixed-time samples keep verifying for a decade).
//!
//! Sample times are fixed on 2026-11-25, like the webhook samples: replaying them needs an age
//! limit of years (`MAX_TRIGGER_AGE_SECONDS=315360000`). `events/sns/expected.json` (written by
//! hand) says what the function answers to each, and tests/it/sns_events.rs holds it to that.
#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a generator run by hand"
)]

use chrono::{DateTime, Utc};
use remediate_sns_signature::testing::{certificate_for_key, sign, test_certificate};
use remediate_sns_signature::{SignatureVersion, SignedMessage, sns_timestamp};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The certificate's name, as SNS names them (`SimpleNotificationService-<32 hex>.pem`); the
/// hex is ours, so that these samples can never be mistaken for a real SNS certificate.
const CERT_FILE: &str = "SimpleNotificationService-5a3e7c1d9b2f48e6a0c4d8f2b6e1a9c7.pem";
const CERT_HOST: &str = "https://sns.us-east-1.amazonaws.com/";
/// The topic the samples come from; `SNS_TOPIC_ARNS` allows it (see events/sns/README.md).
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:remediate-alarms";
const FOREIGN_TOPIC: &str = "arn:aws:sns:us-east-1:210987654321:someone-elses-alarms";
const SUBSCRIPTION: &str = "b1f3c2a4-6d5e-4f70-8a91-2c3d4e5f6a7b";
const KEY_NOTICE: &str = "\
TEST-ONLY private key: it signs the sample events in events/sns/ and nothing else.
It is committed on purpose, so that anyone can regenerate the samples
(cargo run -p remediate-sns-signature --features testing --example make_sns_events).
Its certificate is self-signed and lives only in events/sns/certificates/: no AWS
service, and no deployed function without SNS_CERTIFICATES_DIR pointing there,
trusts it. Never use it for anything real.
";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path as people read it: from the workspace's root.
fn shown(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// JSON text without the whitespace between tokens (CloudWatch and EventBridge publish compact
/// JSON), keeping the keys in the order written: serde_json may sort them.
fn compact(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// The disk alarm of the example catalog's `clean-disk`, in `state`: AWS's documented
/// single-metric notification (events/fixtures/aws/cloudwatch-alarm-sns-payload-single-metric.json)
/// with the CloudWatch agent's metric, dimensions and quirks (null description, lowercase
/// dimension keys, the region's display name).
fn disk_alarm(state: &str, old_state: &str, reason: &str, at: &str) -> String {
    compact(&format!(
        r#"{{
  "AlarmName": "web-1-disk-used",
  "AlarmDescription": null,
  "AWSAccountId": "123456789012",
  "AlarmConfigurationUpdatedTimestamp": "2026-10-02T14:20:31.118+0000",
  "NewStateValue": "{state}",
  "NewStateReason": "{reason}",
  "StateChangeTime": "{at}",
  "Region": "US East (N. Virginia)",
  "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used",
  "OldStateValue": "{old_state}",
  "OKActions": ["{TOPIC}"],
  "AlarmActions": ["{TOPIC}"],
  "InsufficientDataActions": [],
  "Trigger": {{
    "MetricName": "disk_used_percent",
    "Namespace": "CWAgent",
    "StatisticType": "Statistic",
    "Statistic": "AVERAGE",
    "Unit": null,
    "Dimensions": [
      {{ "value": "i-0a1b2c3d4e5f67890", "name": "InstanceId" }},
      {{ "value": "/", "name": "path" }},
      {{ "value": "nvme0n1p1", "name": "device" }},
      {{ "value": "xfs", "name": "fstype" }}
    ],
    "Period": 60,
    "EvaluationPeriods": 2,
    "DatapointsToAlarm": 2,
    "ComparisonOperator": "GreaterThanThreshold",
    "Threshold": 90.0,
    "TreatMissingData": "missing",
    "EvaluateLowSampleCountPercentile": ""
  }}
}}"#
    ))
}

/// A metric-math alarm (AWS's documented multiple-metrics notification): an error rate computed
/// from two load balancer metrics. No runbook of the example catalog watches it.
fn metric_math_alarm() -> String {
    compact(&format!(
        r#"{{
  "AlarmName": "orders-api-5xx-rate",
  "AlarmDescription": "More than 5% of the orders API's requests fail",
  "AWSAccountId": "123456789012",
  "AlarmConfigurationUpdatedTimestamp": "2026-09-14T08:02:45.410+0000",
  "NewStateValue": "ALARM",
  "NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints [7.3 (25/11/26 03:09:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).",
  "StateChangeTime": "2026-11-25T03:11:02.377+0000",
  "Region": "US East (N. Virginia)",
  "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-api-5xx-rate",
  "OldStateValue": "OK",
  "OKActions": [],
  "AlarmActions": ["{TOPIC}"],
  "InsufficientDataActions": [],
  "Trigger": {{
    "Period": 60,
    "EvaluationPeriods": 1,
    "DatapointsToAlarm": 1,
    "ComparisonOperator": "GreaterThanThreshold",
    "Threshold": 5.0,
    "TreatMissingData": "notBreaching",
    "EvaluateLowSampleCountPercentile": "",
    "Metrics": [
      {{ "Expression": "100 * errors / requests", "Id": "rate", "Label": "5xx rate (%)", "ReturnData": true }},
      {{
        "Id": "errors",
        "MetricStat": {{
          "Metric": {{
            "Dimensions": [{{ "value": "app/orders-api/50dc6c495c0c9188", "name": "LoadBalancer" }}],
            "MetricName": "HTTPCode_Target_5XX_Count",
            "Namespace": "AWS/ApplicationELB"
          }},
          "Period": 60,
          "Stat": "Sum"
        }},
        "ReturnData": false
      }},
      {{
        "Id": "requests",
        "MetricStat": {{
          "Metric": {{
            "Dimensions": [{{ "value": "app/orders-api/50dc6c495c0c9188", "name": "LoadBalancer" }}],
            "MetricName": "RequestCount",
            "Namespace": "AWS/ApplicationELB"
          }},
          "Period": 60,
          "Stat": "Sum"
        }},
        "ReturnData": false
      }}
    ]
  }}
}}"#
    ))
}

/// A composite alarm (events/fixtures/aws/cloudwatch-alarm-sns-payload-composite.json's shape:
/// `AlarmRule`, `TriggeringChildren`, no `Trigger`). No runbook of the example catalog watches it.
fn composite_alarm() -> String {
    compact(&format!(
        r#"{{
  "AlarmName": "web-tier-degraded",
  "AlarmDescription": "Disk full and CPU high on the web tier",
  "AWSAccountId": "123456789012",
  "NewStateValue": "ALARM",
  "NewStateReason": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used transitioned to ALARM at Wednesday 25 November, 2026 03:12:08 UTC",
  "StateChangeTime": "2026-11-25T03:12:09.402+0000",
  "Region": "US East (N. Virginia)",
  "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-tier-degraded",
  "OKActions": [],
  "AlarmActions": ["{TOPIC}"],
  "InsufficientDataActions": [],
  "OldStateValue": "OK",
  "AlarmRule": "ALARM(\"web-1-disk-used\") AND ALARM(\"web-1-cpu-high\")",
  "TriggeringChildren": [
    {{
      "Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used",
      "State": {{ "Value": "ALARM", "Timestamp": "2026-11-25T03:12:08.950+0000" }}
    }}
  ]
}}"#
    ))
}

struct Sample {
    name: &'static str,
    message_id: &'static str,
    topic: &'static str,
    subject: Option<&'static str>,
    message: String,
    timestamp: &'static str,
    version: SignatureVersion,
    /// What is done to the envelope after signing, to make a bad sample.
    spoil: fn(&mut SignedMessage),
}

fn keep(_: &mut SignedMessage) {}

fn samples() -> Vec<Sample> {
    let disk_alarm_subject = Some("ALARM: \"web-1-disk-used\" in US East (N. Virginia)");
    let in_alarm = || {
        disk_alarm(
            "ALARM",
            "OK",
            "Threshold Crossed: 2 out of the last 2 datapoints [93.4 (25/11/26 03:11:00), 91.8 (25/11/26 03:10:00)] were greater than the threshold (90.0) (minimum 2 datapoints for OK -> ALARM transition).",
            "2026-11-25T03:12:08.950+0000",
        )
    };
    let guardduty = compact(
        &std::fs::read_to_string(
            root().join("events/fixtures/aws/eventbridge-guardduty-finding-ec2.json"),
        )
        .expect("the GuardDuty fixture is readable"),
    );
    vec![
        Sample {
            name: "alarm-disk-used",
            message_id: "7c1e5a2b-3d4f-5e6a-8b9c-0d1e2f3a4b5c",
            topic: TOPIC,
            subject: disk_alarm_subject,
            message: in_alarm(),
            timestamp: "2026-11-25T03:12:09.041Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
        Sample {
            name: "alarm-disk-used-ok",
            message_id: "2e8d4f6a-9b1c-5d3e-a7f2-4c6b8d0e1f3a",
            topic: TOPIC,
            subject: Some("OK: \"web-1-disk-used\" in US East (N. Virginia)"),
            message: disk_alarm(
                "OK",
                "ALARM",
                "Threshold Crossed: 2 out of the last 2 datapoints [41.2 (25/11/26 03:29:00), 41.3 (25/11/26 03:28:00)] were not greater than the threshold (90.0) (minimum 2 datapoints for ALARM -> OK transition).",
                "2026-11-25T03:30:08.612+0000",
            ),
            timestamp: "2026-11-25T03:30:08.705Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
        Sample {
            name: "alarm-metric-math",
            message_id: "5b9a3c7d-1e2f-5a4b-9c8d-6e7f8a9b0c1d",
            topic: TOPIC,
            subject: Some("ALARM: \"orders-api-5xx-rate\" in US East (N. Virginia)"),
            message: metric_math_alarm(),
            timestamp: "2026-11-25T03:11:02.468Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
        Sample {
            name: "alarm-composite",
            message_id: "9d2c4e6f-8a1b-5c3d-b5e7-f9a1c3e5d7b9",
            topic: TOPIC,
            subject: Some("ALARM: \"web-tier-degraded\" in US East (N. Virginia)"),
            message: composite_alarm(),
            timestamp: "2026-11-25T03:12:09.488Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
        Sample {
            // EventBridge rules publish with no subject; SignatureVersion 2 (SHA-256), which a
            // topic can be set to.
            name: "guardduty-finding",
            message_id: "4f6e8d0c-2b3a-5948-8776-a5b4c3d2e1f0",
            topic: TOPIC,
            subject: None,
            message: guardduty,
            timestamp: "2026-11-25T03:14:51.317Z",
            version: SignatureVersion::V2,
            spoil: keep,
        },
        Sample {
            // Someone published by hand on the alarm topic (the console's "Publish message").
            name: "not-json",
            message_id: "0a1b2c3d-4e5f-5a6b-8c7d-9e0f1a2b3c4d",
            topic: TOPIC,
            subject: Some("Test from the console"),
            message: "Hello from the SNS console: is anyone listening?".to_owned(),
            timestamp: "2026-11-25T03:20:00.000Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
        Sample {
            // Signed, then the instance changed: the signature no longer matches.
            name: "bad-tampered-message",
            message_id: "6c8e0a2c-4e6a-5c8e-9a2c-4e6a8c0e2a4c",
            topic: TOPIC,
            subject: disk_alarm_subject,
            message: in_alarm(),
            timestamp: "2026-11-25T03:12:09.041Z",
            version: SignatureVersion::V1,
            spoil: |signed| {
                signed.message = signed
                    .message
                    .replace("i-0a1b2c3d4e5f67890", "i-0fedcba9876543210");
            },
        },
        Sample {
            // Signed by the test key, but the certificate URL is on a host that only looks like
            // SNS's: refused before any fetch.
            name: "bad-foreign-cert-host",
            message_id: "8e0a2c4e-6a8c-5e0a-ac4e-6a8c0e2a4c6e",
            topic: TOPIC,
            subject: disk_alarm_subject,
            message: in_alarm(),
            timestamp: "2026-11-25T03:12:09.041Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
        Sample {
            // Correctly signed, from a topic that SNS_TOPIC_ARNS does not allow.
            name: "bad-topic-not-allowed",
            message_id: "1a3c5e7a-9c1e-5a3c-8e7a-9c1e3a5c7e9a",
            topic: FOREIGN_TOPIC,
            subject: disk_alarm_subject,
            message: in_alarm(),
            timestamp: "2026-11-25T03:12:09.041Z",
            version: SignatureVersion::V1,
            spoil: keep,
        },
    ]
}

/// The certificate URL of a sample: the foreign-host sample's looks like SNS's but is not.
fn cert_url(name: &str) -> String {
    if name == "bad-foreign-cert-host" {
        format!("https://sns.us-east-1.amazonaws.com.attacker.example/{CERT_FILE}")
    } else {
        format!("{CERT_HOST}{CERT_FILE}")
    }
}

/// The Lambda event for one signed notification, with the field names Lambda uses
/// (`SigningCertUrl`, `UnsubscribeUrl`, unlike SNS's HTTP deliveries).
fn lambda_event(signed: &SignedMessage) -> serde_json::Value {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{}:{SUBSCRIPTION}", signed.topic_arn),
            "Sns": {
                "Type": signed.kind,
                "MessageId": signed.message_id,
                "TopicArn": signed.topic_arn,
                "Subject": signed.subject,
                "Message": signed.message,
                "Timestamp": signed.timestamp,
                "SignatureVersion": signed.signature_version,
                "Signature": signed.signature,
                "SigningCertUrl": signed.signing_cert_url,
                "UnsubscribeUrl": format!(
                    "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={}:{SUBSCRIPTION}",
                    signed.topic_arn
                ),
                "MessageAttributes": {}
            }
        }]
    })
}

/// The PEM block of a file that may start with explanatory text (the key file's notice).
fn pem_block(text: &str) -> &str {
    text.find("-----BEGIN").map_or(text, |start| &text[start..])
}

/// The test key and certificate: the existing ones, or new ones with `--new-key` or when absent.
fn key(dir: &Path, new_key: bool) -> String {
    let key_path = dir.join("test-signing-key.pem");
    let certificates = dir.join("certificates");
    let cert_path = certificates.join(CERT_FILE);
    if !new_key && key_path.exists() && cert_path.exists() {
        let text = std::fs::read_to_string(&key_path).expect("the key file is readable");
        return pem_block(&text).to_owned();
    }
    let valid_from: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("a time");
    let valid_to: DateTime<Utc> = "2036-01-01T00:00:00Z".parse().expect("a time");
    let (certificate, key) = match (new_key, std::fs::read_to_string(&key_path)) {
        // A lost certificate is made again for the same key: the samples stay as they are.
        (false, Ok(text)) => {
            let key = pem_block(&text).to_owned();
            (certificate_for_key(&key, valid_from, valid_to), key)
        }
        _ => test_certificate(valid_from, valid_to),
    };
    std::fs::create_dir_all(&certificates).expect("events/sns/certificates is writable");
    std::fs::write(&key_path, format!("{KEY_NOTICE}\n{key}")).expect("the key is written");
    std::fs::write(&cert_path, certificate).expect("the certificate is written");
    println!("wrote {} and {}", shown(&key_path), shown(&cert_path));
    key
}

fn main() {
    let new_key = std::env::args().any(|arg| arg == "--new-key");
    let dir = root().join("events/sns");
    let key = key(&dir, new_key);
    for sample in samples() {
        let timestamp: DateTime<Utc> = sample.timestamp.parse().expect("a sample time");
        let mut signed = SignedMessage {
            kind: "Notification".to_owned(),
            message_id: sample.message_id.to_owned(),
            topic_arn: sample.topic.to_owned(),
            subject: sample.subject.map(str::to_owned),
            message: sample.message,
            timestamp: sns_timestamp(&timestamp),
            signature_version: String::new(),
            signature: String::new(),
            signing_cert_url: cert_url(sample.name),
        };
        sign(&mut signed, &key, sample.version);
        (sample.spoil)(&mut signed);
        let mut text = serde_json::to_string_pretty(&lambda_event(&signed)).expect("JSON");
        text.push('\n');
        let path = dir.join(format!("{}.json", sample.name));
        std::fs::write(&path, text).expect("the sample is written");
        println!("wrote {}", shown(&path));
    }
}
