//! Everything that speaks to AWS: the shared SDK configuration (bounded time per call, so that
//! a slow AWS never makes a function miss the sender's response budget), error classes, the
//! ledger on DynamoDB, secrets and the kill switch in Parameter Store, catalog sources.

pub mod catalog_sources;
pub mod error;
pub mod kill_switch;
pub mod ledger;
pub mod results_topic;
pub mod secrets;

pub use error::from_sdk;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use std::time::Duration;

/// One attempt may take this long; all attempts of one call together, `OPERATION_TIMEOUT`.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);

/// The standard chain (environment, `AWS_ENDPOINT_URL*`, the Lambda role) with our time bounds,
/// on the shared TLS set-up ([`crate::tls`]). Fails only for a bad `REMEDIATE_CA_FILE`.
pub async fn load_config() -> remediate_core::Result<aws_config::SdkConfig> {
    let http_client = crate::tls::SharedTls::process()?.sdk_http_client()?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await)
}
