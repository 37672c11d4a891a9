//! The function built from its environment, once per container: configuration, then the
//! pipeline every function builds the same way (`startup::pipeline`).

use crate::WebhookApp;
use remediate_adapters::aws::secrets::{DEFAULT_SECRET_TTL, ParameterStoreSecrets};
use remediate_adapters::config::Env;
use remediate_adapters::{aws, startup};
use remediate_core::Result;
use remediate_core::secrets::SecretStore;
use std::sync::Arc;

impl WebhookApp {
    /// Build the real app from the environment: called once per container, at cold start. A bad
    /// setting fails here, with the variable named.
    pub async fn from_env() -> Result<Self> {
        let env = Env(|name: &str| std::env::var(name).ok());
        let settings = env.webhook_settings()?;
        if !settings.confirm_taps {
            tracing::warn!(
                "PAGERDUTY_CONFIRM_TAPS is false: taps are acted on without finding them in PagerDuty's log; the person is whoever the unsigned body names. For local runs against emulators only"
            );
        }
        let aws = aws::function_config(&env.aws_settings()?)?;
        // One store for the webhook's own secrets and PagerDuty's API token: one cache, one
        // refresh policy.
        let secrets: Arc<dyn SecretStore> = Arc::new(ParameterStoreSecrets::new(
            aws_sdk_ssm::Client::new(&aws),
            DEFAULT_SECRET_TTL,
        ));
        let pipeline = startup::pipeline(
            &env,
            &settings.run,
            settings.pipeline(),
            &aws,
            secrets.clone(),
        )
        .await?;
        Ok(Self {
            pipeline,
            settings,
            secrets,
        })
    }
}
