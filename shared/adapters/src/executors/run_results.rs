//! The executors' answers about runs, each from the executor that started the run: SSM for
//! commands and automations, Rundeck (when `RUNDECK_URL` is set) for its executions.

use super::SsmRunResults;
use async_trait::async_trait;
use remediate_core::finish::{ExecutorKind, RunResult};
use remediate_core::ports::runs::RunResults;
use remediate_core::{Error, Handle, Result};
use std::sync::Arc;

pub struct ExecutorResults {
    ssm: Arc<dyn RunResults>,
    rundeck: Option<Arc<dyn RunResults>>,
}

impl ExecutorResults {
    pub fn new(ssm: SsmRunResults, rundeck: Option<Arc<dyn RunResults>>) -> Self {
        Self::from_parts(Arc::new(ssm), rundeck)
    }

    /// Any two implementations (tests script them).
    pub fn from_parts(ssm: Arc<dyn RunResults>, rundeck: Option<Arc<dyn RunResults>>) -> Self {
        Self { ssm, rundeck }
    }
}

#[async_trait]
impl RunResults for ExecutorResults {
    async fn run_result(&self, executor: ExecutorKind, handle: &Handle) -> Result<RunResult> {
        match (executor, &self.rundeck) {
            (ExecutorKind::SsmCommand | ExecutorKind::SsmAutomation, _) => {
                self.ssm.run_result(executor, handle).await
            }
            (ExecutorKind::Rundeck, Some(rundeck)) => rundeck.run_result(executor, handle).await,
            // A deployment fault, not an answer about the run: the finisher leaves the run open
            // (a fixed configuration ends it) rather than record an unknown ending.
            (ExecutorKind::Rundeck, None) => Err(Error::config(
                "RUNDECK_URL",
                format!("is not set: Rundeck cannot be asked about {handle}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use remediate_core::error::Kind;
    use remediate_core::finish::FinalState;
    use remediate_core::testing::ScriptedRunResults;

    fn scripted(kind: ExecutorKind, handle: &str, status: &str) -> Arc<ScriptedRunResults> {
        let results = Arc::new(ScriptedRunResults::default());
        results.set(
            kind,
            handle,
            RunResult {
                state: Some(FinalState::Succeeded),
                executor_status: status.to_owned(),
                ..RunResult::default()
            },
        );
        results
    }

    #[tokio::test]
    async fn each_kind_is_asked_of_its_own_executor() {
        let ssm = scripted(ExecutorKind::SsmCommand, "c-1", "Success");
        let rundeck = scripted(ExecutorKind::Rundeck, "rundeck:7", "succeeded");
        let results = ExecutorResults::from_parts(ssm.clone(), Some(rundeck.clone()));

        let command = results
            .run_result(ExecutorKind::SsmCommand, &Handle::new("c-1"))
            .await
            .expect("answered");
        let execution = results
            .run_result(ExecutorKind::Rundeck, &Handle::new("rundeck:7"))
            .await
            .expect("answered");

        assert_eq!(command.executor_status, "Success");
        assert_eq!(execution.executor_status, "succeeded");
        assert_eq!(ssm.asked().len(), 1);
        assert_eq!(rundeck.asked().len(), 1);
    }

    #[tokio::test]
    async fn a_rundeck_run_without_rundeck_configured_is_a_deployment_fault() {
        let ssm = scripted(ExecutorKind::SsmCommand, "c-1", "Success");
        let results = ExecutorResults::from_parts(ssm.clone(), None);

        let error = results
            .run_result(ExecutorKind::Rundeck, &Handle::new("rundeck:7"))
            .await
            .expect_err("nobody to ask");

        assert_eq!(error.kind(), Kind::DeploymentFault, "{error}");
        assert!(ssm.asked().is_empty());
    }
}
