//! The function built from its environment, once per container.

use crate::ReconcilerApp;
use remediate_adapters::aws::secrets::{DEFAULT_SECRET_TTL, ParameterStoreSecrets};
use remediate_adapters::config::Env;
use remediate_adapters::{aws, startup};
use remediate_core::Result;
use remediate_core::secrets::SecretStore;
use std::sync::Arc;

impl ReconcilerApp {
    /// Build the real app from the environment: called once per container, at cold start. A bad
    /// setting fails here, with the variable named.
    pub async fn from_env() -> Result<Self> {
        let env = Env(|name: &str| std::env::var(name).ok());
        let run = env.run_settings()?;
        let settings = env.reconcile_settings()?;
        let aws = aws::function_config(&env.aws_settings()?)?;
        let secrets: Arc<dyn SecretStore> = Arc::new(ParameterStoreSecrets::new(
            aws_sdk_ssm::Client::new(&aws),
            DEFAULT_SECRET_TTL,
        ));
        let mut finisher = startup::finisher(&env, &run, &aws, secrets).await?;
        // Only the reconciler reads alarms: a run's verification is due after its settle time.
        finisher.alarms = Some(Arc::new(
            remediate_adapters::cloudwatch::alarm_states::CloudWatchAlarmStates::new(&aws),
        ));
        Ok(Self { finisher, settings })
    }
}
