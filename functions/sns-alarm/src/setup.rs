//! The function built from its environment, once per container: configuration, the catalog,
//! the certificate source, one client per AWS service, the adapters behind the pipeline's ports.

use crate::{AlarmApp, Authentication};
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::aws::secrets::{DEFAULT_SECRET_TTL, ParameterStoreSecrets};
use remediate_adapters::config::Env;
use remediate_adapters::executors::{SsmAutomationExecutor, SsmCommandExecutor};
use remediate_adapters::pagerduty::HttpPagerDuty;
use remediate_adapters::{aws, startup};
use remediate_core::clock::{Clock, SystemClock};
use remediate_core::pipeline::Pipeline;
use remediate_core::secrets::SecretStore;
use remediate_core::{Error, Result};
use remediate_sns_signature::{
    CertificateSource, DirectoryCertificates, HttpsCertificates, Verifier,
};
use std::sync::Arc;

impl AlarmApp {
    /// Build the real app from the environment: called once per container, at cold start. A bad
    /// setting fails here, with the variable named.
    pub async fn from_env() -> Result<Self> {
        let env = Env(|name: &str| std::env::var(name).ok());
        let settings = env.alarm_settings()?;
        let authentication = if settings.verify_signatures {
            let source: Box<dyn CertificateSource> = match DirectoryCertificates::from_env() {
                Some(directory) => {
                    tracing::info!(dir = %directory.dir().display(), "SNS certificates are read from SNS_CERTIFICATES_DIR");
                    Box::new(directory)
                }
                None => Box::new(HttpsCertificates::new().map_err(|error| {
                    Error::config("SNS_CERTIFICATES_DIR", format!("HTTPS client: {error}"))
                })?),
            };
            Authentication::Verify(Verifier::new(source))
        } else {
            Authentication::Unverified
        };
        // Every cold start, so that nobody forgets it is off.
        if !settings.verify_signatures {
            tracing::warn!(
                "SNS_VERIFY_SIGNATURES is false: SNS signatures are not verified; anyone who can invoke this function can make it run runbooks"
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
            secrets,
            settings.run.api_token_parameter.clone(),
        )?;
        let ledger = Arc::new(DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(&aws),
            settings.run.ledger_table.clone(),
        ));
        Ok(Self {
            pipeline: Pipeline {
                // Alarms have no taps to confirm and no PagerDuty actor.
                settings: settings.run.pipeline(false, None),
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
            authentication,
            settings,
        })
    }
}
