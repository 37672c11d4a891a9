//! How a Rundeck execution ended, behind the core's [`RunResults`] port: `GET
//! /api/{v}/execution/{id}` ("Execution Info" in Rundeck's API reference), then, for an execution
//! that has ended, the first lines of its log (`GET /api/{v}/execution/{id}/output?format=json
//! &maxlines=N`, "Execution Output").
//!
//! The log is read because it is cheap: one bounded GET (at most [`OUTPUT_LINES`] lines, a few KB)
//! on the same connection, made only once per ending (the ledger records an ending once). It is
//! best effort: an execution whose log cannot be read still ends, without an excerpt.
//!
//! Rundeck's statuses ("Listing Running Executions"), as the ledger records them:
//!
//! | Rundeck | state | why |
//! |---|---|---|
//! | `running`, `scheduled`, `queued` | none: still running | |
//! | `succeeded` | succeeded | |
//! | `failed` | failed | |
//! | `failed-with-retry`, `retried` | failed | Rundeck retries a job as a *new* execution, with a new id the ledger does not know: the execution behind this run's handle has ended, and failed |
//! | `aborted` | cancelled | |
//! | `timedout` | timed out | |
//! | `missed` | failed | a scheduled run that never started |
//! | `other` (a `customStatus`), or a word not listed, once the execution has a `date-ended` | unknown | the job said something remediate cannot read as success or failure; the note quotes it |
//! | a word not listed, without a `date-ended` | none: still running | |
//!
//! Errors are classified as the executor's are (see [`super::rundeck`]): a GET changes nothing,
//! so every failure a retry may cure is transient; 404 (no such execution) and 401/403 are
//! permanent, which the finisher records as an unknown ending.

use super::rundeck::{ExecutionJob, HttpRundeck, run_id_of, send_error, status_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use remediate_core::finish::{ExecutorKind, FinalState, RunResult, TargetCounts, TargetResult};
use remediate_core::pipeline::NOTE_TARGETS;
use remediate_core::ports::executor::RUNDECK_HANDLE_PREFIX;
use remediate_core::ports::runs::RunResults;
use remediate_core::redact::EXCERPT_CHARS;
use remediate_core::{Error, Handle, Result, RunId};
use serde::Deserialize;
use serde_json::Value;

pub(super) const EXECUTION: &str = "ExecutionInfo";
const OUTPUT: &str = "ExecutionOutput";
/// How many lines of the log are read: the note quotes a few hundred characters of it.
pub const OUTPUT_LINES: u32 = 50;

/// The execution id in a Rundeck handle (`rundeck:<id>`).
pub fn execution_id(handle: &Handle) -> Option<u64> {
    handle
        .as_str()
        .strip_prefix(RUNDECK_HANDLE_PREFIX)
        .and_then(|id| id.parse().ok())
}

/// Rundeck's state words, as the ledger records them (see the table above).
pub fn rundeck_state(status: &str, ended: bool) -> Option<FinalState> {
    match status {
        "running" | "scheduled" | "queued" => None,
        "succeeded" => Some(FinalState::Succeeded),
        "failed" | "failed-with-retry" | "retried" | "missed" => Some(FinalState::Failed),
        "aborted" => Some(FinalState::Cancelled),
        "timedout" => Some(FinalState::TimedOut),
        _ if ended => Some(FinalState::Unknown),
        _ => None,
    }
}

/// "Execution Info", only what is read here; every field may be missing or of another type
/// without failing the read.
#[derive(Debug, Deserialize)]
struct ExecutionInfo {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default, rename = "customStatus")]
    custom_status: Option<Value>,
    #[serde(default, rename = "date-started")]
    date_started: Option<Value>,
    #[serde(default, rename = "date-ended")]
    date_ended: Option<Value>,
    #[serde(default)]
    argstring: Option<String>,
    #[serde(default)]
    job: Option<ExecutionJob>,
    #[serde(default, rename = "successfulNodes")]
    successful_nodes: Option<Value>,
    #[serde(default, rename = "failedNodes")]
    failed_nodes: Option<Value>,
}

/// `{"unixtime": <ms>, "date": "<W3C>"}`: the milliseconds first, the text if they are missing.
fn date(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let value = value?;
    value
        .get("unixtime")
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
        .or_else(|| {
            value
                .get("date")
                .and_then(Value::as_str)
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|at| at.with_timezone(&Utc))
        })
}

fn names(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|name| name.chars().take(255).collect())
                .collect()
        })
        .unwrap_or_default()
}

fn word(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(|text| text.trim().chars().take(64).collect::<String>())
        .filter(|text| !text.is_empty())
}

impl ExecutionInfo {
    fn result(&self) -> RunResult {
        let status = word(self.status.as_ref()).unwrap_or_else(|| "unknown".to_owned());
        let finished_at = date(self.date_ended.as_ref());
        let state = rundeck_state(&status, finished_at.is_some());
        let custom = word(self.custom_status.as_ref());
        let failed = names(self.failed_nodes.as_ref());
        let succeeded = names(self.successful_nodes.as_ref());
        let total = failed.len() + succeeded.len();
        // Failed nodes first: they are what people need to see.
        let targets = failed
            .iter()
            .map(|node| (node, "failed"))
            .chain(succeeded.iter().map(|node| (node, "succeeded")))
            .take(NOTE_TARGETS)
            .map(|(node, status)| TargetResult {
                target: node.clone(),
                status: status.to_owned(),
                ..TargetResult::default()
            })
            .collect();
        let failure = match status.as_str() {
            "failed-with-retry" | "retried" => Some(
                "Rundeck retries the job as a new execution; remediate reports this one".to_owned(),
            ),
            "missed" => Some("the scheduled execution never started".to_owned()),
            _ if state == Some(FinalState::Unknown) => Some(match &custom {
                Some(custom) => format!("the job ended with the custom status {custom:?}"),
                None => format!("Rundeck reports the status {status:?}"),
            }),
            _ => None,
        };
        RunResult {
            state,
            executor_status: custom.filter(|_| status == "other").unwrap_or(status),
            started_at: date(self.date_started.as_ref()),
            finished_at,
            run_id: run_id_of(self.job.as_ref(), self.argstring.as_deref()).map(RunId::from),
            counts: (total > 0).then(|| TargetCounts {
                total: u32::try_from(total).unwrap_or(u32::MAX),
                succeeded: u32::try_from(succeeded.len()).unwrap_or(u32::MAX),
            }),
            targets,
            outputs: None,
            failure,
        }
    }
}

/// "Execution Output": only the log lines are read.
#[derive(Debug, Deserialize)]
struct ExecutionOutput {
    #[serde(default)]
    entries: Vec<Value>,
}

impl ExecutionOutput {
    /// The log lines, each prefixed with its node when it has one, cut to what a note quotes.
    fn text(&self) -> Option<String> {
        let mut text = String::new();
        for entry in &self.entries {
            let Some(line) = entry.get("log").and_then(Value::as_str) else {
                continue;
            };
            match entry.get("node").and_then(Value::as_str) {
                Some(node) if !node.is_empty() => text.push_str(&format!("[{node}] {line}\n")),
                _ => text.push_str(&format!("{line}\n")),
            }
            // The finish cuts to EXCERPT_CHARS after redacting: keep a little more than that.
            if text.len() > EXCERPT_CHARS * 4 {
                break;
            }
        }
        (!text.trim().is_empty()).then(|| text.trim_end().to_owned())
    }
}

impl HttpRundeck {
    fn execution_url(&self, id: u64, suffix: &str) -> String {
        format!(
            "{}/api/{}/execution/{id}{suffix}",
            self.base_url, self.api_version
        )
    }

    async fn execution_info(&self, id: u64) -> Result<RunResult> {
        let url = self.execution_url(id, "");
        let response = self
            .request(reqwest::Method::GET, &url)
            .await?
            .send()
            .await
            .map_err(|error| send_error(EXECUTION, &error.without_url()))?;
        if !response.status().is_success() {
            return Err(status_error(EXECUTION, response).await);
        }
        let info: ExecutionInfo = response.json().await.map_err(|error| Error::Rundeck {
            operation: EXECUTION,
            status: None,
            error_code: None,
            message: format!("the execution could not be read: {}", error.without_url()),
            transient: true,
        })?;
        Ok(info.result())
    }

    /// The first lines of the execution's log, or nothing when they cannot be read.
    async fn output_start(&self, id: u64) -> Option<String> {
        let url = self.execution_url(id, "/output");
        let answer = async {
            let response = self
                .request(reqwest::Method::GET, &url)
                .await?
                .query(&[("format", "json")])
                .query(&[("maxlines", OUTPUT_LINES)])
                .send()
                .await
                .map_err(|error| send_error(OUTPUT, &error.without_url()))?;
            if !response.status().is_success() {
                return Err(status_error(OUTPUT, response).await);
            }
            response
                .json::<ExecutionOutput>()
                .await
                .map_err(|error| Error::Rundeck {
                    operation: OUTPUT,
                    status: None,
                    error_code: None,
                    message: format!("the output could not be read: {}", error.without_url()),
                    transient: true,
                })
        };
        match answer.await {
            Ok(output) => output.text(),
            Err(error) => {
                tracing::warn!(%error, execution_id = id, "no output excerpt");
                None
            }
        }
    }
}

#[async_trait]
impl RunResults for HttpRundeck {
    async fn run_result(&self, executor: ExecutorKind, handle: &Handle) -> Result<RunResult> {
        let id = match (executor, execution_id(handle)) {
            (ExecutorKind::Rundeck, Some(id)) => id,
            _ => {
                return Err(Error::Rundeck {
                    operation: EXECUTION,
                    status: None,
                    error_code: None,
                    message: format!("{handle} is not a Rundeck execution handle"),
                    transient: false,
                });
            }
        };
        let mut result = self.execution_info(id).await?;
        if result.state.is_some() {
            result.outputs = self.output_start(id).await;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(json: Value) -> RunResult {
        serde_json::from_value::<ExecutionInfo>(json)
            .expect("reads")
            .result()
    }

    #[test]
    fn every_status_has_its_state() {
        for (status, ended, state) in [
            ("running", false, None),
            ("scheduled", false, None),
            ("succeeded", true, Some(FinalState::Succeeded)),
            ("failed", true, Some(FinalState::Failed)),
            ("failed-with-retry", true, Some(FinalState::Failed)),
            ("aborted", true, Some(FinalState::Cancelled)),
            ("timedout", true, Some(FinalState::TimedOut)),
            ("other", true, Some(FinalState::Unknown)),
            ("other", false, None),
            ("something-new", true, Some(FinalState::Unknown)),
        ] {
            assert_eq!(rundeck_state(status, ended), state, "{status} {ended}");
        }
    }

    #[test]
    fn nodes_times_and_the_run_id_are_read_from_the_execution() {
        let result = read(json!({
            "id": 390, "status": "failed",
            "date-started": { "unixtime": 1_431_536_339_809_u64, "date": "2015-05-13T16:58:59Z" },
            "date-ended": { "date": "2015-05-13T16:59:06Z" },
            "job": { "options": { "remediate_run_id": "run-7" } },
            "successfulNodes": ["web-1", "web-2"], "failedNodes": ["web-3", 7],
        }));
        assert_eq!(result.state, Some(FinalState::Failed));
        assert_eq!(result.run_id.as_deref(), Some("run-7"));
        assert_eq!(
            result.counts,
            Some(TargetCounts {
                total: 3,
                succeeded: 2
            })
        );
        let targets: Vec<(&str, &str)> = result
            .targets
            .iter()
            .map(|target| (target.target.as_str(), target.status.as_str()))
            .collect();
        assert_eq!(
            targets,
            [
                ("web-3", "failed"),
                ("web-1", "succeeded"),
                ("web-2", "succeeded")
            ]
        );
        assert!(result.targets[1].succeeded());
        assert_eq!(
            result.started_at.map(|at| at.timestamp_millis()),
            Some(1_431_536_339_809)
        );
        assert_eq!(
            result.finished_at.map(|at| at.timestamp()),
            Some(1_431_536_346)
        );
    }

    #[test]
    fn a_custom_status_is_an_unknown_ending_that_names_it() {
        let result = read(json!({
            "status": "other", "customStatus": "warning",
            "date-ended": { "unixtime": 1_431_536_346_423_u64 },
            "argstring": "-remediate_run_id run-9",
        }));
        assert_eq!(result.state, Some(FinalState::Unknown));
        assert_eq!(result.executor_status, "warning");
        assert_eq!(result.run_id.as_deref(), Some("run-9"));
        assert!(result.failure.unwrap_or_default().contains("\"warning\""));
        assert_eq!(result.counts, None);
    }

    #[test]
    fn hostile_fields_are_read_as_missing() {
        let result = read(json!({
            "status": 7, "date-started": "yesterday", "date-ended": { "unixtime": i64::MAX },
            "job": { "options": { "remediate_run_id": "'; rm -rf /" } },
            "successfulNodes": "web-1",
        }));
        assert_eq!(result.state, None);
        assert_eq!(result.run_id, None);
        assert_eq!(result.started_at, None);
        assert!(result.targets.is_empty());
    }

    #[test]
    fn the_log_is_read_with_its_nodes() {
        let output: ExecutionOutput = serde_json::from_value(json!({
            "id": 1, "entries": [
                { "log": "restarting nginx", "node": "web-1" },
                "compacted",
                { "log": "done" },
            ]
        }))
        .expect("reads");
        assert_eq!(
            output.text().as_deref(),
            Some("[web-1] restarting nginx\ndone")
        );
    }

    #[test]
    fn only_rundeck_handles_name_an_execution() {
        assert_eq!(execution_id(&Handle::new("rundeck:390")), Some(390));
        assert_eq!(execution_id(&Handle::new("rundeck:x")), None);
        assert_eq!(execution_id(&Handle::new("390")), None);
    }
}
