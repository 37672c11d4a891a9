//! The Rundeck executor against a stub Rundeck (wiremock). Rundeck publishes no spec that its
//! answers are checked against, so the stub's requests and canned answers are written from
//! Rundeck's API reference (docs.rundeck.com/docs/api, source rundeck/docs `docs/api/index.md`:
//! "Running a Job", "Getting Executions for a Job", "Listing Running Executions" for the
//! execution object, "Error Responses") and the error codes of Rundeck's
//! `ScheduledExecutionController.apiJobRun`.

use remediate_adapters::config::RundeckSettings;
use remediate_adapters::executors::HttpRundeck;
use remediate_core::catalog::LogLevel;
use remediate_core::error::Kind;
use remediate_core::plan::RundeckRequest;
use remediate_core::ports::executor::RundeckExecutor;
use remediate_core::secrets::StaticSecrets;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const JOB: &str = "7400ff98-31c4-4834-ba3d-aee9646e867f";
pub(crate) const RUN_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const TOKEN_PARAMETER: &str = "/remediate/rundeck-token";
pub(crate) const TOKEN: &str = "E4rNvVRV378knO9dp3d73O0cs1kd0kCd";

pub(crate) fn rundeck(url: &str, api_version: u32) -> HttpRundeck {
    let settings = RundeckSettings {
        url: url.to_owned(),
        token_parameter: TOKEN_PARAMETER.to_owned(),
        api_version,
    };
    HttpRundeck::new(
        &settings,
        Arc::new(StaticSecrets::new([(TOKEN_PARAMETER, TOKEN)])),
    )
    .unwrap()
}

fn request() -> RundeckRequest {
    RundeckRequest {
        job_id: JOB.into(),
        options: [("host".to_owned(), "web-12".to_owned())].into(),
        run_id: RUN_ID.into(),
        loglevel: Some(LogLevel::Info),
        filter: Some("name: web-12".into()),
        as_user: Some("oncall-bot".into()),
    }
}

/// An execution object as the reference shows it (ids, links, dates, the job with its options).
pub(crate) fn execution(id: u64, options: Value, argstring: &str, base: &str) -> Value {
    json!({
        "id": id,
        "href": format!("{base}/api/41/execution/{id}"),
        "permalink": format!("{base}/project/ops/execution/show/{id}"),
        "status": "running",
        "project": "ops",
        "user": "remediate",
        "serverUUID": "8b51c5f3-0a56-4f3a-8a35-1f2d3c4b5a69",
        "date-started": { "unixtime": 1_431_536_339_809_u64, "date": "2015-05-13T16:58:59Z" },
        "job": {
            "id": JOB,
            "averageDuration": 6094,
            "name": "rollback web",
            "group": "ops/web",
            "project": "ops",
            "description": "",
            "href": format!("{base}/api/41/job/{JOB}"),
            "permalink": format!("{base}/project/ops/job/show/{JOB}"),
            "options": options
        },
        "description": "rollback [... 3 steps]",
        "argstring": argstring
    })
}

/// Rundeck's JSON error body.
pub(crate) fn error_body(code: &str, message: &str) -> Value {
    json!({ "error": true, "apiversion": 41, "errorCode": code, "message": message })
}

#[tokio::test]
async fn a_run_sends_the_token_the_options_with_the_run_id_and_every_setting() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/41/job/{JOB}/run")))
        .and(header("X-Rundeck-Auth-Token", TOKEN))
        .and(header("Accept", "application/json"))
        .and(header("Content-Type", "application/json"))
        .and(body_json(json!({
            "options": { "host": "web-12", "remediate_run_id": RUN_ID },
            "loglevel": "INFO",
            "filter": "name: web-12",
            "asUser": "oncall-bot"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(execution(
            387,
            json!({ "host": "web-12", "remediate_run_id": RUN_ID }),
            &format!("-host web-12 -remediate_run_id {RUN_ID}"),
            &server.uri(),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let started = rundeck(&server.uri(), 41)
        .run_job(&request())
        .await
        .unwrap();
    assert_eq!(started.execution_id, "rundeck:387");
    assert_eq!(
        started.permalink,
        Some(format!("{}/project/ops/execution/show/387", server.uri()))
    );
}

#[tokio::test]
async fn a_bare_run_sends_only_the_options_on_the_configured_api_version() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/rundeck/api/18/job/{JOB}/run")))
        .and(body_json(
            json!({ "options": { "remediate_run_id": RUN_ID } }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": 5 })))
        .expect(1)
        .mount(&server)
        .await;
    let bare = RundeckRequest {
        options: Default::default(),
        loglevel: None,
        filter: None,
        as_user: None,
        ..request()
    };
    let started = rundeck(&format!("{}/rundeck", server.uri()), 18)
        .run_job(&bare)
        .await
        .unwrap();
    assert_eq!(started.execution_id, "rundeck:5");
    assert_eq!(started.permalink, None);
}

#[tokio::test]
async fn each_answer_of_rundeck_has_its_kind() {
    let cases: [(u16, Option<Value>, Kind, &str); 10] = [
        (
            400,
            Some(error_body(
                "api.error.job.options-invalid",
                "Job options were not valid: Option 'host' is required.",
            )),
            Kind::Permanent,
            "rejected the options",
        ),
        (
            401,
            Some(error_body(
                "unauthorized",
                "(Token:E4rN****) is not authorized",
            )),
            Kind::Permanent,
            "token",
        ),
        (
            403,
            Some(error_body(
                "api.error.item.unauthorized",
                "Not authorized for action \"Run\" for Job ID 7400ff98",
            )),
            Kind::Permanent,
            "may not run this job",
        ),
        (
            404,
            Some(error_body(
                "api.error.item.doesnotexist",
                "Job ID does not exist: 7400ff98",
            )),
            Kind::Permanent,
            "no such job",
        ),
        (
            409,
            Some(error_body(
                "api.error.execution.conflict",
                "Execution had a conflict: Job \"rollback web\" is currently being executed (execution [386])",
            )),
            Kind::Permanent,
            "already running and does not allow concurrent executions",
        ),
        (429, None, Kind::Transient, "throttling"),
        (
            500,
            Some(error_body("api.error.execution.failed", "Execution failed")),
            Kind::Transient,
            "api.error.execution.failed",
        ),
        (503, None, Kind::Transient, "HTTP 503"),
        // A proxy stopped waiting; Rundeck may have started the run.
        (504, None, Kind::Ambiguous, "HTTP 504"),
        // Not JSON at all (a proxy's page): the status decides.
        (
            502,
            Some(Value::String("<html>".into())),
            Kind::Transient,
            "HTTP 502",
        ),
    ];
    for (status, body, kind, words) in cases {
        let server = MockServer::start().await;
        let mut answer = ResponseTemplate::new(status);
        if let Some(body) = &body {
            answer = answer.set_body_json(body);
        }
        Mock::given(method("POST"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let error = rundeck(&server.uri(), 41)
            .run_job(&request())
            .await
            .unwrap_err();
        let message = error.to_string();
        assert_eq!(error.kind(), kind, "{status}: {message}");
        assert!(message.contains(words), "{status}: {message}");
        if let Some(code) = body.as_ref().and_then(|body| body["errorCode"].as_str()) {
            assert!(message.contains(code), "{status}: {message}");
        }
        assert!(!message.contains(TOKEN), "{message}");
    }
}

#[tokio::test]
async fn an_answer_that_cannot_be_read_after_a_run_is_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<result/>"))
        .mount(&server)
        .await;
    let error = rundeck(&server.uri(), 41)
        .run_job(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Kind::Ambiguous, "{error}");
}

#[tokio::test]
async fn a_timeout_after_sending_is_ambiguous_and_no_connection_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": 1 }))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let error = rundeck(&server.uri(), 41)
        .with_timeout(Duration::from_millis(300))
        .run_job(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Kind::Ambiguous, "{error}");
    assert!(error.to_string().contains("timed out"), "{error}");

    // A port nobody listens on: the request never left.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let error = rundeck(&url, 41).run_job(&request()).await.unwrap_err();
    assert_eq!(error.kind(), Kind::Transient, "{error}");
}

#[tokio::test]
async fn a_search_finds_the_execution_carrying_the_run_id() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path(format!("/api/41/job/{JOB}/executions")))
        .and(query_param("max", "50"))
        .and(header("X-Rundeck-Auth-Token", TOKEN))
        .and(header("Accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "paging": { "count": 3, "total": 3, "offset": 0, "max": 50 },
            "executions": [
                execution(391, json!({ "host": "web-3" }), "-host web-3", &base),
                execution(
                    390,
                    json!({ "host": "web-12", "remediate_run_id": RUN_ID }),
                    &format!("-host web-12 -remediate_run_id {RUN_ID}"),
                    &base,
                ),
                execution(
                    389,
                    json!({ "remediate_run_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8" }),
                    "-remediate_run_id 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                    &base,
                ),
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let found = rundeck(&base, 41)
        .find_execution(&request())
        .await
        .unwrap()
        .expect("the execution of this run");
    assert_eq!(found.execution_id, "rundeck:390");
    assert_eq!(
        found.permalink,
        Some(format!("{base}/project/ops/execution/show/390"))
    );
}

#[tokio::test]
async fn a_search_reads_a_bare_list_and_the_argstring_and_may_find_nothing() {
    let server = MockServer::start().await;
    let base = server.uri();
    // The OpenAPI file's shape: a bare array; an execution without parsed options.
    let mut by_argstring = execution(
        12,
        Value::Null,
        &format!("-remediate_run_id {RUN_ID}"),
        &base,
    );
    by_argstring["job"]
        .as_object_mut()
        .unwrap()
        .remove("options");
    Mock::given(method("GET"))
        .and(path(format!("/api/41/job/{JOB}/executions")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([by_argstring])))
        .mount(&server)
        .await;
    let executor = rundeck(&base, 41);
    let found = executor.find_execution(&request()).await.unwrap();
    assert_eq!(
        found.map(|job| job.execution_id.to_string()),
        Some("rundeck:12".to_owned())
    );
    let other_run = RundeckRequest {
        run_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8".into(),
        ..request()
    };
    assert_eq!(executor.find_execution(&other_run).await.unwrap(), None);
}

#[tokio::test]
async fn a_failed_search_is_transient_and_a_missing_job_is_a_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/41/job/{JOB}/executions")))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let error = rundeck(&server.uri(), 41)
        .with_timeout(Duration::from_millis(300))
        .find_execution(&request())
        .await
        .unwrap_err();
    // A search changes nothing: a timeout is only transient.
    assert_eq!(error.kind(), Kind::Transient, "{error}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_body(
            "api.error.item.doesnotexist",
            "Job ID does not exist",
        )))
        .mount(&server)
        .await;
    let error = rundeck(&server.uri(), 41)
        .find_execution(&request())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Kind::Permanent, "{error}");
}

mod pipeline;
