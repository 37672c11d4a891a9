//! The function built from its environment, once per container: configuration, the catalog,
//! one client per AWS service, the adapters behind the pipeline's ports.

use crate::WebhookApp;
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::aws::secrets::{DEFAULT_SECRET_TTL, ParameterStoreSecrets};
use remediate_adapters::config::Env;
use remediate_adapters::executors::{SsmAutomationExecutor, SsmCommandExecutor};
use remediate_adapters::pagerduty::HttpPagerDuty;
use remediate_adapters::{aws, startup};
use remediate_core::Result;
use remediate_core::clock::{Clock, SystemClock};
use remediate_core::pipeline::Pipeline;
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
        if settings.run.global_dry_run.is_some() {
            tracing::warn!("REMEDIATE_DRY_RUN is on: every run is reported, none executed");
        }
        let aws = aws::load_config().await;
        let ssm = aws_sdk_ssm::Client::new(&aws);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let catalogs = startup::catalog_store(&env, &aws, clock.clone()).await?;
        let kill_switch = startup::kill_switch(&env, &ssm, clock.clone());
        let secrets: Arc<dyn SecretStore> =
            Arc::new(ParameterStoreSecrets::new(ssm.clone(), DEFAULT_SECRET_TTL));
        let pagerduty = HttpPagerDuty::new(
            &settings.run.api_url,
            settings.run.from_email.clone(),
            secrets.clone(),
            settings.run.api_token_parameter.clone(),
        )?;
        let ledger = Arc::new(DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(&aws),
            settings.run.ledger_table.clone(),
        ));
        Ok(Self {
            pipeline: Pipeline {
                settings: settings.pipeline(),
                catalogs: Arc::new(catalogs),
                kill_switch: Arc::new(kill_switch),
                pagerduty: Arc::new(pagerduty),
                executor: Arc::new(SsmCommandExecutor::new(ssm.clone())),
                automation: Arc::new(SsmAutomationExecutor::new(ssm)),
                ledger: ledger.clone(),
                guards: ledger,
                clock,
                results: startup::results_topic(&settings.run, &aws),
            },
            settings,
            secrets,
        })
    }
}
