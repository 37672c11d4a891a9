//! What every emulator test needs: the emulators' addresses (started by `scripts/test`), SDK
//! clients pointed at moto, and helpers to seed moto. A missing emulator fails the test with a
//! message saying how to start it; nothing is skipped.
#![allow(
    dead_code,
    reason = "each test file uses a different part of this module"
)]

pub mod emulated;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use std::time::Duration;

pub const REGION: &str = "us-east-1";

fn required_url(variable: &str, what: &str) -> String {
    let url = std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: {what} is not running. Run the tests with scripts/test, which installs and starts it.")
    });
    // Fail loudly, now, if the address is set but nothing answers there.
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    std::net::TcpStream::connect_timeout(
        &address
            .parse()
            .unwrap_or_else(|_| panic!("{variable}={url} is not http://IP:PORT")),
        Duration::from_secs(2),
    )
    .unwrap_or_else(|error| panic!("{what} at {url} ({variable}) does not answer: {error}"));
    url
}

pub fn moto_url() -> String {
    required_url("REMEDIATE_TEST_MOTO_URL", "the moto server")
}

pub fn prism_url() -> String {
    required_url("REMEDIATE_TEST_PRISM_URL", "Prism (PagerDuty's spec)")
}

/// SDK configuration aimed at moto, with test credentials and few retries (moto answers 500
/// for what it does not implement, and the SDK would retry those).
pub async fn moto_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto_url())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "remediate-tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        // The functions' own HTTP client (reqwest on the shared TLS set-up): the SDK has no other.
        .http_client(
            remediate_adapters::tls::SharedTls::process()
                .expect("the TLS set-up")
                .sdk_http_client(),
        )
        .load()
        .await
}

/// A plain HTTP client for talking to the emulators, on the functions' TLS set-up (reqwest has
/// no crypto provider of its own in this workspace).
pub fn http_client() -> reqwest::Client {
    remediate_adapters::tls::SharedTls::process()
        .expect("the TLS set-up")
        .reqwest_builder()
        .build()
        .expect("an HTTP client")
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Start `count` EC2 instances in moto tagged `key=value`; returns their ids. Uses EC2's query
/// API directly (moto does not check signatures), which spares the tests the large EC2 SDK crate.
pub async fn run_tagged_instances(count: u32, key: &str, value: &str) -> Vec<String> {
    let form = [
        ("Action", "RunInstances".to_owned()),
        ("Version", "2016-11-15".to_owned()),
        ("ImageId", "ami-12c6146b".to_owned()),
        ("InstanceType", "t3.micro".to_owned()),
        ("MinCount", count.to_string()),
        ("MaxCount", count.to_string()),
        ("TagSpecification.1.ResourceType", "instance".to_owned()),
        ("TagSpecification.1.Tag.1.Key", key.to_owned()),
        ("TagSpecification.1.Tag.1.Value", value.to_owned()),
    ];
    let response = crate::support::http_client()
        .post(format!("{}/", moto_url()))
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .form(&form)
        .send()
        .await
        .expect("moto RunInstances");
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "RunInstances failed: {status} {text}");
    text.split("<instanceId>")
        .skip(1)
        .filter_map(|rest| rest.split("</instanceId>").next())
        .map(str::to_owned)
        .collect()
}

pub async fn put_secure_parameter(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter on moto");
}

/// The ledger table, as infra/template.yaml defines it.
pub async fn create_ledger_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    remediate_adapters::aws::ledger::create_table(dynamodb, name)
        .await
        .expect("CreateTable on moto");
}

/// One call of SQS's JSON protocol on moto (spares the tests the SQS SDK crate): a subscriber
/// queue is all the tests need of SQS.
pub async fn sqs(target: &str, body: serde_json::Value) -> serde_json::Value {
    let response = crate::support::http_client()
        .post(format!("{}/", moto_url()))
        .header("X-Amz-Target", format!("AmazonSQS.{target}"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|error| panic!("moto SQS {target}: {error}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "SQS {target} failed: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A new SQS queue: its URL and ARN.
pub async fn sqs_queue(name: &str) -> (String, String) {
    let created = sqs("CreateQueue", serde_json::json!({ "QueueName": name })).await;
    let url = created["QueueUrl"].as_str().expect("QueueUrl").to_owned();
    let attributes = sqs(
        "GetQueueAttributes",
        serde_json::json!({ "QueueUrl": url, "AttributeNames": ["QueueArn"] }),
    )
    .await;
    let arn = attributes["Attributes"]["QueueArn"]
        .as_str()
        .expect("QueueArn")
        .to_owned();
    (url, arn)
}

/// Every message waiting in the queue (their bodies), reading until it is empty.
pub async fn sqs_drain(url: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let received = sqs(
            "ReceiveMessage",
            serde_json::json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0 }),
        )
        .await;
        let Some(messages) = received["Messages"].as_array().filter(|m| !m.is_empty()) else {
            return bodies;
        };
        for message in messages {
            bodies.push(message["Body"].as_str().unwrap_or_default().to_owned());
            sqs(
                "DeleteMessage",
                serde_json::json!({ "QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"] }),
            )
            .await;
        }
    }
}
