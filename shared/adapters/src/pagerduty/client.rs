//! A small PagerDuty REST client: read an incident and its log entries, write notes, resolve and
//! escalate incidents.
//!
//! Every call takes a deadline: retries (429 and 5xx, with backoff and jitter, honouring
//! `ratelimit-reset`) happen only while they fit before it, because the webhook must answer
//! PagerDuty within its budget whatever PagerDuty's own latency. What does not fit fails as a
//! transient error and is recorded for later by the caller.

use super::payload::{IncidentJson, ReferenceJson};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use remediate_core::ports::incidents::{
    DEFAULT_ESCALATION_LEVEL, LogEntry, OPEN_STATUSES, PagerDutyApi,
};
use remediate_core::secrets::SecretStore;
use remediate_core::trigger::Incident;
use remediate_core::{Error, Result};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub const DEFAULT_API_URL: &str = "https://api.pagerduty.com";
const ACCEPT: &str = "application/vnd.pagerduty+json;version=2";
/// No single attempt may take longer than this, so that one slow answer leaves room for a retry.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// An attempt with less time than this left is not started.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(150);
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// At most this many pages of log entries are read for one tap: a window of a few minutes on
/// even the busiest incident holds far fewer than a thousand entries.
pub const MAX_LOG_ENTRY_PAGES: usize = 10;
const LOG_ENTRY_PAGE_SIZE: usize = 100;
/// PagerDuty's limit on an alert's de-duplication key (the Events API v2 `dedup_key`).
pub const MAX_INCIDENT_KEY_CHARS: usize = 255;

pub struct HttpPagerDuty {
    http: reqwest::Client,
    base_url: String,
    from_email: String,
    secrets: Arc<dyn SecretStore>,
    token_parameter: String,
}

impl HttpPagerDuty {
    pub fn new(
        base_url: &str,
        from_email: impl Into<String>,
        secrets: Arc<dyn SecretStore>,
        token_parameter: impl Into<String>,
    ) -> Result<Self> {
        let http = crate::tls::SharedTls::process()?
            .reqwest_builder()
            .user_agent(concat!("remediate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|error| Error::config("PAGERDUTY_API_URL", format!("HTTP client: {error}")))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            from_email: from_email.into(),
            secrets,
            token_parameter: token_parameter.into(),
        })
    }

    /// Send with retries within the deadline. `body` is JSON for writes.
    async fn send(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        deadline: Instant,
    ) -> Result<reqwest::Response> {
        let token = self.secrets.get(&self.token_parameter).await?;
        let url = format!("{}{path}", self.base_url);
        let mut attempt: u32 = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < MIN_ATTEMPT_TIME {
                return Err(Error::PagerDuty {
                    operation,
                    status: None,
                    message: "no time left in the response budget".to_owned(),
                    transient: true,
                });
            }
            let mut request = self
                .http
                .request(method.clone(), &url)
                .query(query)
                .timeout(remaining.min(ATTEMPT_TIMEOUT))
                .header("Authorization", format!("Token token={}", token.expose()))
                .header("Accept", ACCEPT)
                // PagerDuty's spec marks Content-Type as required on every call, GETs included.
                .header("Content-Type", "application/json")
                .header("From", &self.from_email);
            if let Some(body) = body {
                request = request.json(body);
            }
            let (retry_after, failure) = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let retryable =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    let wait = rate_limit_wait(response.headers());
                    let message = error_message(response).await;
                    let failure = Error::PagerDuty {
                        operation,
                        status: Some(status.as_u16()),
                        message,
                        transient: retryable,
                    };
                    if !retryable {
                        return Err(failure);
                    }
                    (wait, failure)
                }
                Err(error) => (
                    None,
                    Error::PagerDuty {
                        operation,
                        status: None,
                        message: if error.is_timeout() {
                            "timed out".to_owned()
                        } else {
                            format!("request failed: {}", error.without_url())
                        },
                        transient: true,
                    },
                ),
            };
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if Instant::now()
                .checked_add(wait + MIN_ATTEMPT_TIME)
                .is_none_or(|after| after > deadline)
            {
                // The retry would not fit in the budget: give up now rather than at the deadline.
                return Err(failure);
            }
            tracing::warn!(operation, attempt, wait_ms = wait.as_millis() as u64, error = %failure, "PagerDuty call failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// Exponential backoff with full jitter.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(BACKOFF_CAP);
    ceiling
        .mul_f64(fastrand::f64())
        .max(Duration::from_millis(20))
}

/// PagerDuty says when its rate limit resets (`ratelimit-reset`, seconds); `retry-after` too.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    ["ratelimit-reset", "retry-after"].iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            // A header of 1e20 seconds would overflow a Duration (a panic) and the Instant
            // it is added to: no budget is longer than an hour anyway.
            .map(|seconds| Duration::from_secs_f64(seconds.min(MAX_RATE_LIMIT_WAIT_SECONDS)))
    })
}

/// The longest wait a rate-limit header is read as (longer than any call's budget).
const MAX_RATE_LIMIT_WAIT_SECONDS: f64 = 3600.0;

async fn error_message(response: reqwest::Response) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ErrorDetail,
    }
    #[derive(Deserialize)]
    struct ErrorDetail {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        errors: Vec<String>,
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => {
            let mut message = body.error.message.unwrap_or_else(|| status.to_string());
            if !body.error.errors.is_empty() {
                message = format!("{message}: {}", body.error.errors.join("; "));
            }
            message
        }
        Err(_) => status.to_string(),
    }
}

/// A successful answer's JSON body. One that does not parse is treated as transient: PagerDuty
/// answered 2xx, so a retry is likely to read a whole body.
async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    operation: &'static str,
) -> Result<T> {
    response.json().await.map_err(|error| Error::PagerDuty {
        operation,
        status: None,
        message: format!("unreadable response: {error}"),
        transient: true,
    })
}

fn incident_path(incident_id: &str, suffix: &str) -> Result<String> {
    if !super::payload::is_pagerduty_id(incident_id) {
        return Err(Error::PagerDuty {
            operation: "request",
            status: None,
            message: format!("{incident_id:?} is not a PagerDuty id"),
            transient: false,
        });
    }
    Ok(format!("/incidents/{incident_id}{suffix}"))
}

#[async_trait]
impl PagerDutyApi for HttpPagerDuty {
    async fn get_incident(&self, incident_id: &str, deadline: Instant) -> Result<Incident> {
        #[derive(Deserialize)]
        struct Body {
            incident: IncidentJson,
        }
        let path = incident_path(incident_id, "")?;
        let response = self
            .send("GetIncident", Method::GET, &path, &[], None, deadline)
            .await?;
        let body: Body = read_json(response, "GetIncident").await?;
        Ok(body.incident.into_incident())
    }

    async fn log_entries_between(
        &self,
        incident_id: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<Vec<LogEntry>> {
        #[derive(Deserialize)]
        struct Body {
            log_entries: Vec<Entry>,
            /// Classic pagination: whether another page follows this one.
            #[serde(default)]
            more: Option<bool>,
        }
        #[derive(Deserialize)]
        struct Entry {
            #[serde(default)]
            id: Option<String>,
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            agent: Option<ReferenceJson>,
            #[serde(default)]
            summary: Option<String>,
            #[serde(default)]
            created_at: Option<DateTime<Utc>>,
        }
        let path = incident_path(incident_id, "/log_entries")?;
        // Whole seconds, widened outwards: the window never loses an entry to rounding.
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let until = until
            .checked_add_signed(chrono::Duration::seconds(1))
            .unwrap_or(until)
            .to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut entries = Vec::new();
        for _ in 0..MAX_LOG_ENTRY_PAGES {
            let query = [
                ("since", since.clone()),
                ("until", until.clone()),
                ("is_overview", "false".to_owned()),
                ("limit", LOG_ENTRY_PAGE_SIZE.to_string()),
                // Offsets count what was returned, whatever page size PagerDuty chose.
                ("offset", entries.len().to_string()),
            ];
            let response = self
                .send(
                    "ListIncidentLogEntries",
                    Method::GET,
                    &path,
                    &query,
                    None,
                    deadline,
                )
                .await?;
            let body: Body = read_json(response, "ListIncidentLogEntries").await?;
            let last_page = body.more != Some(true) || body.log_entries.is_empty();
            entries.extend(body.log_entries.into_iter().map(|entry| LogEntry {
                id: entry.id,
                kind: entry.kind,
                agent_name: entry.agent.as_ref().map(ReferenceJson::display_name),
                agent_id: entry.agent.map(|agent| agent.id),
                summary: entry.summary,
                created_at: entry.created_at,
            }));
            if last_page {
                return Ok(entries);
            }
        }
        // A window this busy is not something a tap produces: say so, rather than search part of
        // it and call a real tap unconfirmed.
        Err(Error::PagerDuty {
            operation: "ListIncidentLogEntries",
            status: None,
            message: format!(
                "more than {} log entries in the tap's window; not searched",
                MAX_LOG_ENTRY_PAGES * LOG_ENTRY_PAGE_SIZE
            ),
            transient: false,
        })
    }

    async fn find_open_incident(
        &self,
        incident_key: &str,
        deadline: Instant,
    ) -> Result<Option<Incident>> {
        #[derive(Deserialize)]
        struct Body {
            incidents: Vec<IncidentJson>,
        }
        if incident_key.is_empty() || incident_key.len() > MAX_INCIDENT_KEY_CHARS {
            return Err(Error::PagerDuty {
                operation: "ListIncidents",
                status: None,
                message: format!(
                    "an incident key must be 1 to {MAX_INCIDENT_KEY_CHARS} characters, not {}",
                    incident_key.len()
                ),
                transient: false,
            });
        }
        // `date_range=all`: without it PagerDuty searches only the last month, and an incident
        // opened longer ago that is still open would be missed.
        let mut query = vec![
            ("incident_key", incident_key.to_owned()),
            ("date_range", "all".to_owned()),
        ];
        query.extend(OPEN_STATUSES.map(|status| ("statuses[]", status.to_owned())));
        // An open incident of this key is at most one (PagerDuty de-duplicates on it); a page of
        // a few is plenty and bounds the answer.
        query.push(("limit", "5".to_owned()));
        let response = self
            .send(
                "ListIncidents",
                Method::GET,
                "/incidents",
                &query,
                None,
                deadline,
            )
            .await?;
        let body: Body = read_json(response, "ListIncidents").await?;
        // The status is checked again here: the filter is PagerDuty's, the promise is ours. The
        // key is not: PagerDuty also matches incidents whose alerts carry the key (an alert
        // grouped into another alarm's incident), and those have another incident_key or none.
        Ok(body
            .incidents
            .into_iter()
            .map(IncidentJson::into_incident)
            .filter(|incident| OPEN_STATUSES.contains(&incident.status.as_str()))
            .max_by_key(|incident| incident.number))
    }

    async fn create_note(&self, incident_id: &str, content: &str, deadline: Instant) -> Result<()> {
        let path = incident_path(incident_id, "/notes")?;
        let body = serde_json::json!({ "note": { "content": content } });
        self.send(
            "CreateIncidentNote",
            Method::POST,
            &path,
            &[],
            Some(&body),
            deadline,
        )
        .await
        .map(|_| ())
    }

    async fn resolve_incident(
        &self,
        incident_id: &str,
        resolution: &str,
        deadline: Instant,
    ) -> Result<()> {
        let path = incident_path(incident_id, "")?;
        let body = serde_json::json!({
            "incident": {
                "type": "incident_reference",
                "status": "resolved",
                "resolution": resolution,
            }
        });
        self.send(
            "ResolveIncident",
            Method::PUT,
            &path,
            &[],
            Some(&body),
            deadline,
        )
        .await
        .map(|_| ())
    }

    async fn escalate_incident(
        &self,
        incident_id: &str,
        level_hint: Option<NonZeroU32>,
        deadline: Instant,
    ) -> Result<NonZeroU32> {
        let path = incident_path(incident_id, "")?;
        let level = level_hint.unwrap_or(DEFAULT_ESCALATION_LEVEL);
        let body = serde_json::json!({
            "incident": {
                "type": "incident_reference",
                "escalation_level": level.get(),
            }
        });
        self.send(
            "EscalateIncident",
            Method::PUT,
            &path,
            &[],
            Some(&body),
            deadline,
        )
        .await
        .map(|_| level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn a_huge_or_odd_rate_limit_header_is_capped_not_a_panic() {
        for (value, expected) in [
            ("1e20", Some(Duration::from_secs(3600))),
            ("2", Some(Duration::from_secs(2))),
            ("0.5", Some(Duration::from_millis(500))),
            ("-1", None),
            ("NaN", None),
            ("inf", None),
            ("soon", None),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("ratelimit-reset", HeaderValue::from_static(value));
            assert_eq!(rate_limit_wait(&headers), expected, "{value}");
        }
    }
}
