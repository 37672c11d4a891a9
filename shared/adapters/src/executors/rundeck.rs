//! The Rundeck executor, behind the core's [`RundeckExecutor`] port: `POST /api/{v}/job/{id}/run`
//! with the runbook's options and the run id option, and `GET /api/{v}/job/{id}/executions` to
//! find a run's execution again. Written from Rundeck's API reference (docs.rundeck.com,
//! "Running a Job", "Getting Executions for a Job", "Error Responses"): Rundeck publishes no
//! spec its answers are checked against.
//!
//! How an answer is classified (the pipeline acts on the kind alone):
//!
//! | Rundeck's answer | kind | what the pipeline does |
//! |---|---|---|
//! | 2xx with an execution | - | started; note with the permalink |
//! | 2xx that does not parse | ambiguous | look for the execution; else hold the claim |
//! | 400 (`api.error.job.options-invalid`, ...) | permanent | refused, noted, cooldown given back |
//! | 401, 403 (`unauthorized`, `api.error.item.unauthorized`) | permanent | refused, noted |
//! | 404 (`api.error.item.doesnotexist`) | permanent | refused, noted |
//! | 409 (`api.error.execution.conflict`) | permanent | refused: already running, no concurrency |
//! | 429, 5xx but 504 | transient | claim given back; the sender retries |
//! | connection not made | transient | claim given back; the sender retries |
//! | timeout or broken connection after sending, 504 | ambiguous | look; else hold the claim |
//!
//! A search (a GET) changes nothing, so every failure of one that a retry may cure is transient.
//! The token is read through the secret store on each call (cached there), sent in
//! `X-Rundeck-Auth-Token`, and never logged: errors carry neither it nor a URL with it.

use crate::config::RundeckSettings;
use async_trait::async_trait;
use remediate_core::plan::{RUNDECK_RUN_ID_OPTION, RundeckRequest};
use remediate_core::ports::executor::{RundeckExecutor, StartedJob, rundeck_handle};
use remediate_core::secrets::SecretStore;
use remediate_core::{Error, Result};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

const RUN: &str = "RunJob";
const LIST: &str = "ListJobExecutions";
/// Rundeck answers a run once the execution exists, well within a second; a slower answer is
/// cut here so that the function still answers within PagerDuty's budget.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4);
/// How many of the job's most recent executions a search reads: a takeover comes minutes after
/// the run it looks for, and few jobs run fifty times in that while.
pub const SEARCH_DEPTH: u32 = 50;
/// Rundeck's message is quoted into notes: at most this much of it.
const MAX_MESSAGE_CHARS: usize = 300;
const MAX_PERMALINK_CHARS: usize = 2048;

pub struct HttpRundeck {
    http: reqwest::Client,
    /// `RUNDECK_URL` without a trailing slash.
    pub(super) base_url: String,
    pub(super) api_version: u32,
    secrets: Arc<dyn SecretStore>,
    token_parameter: String,
    timeout: Duration,
}

impl HttpRundeck {
    /// The client is built once per container; the token is read from the secret store.
    pub fn new(settings: &RundeckSettings, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let http = crate::tls::SharedTls::process()?
            .reqwest_builder()
            .user_agent(concat!("remediate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(2))
            // A redirect would re-send the token to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::config("RUNDECK_URL", format!("HTTP client: {error}")))?;
        Ok(Self {
            http,
            base_url: settings.url.trim_end_matches('/').to_owned(),
            api_version: settings.api_version,
            secrets,
            token_parameter: settings.token_parameter.clone(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with another per-call timeout (tests use a short one).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn job_url(&self, job_id: &str, suffix: &str) -> String {
        // The catalog allows only hex digits and dashes in a job id: nothing to escape.
        format!(
            "{}/api/{}/job/{job_id}/{suffix}",
            self.base_url, self.api_version
        )
    }

    pub(super) async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder> {
        let token = self.secrets.get(&self.token_parameter).await?;
        Ok(self
            .http
            .request(method, url)
            .timeout(self.timeout)
            .header("X-Rundeck-Auth-Token", token.expose())
            .header("Accept", "application/json"))
    }
}

/// The body of a run: the options map needs API v18 (the configuration makes sure of it).
pub fn run_body(request: &RundeckRequest) -> Value {
    let mut body = Map::new();
    body.insert(
        "options".to_owned(),
        Value::Object(
            request
                .options_with_run_id()
                .into_iter()
                .map(|(name, value)| (name, Value::String(value)))
                .collect(),
        ),
    );
    if let Some(level) = request.loglevel {
        body.insert("loglevel".to_owned(), level.as_str().into());
    }
    if let Some(filter) = &request.filter {
        body.insert("filter".to_owned(), filter.as_str().into());
    }
    if let Some(user) = &request.as_user {
        body.insert("asUser".to_owned(), user.as_str().into());
    }
    Value::Object(body)
}

/// One execution as Rundeck describes it (only what is read here).
#[derive(Debug, Deserialize)]
pub(super) struct Execution {
    /// A number in JSON; read as a value so that a string form is not a failure.
    id: Value,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    argstring: Option<String>,
    #[serde(default)]
    job: Option<ExecutionJob>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ExecutionJob {
    #[serde(default)]
    options: Option<Map<String, Value>>,
}

/// The reference says a job's executions come as `{"paging": .., "executions": [..]}`; the
/// OpenAPI file beside it shows a bare array. Both are read.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExecutionList {
    Paged { executions: Vec<Execution> },
    Bare(Vec<Execution>),
}

impl Execution {
    fn id(&self) -> Option<u64> {
        match &self.id {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }

    fn started(&self) -> Option<StartedJob> {
        let permalink = self.permalink.clone().filter(|url| {
            (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= MAX_PERMALINK_CHARS
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        Some(StartedJob {
            execution_id: rundeck_handle(self.id()?),
            permalink,
        })
    }

    /// The run id option the execution carries: in the job's parsed options (API v10+) or,
    /// failing that, in its argument string (`-remediate_run_id <uuid>`).
    pub(super) fn run_id(&self) -> Option<String> {
        run_id_of(self.job.as_ref(), self.argstring.as_deref())
    }

    /// Whether the execution carries this run id option.
    fn carries_run_id(&self, run_id: &str) -> bool {
        self.run_id().as_deref() == Some(run_id)
    }
}

/// The run id option of an execution, from its job's options or its argument string. Only a
/// value that could be a run id (a short word of letters, digits and dashes) is taken: the
/// execution may be anyone's.
pub(super) fn run_id_of(job: Option<&ExecutionJob>, argstring: Option<&str>) -> Option<String> {
    let plausible = |value: &str| {
        !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let in_options = job
        .and_then(|job| job.options.as_ref())
        .and_then(|options| options.get(RUNDECK_RUN_ID_OPTION))
        .and_then(Value::as_str)
        .filter(|value| plausible(value));
    if let Some(run_id) = in_options {
        return Some(run_id.to_owned());
    }
    let flag = format!("-{RUNDECK_RUN_ID_OPTION}");
    let words: Vec<&str> = argstring?.split_whitespace().collect();
    words
        .windows(2)
        .filter(|pair| pair[0] == flag)
        .map(|pair| pair[1].trim_matches(|c| c == '"' || c == '\''))
        .find(|value| plausible(value))
        .map(str::to_owned)
}

/// Rundeck's JSON error body: `{"error": true, "apiversion": N, "errorCode": "..", "message": ".."}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default, rename = "errorCode")]
    error_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// What a refusal means, in words for the incident's note.
fn meaning(operation: &str, status: StatusCode, code: Option<&str>) -> &'static str {
    match (status.as_u16(), code) {
        (404, _) if operation == super::rundeck_results::EXECUTION => {
            "no such execution (or the token may not see it)"
        }
        (401 | 403, _) => "the token is not accepted, or may not run this job",
        (404, _) => "no such job (or the token may not see it)",
        (409, _) => "the job is already running and does not allow concurrent executions",
        (400, Some("api.error.job.options-invalid")) => "the job rejected the options",
        (400, Some("api.error.api-version.unsupported")) => {
            "this Rundeck does not support RUNDECK_API_VERSION"
        }
        (429, _) => "Rundeck is throttling requests",
        (500..=599, _) => "Rundeck failed to answer",
        _ => "Rundeck rejected the request",
    }
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

pub(super) async fn status_error(operation: &'static str, response: reqwest::Response) -> Error {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str::<ErrorBody>(&text).ok();
    let error_code = body.as_ref().and_then(|body| body.error_code.clone());
    let detail = body
        .and_then(|body| body.message)
        .map(|message| excerpt(&message))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
    let message = format!(
        "{} (HTTP {}{}): {detail}",
        meaning(operation, status, error_code.as_deref()),
        status.as_u16(),
        error_code
            .as_deref()
            .map(|code| format!(" {code}"))
            .unwrap_or_default(),
    );
    if operation == RUN && status == StatusCode::GATEWAY_TIMEOUT {
        // A proxy gave up waiting for Rundeck, which may have started the execution meanwhile.
        return Error::Ambiguous {
            service: "rundeck",
            operation,
            message,
        };
    }
    Error::Rundeck {
        operation,
        status: Some(status.as_u16()),
        error_code,
        message,
        transient: status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error(),
    }
}

/// A request that got no answer. A connection never made sent nothing; anything else on a run
/// may have reached Rundeck.
pub(super) fn send_error(operation: &'static str, error: &reqwest::Error) -> Error {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    // Callers pass `without_url()` errors: the message carries no URL, and never the token
    // (a header, which reqwest does not print).
    let message = format!("{what}: {}", DisplayError(error));
    if operation == RUN && !error.is_connect() {
        return Error::Ambiguous {
            service: "rundeck",
            operation,
            message,
        };
    }
    Error::Rundeck {
        operation,
        status: None,
        error_code: None,
        message,
        transient: true,
    }
}

/// A reqwest error's chain of causes, without its URL.
struct DisplayError<'a>(&'a reqwest::Error);

impl std::fmt::Display for DisplayError<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[async_trait]
impl RundeckExecutor for HttpRundeck {
    async fn run_job(&self, request: &RundeckRequest) -> Result<StartedJob> {
        let url = self.job_url(&request.job_id, "run");
        let response = self
            .request(reqwest::Method::POST, &url)
            .await?
            .json(&run_body(request))
            .send()
            .await
            .map_err(|error| send_error(RUN, &error.without_url()))?;
        if !response.status().is_success() {
            return Err(status_error(RUN, response).await);
        }
        // Rundeck said yes: an answer that cannot be read still means an execution may exist,
        // and the pipeline looks for it by its run id.
        let unreadable = |why: String| Error::Ambiguous {
            service: "rundeck",
            operation: RUN,
            message: format!("the answer could not be read: {why}"),
        };
        let execution: Execution = response
            .json()
            .await
            .map_err(|error| unreadable(error.without_url().to_string()))?;
        execution
            .started()
            .ok_or_else(|| unreadable("no execution id".to_owned()))
    }

    async fn find_execution(&self, request: &RundeckRequest) -> Result<Option<StartedJob>> {
        let url = self.job_url(&request.job_id, "executions");
        let response = self
            .request(reqwest::Method::GET, &url)
            .await?
            .query(&[("max", SEARCH_DEPTH)])
            .send()
            .await
            .map_err(|error| send_error(LIST, &error.without_url()))?;
        if !response.status().is_success() {
            return Err(status_error(LIST, response).await);
        }
        let list: ExecutionList = response.json().await.map_err(|error| Error::Rundeck {
            operation: LIST,
            status: None,
            error_code: None,
            message: format!("the executions could not be read: {}", error.without_url()),
            transient: true,
        })?;
        let executions = match list {
            ExecutionList::Paged { executions } | ExecutionList::Bare(executions) => executions,
        };
        Ok(executions
            .iter()
            .find(|execution| execution.carries_run_id(&request.run_id))
            .and_then(Execution::started))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execution(json: Value) -> Execution {
        serde_json::from_value(json).unwrap()
    }

    const RUN_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn the_run_id_is_found_in_the_options_or_the_argstring_and_nowhere_else() {
        let by_options = execution(serde_json::json!({
            "id": 7, "job": { "options": { "remediate_run_id": RUN_ID } }
        }));
        assert!(by_options.carries_run_id(RUN_ID));
        let by_argstring = execution(serde_json::json!({
            "id": "8", "argstring": format!("-host web-1 -remediate_run_id \"{RUN_ID}\"")
        }));
        assert!(by_argstring.carries_run_id(RUN_ID));
        assert_eq!(by_argstring.id(), Some(8));
        for other in [
            serde_json::json!({ "id": 9, "argstring": format!("-host {RUN_ID}") }),
            serde_json::json!({ "id": 9, "argstring": format!("-remediate_run_id {RUN_ID}x") }),
            serde_json::json!({ "id": 9, "job": { "options": { "host": RUN_ID } } }),
            serde_json::json!({ "id": 9 }),
        ] {
            assert!(!execution(other.clone()).carries_run_id(RUN_ID), "{other}");
        }
    }

    #[test]
    fn only_a_web_link_is_kept_as_the_permalink() {
        let started = execution(serde_json::json!({
            "id": 3, "permalink": "javascript:alert(1)"
        }))
        .started()
        .unwrap();
        assert_eq!(started.execution_id, "rundeck:3");
        assert_eq!(started.permalink, None);
        assert!(
            execution(serde_json::json!({ "id": -1 }))
                .started()
                .is_none()
        );
    }

    #[test]
    fn every_status_has_its_meaning() {
        for (status, code, words) in [
            (401, None, "token"),
            (403, Some("unauthorized"), "token"),
            (404, Some("api.error.item.doesnotexist"), "no such job"),
            (409, Some("api.error.execution.conflict"), "already running"),
            (400, Some("api.error.job.options-invalid"), "options"),
            (
                400,
                Some("api.error.api-version.unsupported"),
                "RUNDECK_API_VERSION",
            ),
        ] {
            let meaning = meaning(RUN, StatusCode::from_u16(status).unwrap(), code);
            assert!(meaning.contains(words), "{status}: {meaning}");
        }
    }
}
