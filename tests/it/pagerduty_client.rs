//! The PagerDuty client: request shapes against Prism (PagerDuty's official spec), and retry
//! behaviour against a scripted stub (Prism cannot play sequences such as 429 then 200).

use chrono::Utc;
use remediate_adapters::pagerduty::HttpPagerDuty;
use remediate_core::ports::PagerDutyApi;
use remediate_core::secrets::StaticSecrets;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN_PARAMETER: &str = "/remediate/api-token";

fn client(base_url: &str) -> HttpPagerDuty {
    let secrets = Arc::new(StaticSecrets::new([(
        TOKEN_PARAMETER,
        "y_NbAkKc66ryYTWUXYEu",
    )]));
    HttpPagerDuty::new(
        base_url,
        "remediate-bot@example.com",
        secrets,
        TOKEN_PARAMETER,
    )
    .unwrap()
}

fn deadline(seconds: u64) -> Instant {
    Instant::now() + Duration::from_secs(seconds)
}

#[tokio::test]
async fn every_call_passes_pagerduty_spec_validation() {
    let pagerduty = client(&crate::support::prism_url());
    let incident = pagerduty
        .get_incident("PT4KHLK", deadline(5))
        .await
        .expect("GET /incidents/{id}");
    assert!(!incident.id.is_empty());
    assert!(!incident.status.is_empty());
    let entries = pagerduty
        .log_entries_between(
            "PT4KHLK",
            Utc::now() - chrono::Duration::minutes(2),
            Utc::now() + chrono::Duration::minutes(2),
            deadline(5),
        )
        .await
        .expect("GET /incidents/{id}/log_entries");
    assert!(!entries.is_empty());
    pagerduty
        .create_note(
            "PT4KHLK",
            "remediate: restart-web started by Alice",
            deadline(5),
        )
        .await
        .expect("POST /incidents/{id}/notes");
    // The alarm's incident, by its key: Prism validates the query (incident_key, statuses[]).
    let found = pagerduty
        .find_open_incident(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used",
            deadline(5),
        )
        .await
        .expect("GET /incidents?incident_key=");
    // Prism answers with its example incident: what matters is that the request was valid.
    if let Some(incident) = found {
        assert!(["triggered", "acknowledged"].contains(&incident.status.as_str()));
    }
}

#[tokio::test]
async fn escalations_pass_pagerduty_spec_validation() {
    let pagerduty = client(&crate::support::prism_url());
    let level = pagerduty
        .escalate_incident("PT4KHLK", None, deadline(5))
        .await
        .expect("PUT /incidents/{id} with escalation_level");
    assert_eq!(level.get(), 2);
    let level = pagerduty
        .escalate_incident("PT4KHLK", NonZeroU32::new(3), deadline(5))
        .await
        .expect("PUT /incidents/{id} with escalation_level 3");
    assert_eq!(level.get(), 3);
}

#[tokio::test]
async fn prism_types_the_escalation_level() {
    // The spec declares escalation_level an integer: a string must be refused, or the test above
    // would pass whatever the client sent.
    let response = crate::support::http_client()
        .put(format!("{}/incidents/PT4KHLK", crate::support::prism_url()))
        .header("Authorization", "Token token=y_NbAkKc66ryYTWUXYEu")
        .header("Accept", "application/vnd.pagerduty+json;version=2")
        .header("Content-Type", "application/json")
        .header("From", "remediate-bot@example.com")
        .body(r#"{"incident":{"type":"incident_reference","escalation_level":"two"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap_or_default();
    assert!(body.contains("escalation_level"), "{body}");
}

#[tokio::test]
async fn an_escalation_asks_for_the_level_given_or_the_second() {
    let server = MockServer::start().await;
    for level in [2, 4] {
        Mock::given(method("PUT"))
            .and(path("/incidents/PINC1"))
            .and(header("from", "remediate-bot@example.com"))
            .and(body_json(serde_json::json!({
                "incident": { "type": "incident_reference", "escalation_level": level }
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "incident": { "id": "PINC1", "type": "incident", "status": "triggered" }
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let pagerduty = client(&server.uri());
    let default = pagerduty
        .escalate_incident("PINC1", None, deadline(4))
        .await
        .expect("escalated");
    assert_eq!(default.get(), 2);
    let hinted = pagerduty
        .escalate_incident("PINC1", NonZeroU32::new(4), deadline(4))
        .await
        .expect("escalated");
    assert_eq!(hinted.get(), 4);
}

#[tokio::test]
async fn a_refused_escalation_is_permanent_and_a_bad_id_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": { "message": "Invalid Input Provided", "code": 2001,
                       "errors": ["Escalation level is not valid"] }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let pagerduty = client(&server.uri());
    let error = pagerduty
        .escalate_incident("PINC1", NonZeroU32::new(9), deadline(4))
        .await
        .expect_err("refused");
    assert!(!error.is_retryable(), "{error}");
    assert!(
        matches!(
            &error,
            remediate_core::Error::PagerDuty {
                operation: "EscalateIncident",
                status: Some(400),
                ..
            }
        ),
        "{error}"
    );
    let error = pagerduty
        .escalate_incident("../users", None, deadline(4))
        .await
        .expect_err("not an id");
    assert!(!error.is_retryable(), "{error}");
}

#[tokio::test]
async fn the_alarms_incident_is_the_open_one_with_its_key() {
    use wiremock::matchers::query_param;
    let server = MockServer::start().await;
    let key = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used";
    let incident = |id: &str, number: u64, status: &str, key: &str| {
        serde_json::json!({
            "id": id, "type": "incident", "incident_number": number, "status": status,
            "title": "web-1 disk", "incident_key": key,
            "service": { "id": "PWEB", "type": "service_reference", "summary": "Web" }
        })
    };
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .and(query_param("incident_key", key))
        .and(query_param("date_range", "all"))
        .and(query_param("limit", "5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "incidents": [
                // PagerDuty filters by status and key; the client checks the status again.
                incident("POLD", 9, "resolved", key),
                incident("PWEB1", 8, "acknowledged", key),
            ],
            "limit": 5, "offset": 0, "more": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server.uri())
        .find_open_incident(key, deadline(4))
        .await
        .unwrap()
        .expect("the acknowledged incident");
    assert_eq!(found.id, "PWEB1");
    assert_eq!(found.key.as_deref(), Some(key));
    let requests = server.received_requests().await.unwrap_or_default();
    let query = requests[0].url.query().unwrap_or_default().to_owned();
    assert!(
        query.contains("statuses%5B%5D=triggered") && query.contains("statuses%5B%5D=acknowledged"),
        "{query}"
    );
}

#[tokio::test]
async fn an_empty_or_oversized_incident_key_is_refused_without_a_request() {
    let pagerduty = client("http://127.0.0.1:9");
    for key in [String::new(), "k".repeat(256)] {
        let error = pagerduty
            .find_open_incident(&key, deadline(2))
            .await
            .expect_err("refused");
        assert!(!error.is_retryable(), "{error}");
    }
}

#[tokio::test]
async fn prism_rejects_what_the_spec_forbids() {
    // Guard against a Prism that accepts anything (which would make the test above vacuous):
    // a note without its From header must be refused.
    let response = crate::support::http_client()
        .post(format!(
            "{}/incidents/PT4KHLK/notes",
            crate::support::prism_url()
        ))
        .header("Authorization", "Token token=y_NbAkKc66ryYTWUXYEu")
        .header("Accept", "application/vnd.pagerduty+json;version=2")
        .header("Content-Type", "application/json")
        .body(r#"{"note":{"content":"x"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().contains_key("sl-violations"));
}

#[tokio::test]
async fn notes_carry_pagerduty_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/incidents/PINC1/notes"))
        .and(header("authorization", "Token token=y_NbAkKc66ryYTWUXYEu"))
        .and(header("from", "remediate-bot@example.com"))
        .and(header("accept", "application/vnd.pagerduty+json;version=2"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            serde_json::json!({ "note": { "content": "hello" } }),
        ))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    client(&server.uri())
        .create_note("PINC1", "hello", deadline(4))
        .await
        .unwrap();
}

#[tokio::test]
async fn rate_limit_is_honoured_then_the_note_lands() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("ratelimit-reset", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    client(&server.uri())
        .create_note("PINC1", "x", deadline(4))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for ratelimit-reset"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    client(&server.uri())
        .create_note("PINC1", "x", deadline(4))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reset_beyond_the_budget_fails_at_once_as_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("ratelimit-reset", "30"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let error = client(&server.uri())
        .create_note("PINC1", "x", deadline(4))
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "did not wait for a reset it cannot use"
    );
}

#[tokio::test]
async fn client_errors_are_final_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": { "message": "Invalid Input Provided", "code": 2001, "errors": ["Note content is too long"] }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server.uri())
        .create_note("PINC1", "x", deadline(4))
        .await
        .unwrap_err();
    assert!(!error.is_transient());
    assert!(
        error.to_string().contains("Note content is too long"),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_pagerduty_cannot_hold_the_answer_past_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let error = client(&server.uri())
        .create_note("PINC1", "x", deadline(2))
        .await
        .unwrap_err();
    assert!(error.is_transient());
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn ids_that_are_not_pagerduty_ids_never_reach_a_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let error = client(&server.uri())
        .create_note("../users/P1", "x", deadline(2))
        .await
        .unwrap_err();
    assert!(!error.is_transient());
}

/// A busy incident: the tap is on the second page of its log. Every page is read, each asks for
/// the tap's window (`since` and `until`), and the entry's summary and agent name come through.
#[tokio::test]
async fn log_entries_follow_pagination_within_the_window() {
    use wiremock::matchers::query_param;
    let server = MockServer::start().await;
    let since = "2026-11-25T03:10:07Z"
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let until = "2026-11-25T03:14:07Z"
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let noise: Vec<_> = (0..100)
        .map(|n| {
            serde_json::json!({"id": format!("RNOISE{n}"), "type": "annotate_log_entry",
                "summary": "Note added", "created_at": "2026-11-25T03:12:00Z",
                "agent": {"id": "PBOT", "type": "user_reference", "summary": "Bot"}})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/incidents/PINC1/log_entries"))
        .and(query_param("offset", "0"))
        .and(query_param("since", "2026-11-25T03:10:07Z"))
        .and(query_param("until", "2026-11-25T03:14:08Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "log_entries": noise, "limit": 100, "offset": 0, "more": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/incidents/PINC1/log_entries"))
        .and(query_param("offset", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "log_entries": [{"id": "RTAP1", "type": "custom_log_entry",
                "summary": "Alice Oncall ran the Restart web tier action",
                "created_at": "2026-11-25T03:12:07Z",
                "agent": {"id": "PALICE1", "type": "user_reference", "summary": "Alice Oncall"}}],
            "limit": 100, "offset": 100, "more": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    let entries = client(&server.uri())
        .log_entries_between("PINC1", since, until, deadline(4))
        .await
        .unwrap();
    assert_eq!(entries.len(), 101);
    let tap = entries.last().unwrap();
    assert_eq!(tap.id.as_deref(), Some("RTAP1"));
    assert_eq!(
        tap.summary.as_deref(),
        Some("Alice Oncall ran the Restart web tier action")
    );
    assert_eq!(tap.agent_name.as_deref(), Some("Alice Oncall"));
    assert_eq!(tap.agent_id.as_deref(), Some("PALICE1"));
}

#[tokio::test]
async fn a_log_window_beyond_the_page_cap_is_an_error_not_a_partial_answer() {
    let server = MockServer::start().await;
    let page: Vec<_> = (0..100)
        .map(|n| serde_json::json!({"id": format!("R{n}"), "type": "annotate_log_entry"}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/incidents/PINC1/log_entries"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "log_entries": page, "limit": 100, "more": true
        })))
        .expect(remediate_adapters::pagerduty::client::MAX_LOG_ENTRY_PAGES as u64)
        .mount(&server)
        .await;
    let error = client(&server.uri())
        .log_entries_between("PINC1", Utc::now(), Utc::now(), deadline(4))
        .await
        .unwrap_err();
    assert!(!error.is_transient());
    assert!(error.to_string().contains("not searched"), "{error}");
}
