//! Everything that speaks to AWS: the shared SDK configuration (bounded time per call, so that
//! a slow AWS never makes a function miss the sender's response budget), error classes, the
//! ledger on DynamoDB, secrets and the kill switch in Parameter Store, catalog sources.

pub mod catalog_sources;
pub mod error;
pub mod kill_switch;
pub mod ledger;
pub mod results_topic;
pub mod sdk_http;
pub mod secrets;

pub use error::from_sdk;

use crate::config::AwsSettings;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use remediate_core::Result;
use std::time::Duration;

/// A connection to AWS is made in this long, or the attempt fails (and is retried).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt may take this long; all attempts of one call together, `OPERATION_TIMEOUT`.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);

/// The SDK configuration of a Lambda function: built from its environment alone
/// ([`AwsSettings`], which [`crate::config::Env::aws_settings`] has already checked: a missing
/// region or credential fails there), on the shared TLS set-up and HTTP client, with our time
/// bounds. Fails only for a bad `REMEDIATE_CA_FILE` (the shared TLS set-up), naming it.
///
/// Not `aws_config::load`: its default chain (profiles, web identity through STS, container
/// and instance metadata) is code a function never runs, and it was linked into every binary.
pub fn function_config(settings: &AwsSettings) -> Result<SdkConfig> {
    let http_client = crate::tls::SharedTls::process()?.sdk_http_client();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(settings.credentials.clone()))
        .http_client(http_client)
        .sleep_impl(TokioSleep::new())
        .time_source(SystemTimeSource::new())
        .timeout_config(timeouts())
        .retry_config(retries())
        .use_fips(settings.use_fips)
        .use_dual_stack(settings.use_dual_stack);
    if let Some(url) = &settings.endpoint_url {
        config = config.endpoint_url(url.clone());
    }
    Ok(config.build())
}

/// The CLI's SDK configuration: aws-config's whole chain (profiles, SSO, `credential_process`,
/// `AWS_ENDPOINT_URL*`), on the same HTTP client and time bounds as the functions'.
pub async fn load_config() -> Result<SdkConfig> {
    let http_client = crate::tls::SharedTls::process()?.sdk_http_client();
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await)
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}
