//! What every function builds at cold start from its environment, the same way: the catalog
//! store (built in, a file, or a refreshed remote source) and the kill switch.

use crate::aws::catalog_sources::{ParameterCatalog, S3Catalog};
use crate::aws::kill_switch::parameter_switch;
use crate::aws::ledger::DynamoLedger;
use crate::config::{CatalogSource, Env, RunSettings};
use crate::executors::{
    ExecutorResults, HttpRundeck, SsmAutomationExecutor, SsmCommandExecutor, SsmRunResults,
};
use crate::pagerduty::HttpPagerDuty;
use remediate_core::Result;
use remediate_core::catalog_store::{CatalogFetcher, CatalogStore, DEFAULT_REFRESH};
use remediate_core::clock::Clock;
use remediate_core::clock::SystemClock;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::pipeline::{Finisher, Pipeline, PipelineSettings};
use remediate_core::ports::executor::RundeckExecutor;
use remediate_core::ports::runs::RunResults;
use remediate_core::secrets::SecretStore;
use std::sync::Arc;
use std::time::Duration;

/// The catalog store the environment names; a remote catalog is read now, and an unreadable or
/// invalid one fails the cold start.
pub async fn catalog_store<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    aws: &aws_config::SdkConfig,
    clock: Arc<dyn Clock>,
) -> Result<CatalogStore> {
    let remote = |fetcher: Box<dyn CatalogFetcher>, refresh: Duration| {
        let refresh = chrono::Duration::from_std(refresh).unwrap_or(DEFAULT_REFRESH);
        CatalogStore::remote(fetcher, refresh, clock.clone())
    };
    let store = match env.catalog_source()? {
        CatalogSource::BuiltIn | CatalogSource::File(_) => {
            CatalogStore::fixed(env.catalog()?, clock.clone())
        }
        CatalogSource::Parameter { name, refresh } => {
            let fetcher = ParameterCatalog {
                client: aws_sdk_ssm::Client::new(aws),
                name,
            };
            remote(Box::new(fetcher), refresh).await?
        }
        CatalogSource::S3 {
            uri,
            refresh,
            expected_owner,
        } => {
            let (bucket, key) = S3Catalog::parse_uri(&uri)?;
            let fetcher = S3Catalog::new(aws_sdk_s3::Client::new(aws), bucket, key, expected_owner);
            remote(Box::new(fetcher), refresh).await?
        }
    };
    let catalog = store.current().await;
    tracing::info!(
        catalog = catalog.source_name,
        version = catalog.version,
        runbooks = catalog.runbooks.len(),
        "catalog loaded"
    );
    Ok(store)
}

/// The kill switch the environment names (`REMEDIATE_KILL_SWITCH_PARAMETER`), or none.
pub fn kill_switch<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    ssm: &aws_sdk_ssm::Client,
    clock: Arc<dyn Clock>,
) -> KillSwitch {
    match env.kill_switch_parameter() {
        Some(parameter) => parameter_switch(ssm.clone(), parameter, clock),
        None => KillSwitch::absent(clock),
    }
}

/// The pipeline every function runs, built the same way from its environment: the catalog store,
/// the kill switch, PagerDuty (its API token read through `secrets`), both SSM executors, Rundeck
/// (when `RUNDECK_URL` is set; its token read through `secrets` too), the ledger (also the guard
/// store) and the results topic. `settings` are the pipeline's own, which
/// each function derives from `run` with what only it knows (tap confirmation, the bot user).
pub async fn pipeline<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    run: &RunSettings,
    settings: PipelineSettings,
    aws: &aws_config::SdkConfig,
    secrets: Arc<dyn SecretStore>,
) -> Result<Pipeline> {
    if run.global_dry_run.is_some() {
        tracing::warn!("REMEDIATE_DRY_RUN is on: every run is reported, none executed");
    }
    let ssm = aws_sdk_ssm::Client::new(aws);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let catalogs = catalog_store(env, aws, clock.clone()).await?;
    let kill_switch = kill_switch(env, &ssm, clock.clone());
    let rundeck = match &run.rundeck {
        Some(settings) => {
            tracing::info!(
                url = settings.url,
                api_version = settings.api_version,
                "Rundeck runbooks run on this server"
            );
            let rundeck: Arc<dyn RundeckExecutor> =
                Arc::new(HttpRundeck::new(settings, secrets.clone())?);
            Some(rundeck)
        }
        None => None,
    };
    let pagerduty = HttpPagerDuty::new(
        &run.api_url,
        run.from_email.clone(),
        secrets,
        run.api_token_parameter.clone(),
    )?;
    let ledger = Arc::new(DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(aws),
        run.ledger_table.clone(),
    ));
    Ok(Pipeline {
        settings,
        catalogs: Arc::new(catalogs),
        kill_switch: Arc::new(kill_switch),
        pagerduty: Arc::new(pagerduty),
        executor: Arc::new(SsmCommandExecutor::new(ssm.clone())),
        automation: Arc::new(SsmAutomationExecutor::new(ssm)),
        rundeck,
        ledger: ledger.clone(),
        guards: ledger,
        clock,
        results: results_topic(run, aws),
    })
}

/// The results topic publisher, when `RESULTS_TOPIC_ARN` is set.
pub fn results_topic(
    settings: &RunSettings,
    aws: &aws_config::SdkConfig,
) -> Option<Arc<dyn remediate_core::ports::ResultsPublisher>> {
    let arn = settings.results_topic_arn.as_ref()?;
    tracing::info!(topic = arn, "outcomes are published to the results topic");
    Some(Arc::new(crate::aws::results_topic::SnsResults::new(
        aws_sdk_sns::Client::new(aws),
        arn.clone(),
    )))
}

/// What the functions that receive run endings build: the catalog (for each runbook's report
/// options and secret parameters), PagerDuty, the executors' answers about runs (SSM's, and
/// Rundeck's when `RUNDECK_URL` is set, its token read through `secrets`), the ledger and the
/// results topic.
pub async fn finisher<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    run: &RunSettings,
    aws: &aws_config::SdkConfig,
    secrets: Arc<dyn SecretStore>,
) -> Result<Finisher> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let catalogs = catalog_store(env, aws, clock.clone()).await?;
    let rundeck = match &run.rundeck {
        Some(settings) => {
            let rundeck: Arc<dyn RunResults> =
                Arc::new(HttpRundeck::new(settings, secrets.clone())?);
            Some(rundeck)
        }
        None => None,
    };
    let pagerduty = HttpPagerDuty::new(
        &run.api_url,
        run.from_email.clone(),
        secrets,
        run.api_token_parameter.clone(),
    )?;
    Ok(Finisher {
        region: run.region.clone(),
        catalogs: Arc::new(catalogs),
        pagerduty: Arc::new(pagerduty),
        executors: Arc::new(ExecutorResults::new(
            SsmRunResults::new(aws_sdk_ssm::Client::new(aws)),
            rundeck,
        )),
        runs: Arc::new(DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(aws),
            run.ledger_table.clone(),
        )),
        clock,
        results: results_topic(run, aws),

        alarms: None,
    })
}
