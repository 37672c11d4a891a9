//! Remote catalogs and the kill switch, on moto: Parameter Store and S3, refreshed on a TTL,
//! keeping the last good catalog when a refresh is bad.

use crate::support::*;
use chrono::{Duration, Utc};
use remediate_adapters::aws::catalog_sources::{ParameterCatalog, S3Catalog};
use remediate_adapters::aws::kill_switch::parameter_switch;
use remediate_core::catalog_store::CatalogStore;
use remediate_core::testing::ManualClock;
use std::sync::{Arc, Mutex};

/// The account moto's resources belong to unless told otherwise.
const MOTO_ACCOUNT: &str = "123456789012";

fn catalog_text(runbook: &str) -> String {
    format!(
        "version: 1\ncustom_actions:\n  go: {{ label: Go }}\nrunbooks:\n  - name: {runbook}\n    when: {{ actions: [go] }}\n    action:\n      ssm_command: {{ document: AWS-RunShellScript, targets: {{ tags: {{ Role: web }} }} }}\n"
    )
}

#[tokio::test]
async fn a_parameter_catalog_refreshes_and_survives_a_bad_edit() {
    let aws = moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let name = unique("/remediate-test/runbooks");
    let put = |value: String| {
        let ssm = ssm.clone();
        let name = name.clone();
        async move {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
    };
    put(catalog_text("first")).await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let fetcher = ParameterCatalog {
        client: ssm.clone(),
        name: name.clone(),
    };
    let store = CatalogStore::remote(Box::new(fetcher), Duration::seconds(60), clock.clone())
        .await
        .unwrap();
    assert_eq!(store.current().await.runbooks[0].name, "first");

    put(catalog_text("second")).await;
    assert_eq!(
        store.current().await.runbooks[0].name,
        "first",
        "within the TTL"
    );
    clock.advance(Duration::seconds(61));
    assert_eq!(store.current().await.runbooks[0].name, "second");

    put("version: 1\nrunbooks: [{ name: Not Valid }]\n".to_owned()).await;
    clock.advance(Duration::seconds(61));
    assert_eq!(
        store.current().await.runbooks[0].name,
        "second",
        "a bad edit keeps the last good catalog"
    );
}

#[tokio::test]
async fn an_s3_catalog_loads_and_refreshes() {
    let aws = moto_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .build(),
    );
    let bucket = unique("remediate-catalog");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let put = |text: String| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move {
            s3.put_object()
                .bucket(bucket)
                .key("catalog/runbooks.yaml")
                .body(text.into_bytes().into())
                .send()
                .await
                .unwrap();
        }
    };
    put(catalog_text("from-s3")).await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let fetcher = S3Catalog::new(
        s3.clone(),
        bucket.clone(),
        "catalog/runbooks.yaml".into(),
        MOTO_ACCOUNT.into(),
    );
    let store = CatalogStore::remote(Box::new(fetcher), Duration::seconds(60), clock.clone())
        .await
        .unwrap();
    let first = store.current().await;
    assert_eq!(first.runbooks[0].name, "from-s3");
    assert_eq!(
        first.source_name,
        format!("s3://{bucket}/catalog/runbooks.yaml")
    );
    put(catalog_text("updated")).await;
    clock.advance(Duration::seconds(61));
    assert_eq!(store.current().await.runbooks[0].name, "updated");
}

/// moto 5.2.5 ignores ExpectedBucketOwner on GetObject (its S3 backend never reads the header),
/// so a wrong owner cannot be shown refused here; what the function controls is that every read,
/// at cold start and at each refresh, asks S3 to check the owner. S3 answers 403 to a mismatch.
#[tokio::test]
async fn every_s3_catalog_read_asks_s3_to_check_the_buckets_owner() {
    let aws = moto_config().await;
    let seen = Exchanges::default();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .interceptor(seen.clone())
            .build(),
    );
    let bucket = unique("remediate-owned-catalog");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("runbooks.yaml")
        .body(catalog_text("owned").into_bytes().into())
        .send()
        .await
        .unwrap();
    seen.0.lock().unwrap().clear();

    let clock = Arc::new(ManualClock::new(Utc::now()));
    let fetcher = S3Catalog::new(
        s3.clone(),
        bucket.clone(),
        "runbooks.yaml".into(),
        MOTO_ACCOUNT.into(),
    );
    let store = CatalogStore::remote(Box::new(fetcher), Duration::seconds(60), clock.clone())
        .await
        .unwrap();
    assert_eq!(store.current().await.runbooks[0].name, "owned");
    clock.advance(Duration::seconds(61));
    store.current().await;
    let owners: Vec<Option<String>> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|exchange| exchange.expected_owner.clone())
        .collect();
    assert_eq!(
        owners,
        vec![Some(MOTO_ACCOUNT.to_owned()), Some(MOTO_ACCOUNT.to_owned())],
        "the cold-start read and the refresh each carry the expected owner"
    );
}

/// One exchange: the request's `x-amz-expected-bucket-owner` and `range` headers, the answer's
/// status and `content-length`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Exchange {
    expected_owner: Option<String>,
    range: Option<String>,
    status: u16,
    length: Option<String>,
}

/// Records every exchange of the client.
#[derive(Debug, Clone, Default)]
struct Exchanges(Arc<Mutex<Vec<Exchange>>>);

impl aws_sdk_s3::config::Intercept for Exchanges {
    fn name(&self) -> &'static str {
        "Exchanges"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_s3::config::RuntimeComponents,
        _config: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let headers = context.request().headers();
        self.0.lock().unwrap().push(Exchange {
            expected_owner: headers
                .get("x-amz-expected-bucket-owner")
                .map(str::to_owned),
            range: headers.get("range").map(str::to_owned),
            ..Exchange::default()
        });
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_s3::config::RuntimeComponents,
        _config: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let response = context.response();
        if let Some(last) = self.0.lock().unwrap().last_mut() {
            last.status = response.status().as_u16();
            last.length = response.headers().get("content-length").map(str::to_owned);
        }
        Ok(())
    }
}

/// A catalog over the 5 MB limit, larger even than what the SDK's HTTP client reads at all
/// (8 MiB): moto answers the catalog read's `Range` with the first 5 MB and one byte, and that
/// byte is the clear error (not an unreadable answer).
#[tokio::test]
async fn an_s3_catalog_over_the_limit_is_refused_from_its_first_bytes() {
    let aws = moto_config().await;
    let exchanges = Exchanges::default();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .interceptor(exchanges.clone())
            .build(),
    );
    let bucket = unique("remediate-large-catalog");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut text = catalog_text("large").into_bytes();
    text.resize(9 * 1024 * 1024, b'#');
    for (key, body) in [("large.yaml", text), ("empty.yaml", Vec::new())] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    exchanges.0.lock().unwrap().clear();

    let read = |key: &str| {
        let fetcher = S3Catalog::new(s3.clone(), bucket.clone(), key.into(), MOTO_ACCOUNT.into());
        CatalogStore::remote(
            Box::new(fetcher),
            Duration::seconds(60),
            Arc::new(ManualClock::new(Utc::now())),
        )
    };
    let Err(error) = read("large.yaml").await else {
        panic!("a 9 MiB catalog was loaded");
    };
    let message = error.to_string();
    assert!(
        message.contains("RUNBOOKS_S3_URI") && message.contains("larger than 5 MB"),
        "{message}"
    );
    let limit = remediate_adapters::aws::catalog_sources::MAX_S3_CATALOG_BYTES;
    assert_eq!(
        *exchanges.0.lock().unwrap(),
        vec![Exchange {
            expected_owner: Some(MOTO_ACCOUNT.to_owned()),
            range: Some(format!("bytes=0-{limit}")),
            status: 206,
            length: Some((limit + 1).to_string()),
        }],
        "one read, of the first 5 MB and one byte"
    );

    let Err(error) = read("empty.yaml").await else {
        panic!("an empty catalog was loaded");
    };
    let message = error.to_string();
    assert!(message.contains("the catalog object is empty"), "{message}");
}

#[tokio::test]
async fn a_missing_s3_catalog_fails_the_cold_start() {
    let aws = moto_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .build(),
    );
    let fetcher = S3Catalog::new(
        s3,
        unique("no-such-bucket"),
        "runbooks.yaml".into(),
        MOTO_ACCOUNT.into(),
    );
    let result = CatalogStore::remote(
        Box::new(fetcher),
        Duration::seconds(60),
        Arc::new(ManualClock::new(Utc::now())),
    )
    .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn the_kill_switch_reads_on_and_fails_closed() {
    let aws = moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let name = unique("/remediate-test/kill-switch");
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let switch = parameter_switch(ssm.clone(), name.clone(), clock.clone());
    let reason = switch
        .reason()
        .await
        .expect("an unreadable switch makes runs dry");
    assert!(reason.contains("cannot be read"), "{reason}");

    ssm.put_parameter()
        .name(&name)
        .value("off")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let switch = parameter_switch(ssm.clone(), name.clone(), clock.clone());
    assert_eq!(switch.reason().await, None);
    ssm.put_parameter()
        .name(&name)
        .value("ON")
        .overwrite(true)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    assert_eq!(switch.reason().await, None, "cached within its TTL");
    clock.advance(Duration::seconds(31));
    assert!(switch.reason().await.unwrap().contains("is on"));
}

#[tokio::test]
async fn any_value_but_off_stops_runs_and_a_deleted_switch_stops_them_at_once() {
    let aws = moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let name = unique("/remediate-test/kill-switch");
    let put = |value: &'static str| {
        let ssm = ssm.clone();
        let name = name.clone();
        async move {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .overwrite(true)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .send()
                .await
                .unwrap();
        }
    };
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let switch = parameter_switch(ssm.clone(), name.clone(), clock.clone());
    put(" Off ").await;
    assert_eq!(switch.reason().await, None, "off, trimmed, any case");
    for value in ["true", "1", "yes", "enabled", "of", "off!"] {
        put(value).await;
        clock.advance(Duration::seconds(31));
        assert!(
            switch
                .reason()
                .await
                .is_some_and(|why| why.contains("is on")),
            "{value:?} must stop runs"
        );
    }
    put("off").await;
    clock.advance(Duration::seconds(31));
    assert_eq!(switch.reason().await, None);

    // Deleted: runs stop at the next read, with no grace for the last value.
    ssm.delete_parameter().name(&name).send().await.unwrap();
    clock.advance(Duration::seconds(31));
    let why = switch.reason().await.expect("a deleted switch stops runs");
    assert!(why.contains("cannot be read"), "{why}");
    // And they stay stopped until the parameter reads off again.
    clock.advance(Duration::seconds(6));
    assert!(switch.reason().await.is_some());
    put("off").await;
    clock.advance(Duration::seconds(6));
    assert_eq!(switch.reason().await, None);
}
