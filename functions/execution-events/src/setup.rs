//! The function built from its environment, once per container.

use crate::EventsApp;
use remediate_adapters::aws::secrets::{DEFAULT_SECRET_TTL, ParameterStoreSecrets};
use remediate_adapters::config::Env;
use remediate_adapters::{aws, startup};
use remediate_core::Result;
use remediate_core::secrets::SecretStore;
use std::sync::Arc;

impl EventsApp {
    /// Build the real app from the environment: called once per container, at cold start. A bad
    /// setting fails here, with the variable named.
    pub async fn from_env() -> Result<Self> {
        let env = Env(|name: &str| std::env::var(name).ok());
        let run = env.run_settings()?;
        let aws = aws::function_config(&env.aws_settings()?)?;
        let secrets: Arc<dyn SecretStore> = Arc::new(ParameterStoreSecrets::new(
            aws_sdk_ssm::Client::new(&aws),
            DEFAULT_SECRET_TTL,
        ));
        let finisher = startup::finisher(&env, &run, &aws, secrets).await?;
        Ok(Self { finisher })
    }
}
