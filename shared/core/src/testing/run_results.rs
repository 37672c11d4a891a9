//! Executors' answers about runs, scripted.

use crate::finish::{ExecutorKind, RunResult};
use crate::ids::Handle;
use crate::ports::runs::RunResults;
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

/// Answers `run_result` with the result set for a handle; an unknown handle is the executor's
/// "no such run" (a permanent error).
#[derive(Default)]
pub struct ScriptedRunResults {
    results: Mutex<HashMap<(ExecutorKind, String), RunResult>>,
    /// The next call fails with this error.
    pub fail_next: Mutex<Option<Error>>,
    asked: Mutex<Vec<(ExecutorKind, String)>>,
}

impl ScriptedRunResults {
    pub fn set(&self, executor: ExecutorKind, handle: &str, result: RunResult) {
        self.results
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((executor, handle.to_owned()), result);
    }

    /// Every (executor, handle) asked about, in order.
    pub fn asked(&self) -> Vec<(ExecutorKind, String)> {
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl RunResults for ScriptedRunResults {
    async fn run_result(&self, executor: ExecutorKind, handle: &Handle) -> Result<RunResult> {
        self.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((executor, handle.to_string()));
        if let Some(error) = self
            .fail_next
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        self.results
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(executor, handle.to_string()))
            .cloned()
            .ok_or_else(|| Error::Aws {
                service: "ssm",
                operation: "run_result",
                message: format!("no run {handle}"),
                transient: false,
            })
    }
}
