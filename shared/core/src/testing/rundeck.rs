//! A Rundeck executor that records every run and answers from a script.

use crate::Error;
use crate::Result;
use crate::plan::RundeckRequest;
use crate::ports::executor::{RundeckExecutor, StartedJob, rundeck_handle};
use async_trait::async_trait;
use std::sync::Mutex;

/// Records every job run; its executions are numbered from 1 like a fresh Rundeck server's.
#[derive(Default)]
pub struct RecordingRundeck {
    runs: Mutex<Vec<RundeckRequest>>,
    failures: Mutex<Vec<Error>>,
    /// The next run reaches "Rundeck" (it is recorded) but its answer is lost: this error comes back.
    lost_answer: Mutex<Option<Error>>,
    find_failure: Mutex<Option<Error>>,
}

impl RecordingRundeck {
    /// The next runs fail with these errors, in order, before runs succeed again.
    pub fn fail_next(&self, errors: Vec<Error>) {
        *self.failures.lock().unwrap_or_else(|p| p.into_inner()) =
            errors.into_iter().rev().collect();
    }

    /// The next run starts, but the caller sees this error (a timeout after Rundeck got it).
    pub fn lose_next_answer(&self, error: Error) {
        *self.lost_answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
    }

    /// The next search for an execution fails with this error.
    pub fn fail_next_find(&self, error: Error) {
        *self.find_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
    }

    /// Every run Rundeck received, in order.
    pub fn runs(&self) -> Vec<RundeckRequest> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn execution(index: usize) -> StartedJob {
    let id = index as u64 + 1;
    StartedJob {
        execution_id: rundeck_handle(id),
        permalink: Some(format!(
            "https://rundeck.example.com/project/ops/execution/show/{id}"
        )),
    }
}

#[async_trait]
impl RundeckExecutor for RecordingRundeck {
    async fn run_job(&self, request: &RundeckRequest) -> Result<StartedJob> {
        if let Some(error) = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
        {
            return Err(error);
        }
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.push(request.clone());
        if let Some(error) = self
            .lost_answer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        Ok(execution(runs.len() - 1))
    }

    async fn find_execution(&self, wanted: &RundeckRequest) -> Result<Option<StartedJob>> {
        if let Some(error) = self
            .find_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        // What the real executor compares: the job, and the run id option of its executions.
        Ok(runs
            .iter()
            .position(|run| run.job_id == wanted.job_id && run.run_id == wanted.run_id)
            .map(execution))
    }
}
