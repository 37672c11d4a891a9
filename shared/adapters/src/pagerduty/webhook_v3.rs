//! The v3 webhook envelope: `{"event": {id, event_type, resource_type, occurred_at, agent, data}}`.
//! Parsed only after the signature has been verified.
//!
//! `event.resource_type` is `incident` for every `incident.*` event, but `event.data.type` says
//! what `data` really is: only `incident` carries a full incident; `incident.annotated` carries an
//! `incident_note`, `incident.workflow.started` an `incident_workflow_instance`, and so on. So
//! `data` is read as an incident together with its type, in one pass (nearly every event is an
//! incident's); anything else is then known by its type alone, and every event a runbook cannot
//! act on is answered 200 with its reason: PagerDuty drops a 4xx and disables a subscription
//! after three in a row, so a genuine signed event never gets one.

use super::payload::{IncidentJson, ReferenceJson, is_pagerduty_id};
use chrono::{DateTime, Utc};
use remediate_core::trigger::{Incident, Source, Trigger, Workflow};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// The event PagerDuty sends when a subscription is created or tested.
pub const PING_EVENT_TYPE: &str = "pagey.ping";
pub use remediate_core::trigger::WORKFLOW_STARTED;
/// `data.type` of an event that carries a full incident.
pub const INCIDENT_DATA: &str = "incident";
/// `data.type` of `incident.workflow.started` and `incident.workflow.completed`.
pub const WORKFLOW_INSTANCE_DATA: &str = "incident_workflow_instance";
/// The agent type of a person.
const USER_REFERENCE: &str = "user_reference";
/// Event ids become ledger keys: anything longer is not an id PagerDuty made.
const MAX_EVENT_ID_LEN: usize = 128;

#[derive(Debug, Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: Event<'a>,
}

#[derive(Debug, Deserialize)]
struct Event<'a> {
    id: String,
    event_type: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    agent: Option<ReferenceJson>,
    /// Kept raw: read once as an incident with its `type`; when it is something else, its
    /// `type` alone is read.
    #[serde(default, borrow)]
    data: Option<&'a serde_json::value::RawValue>,
}

/// Only the `type` of `event.data`; every other field is skipped unread.
#[derive(Debug, Deserialize)]
struct DataType {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(flatten)]
    _rest: IgnoredAny,
}

/// `data` of `incident.workflow.started`: the workflow, and references to the incident and its
/// service (not the incident itself).
#[derive(Debug, Deserialize)]
struct WorkflowInstanceJson {
    id: String,
    incident_workflow: ReferenceJson,
    incident: ReferenceJson,
    #[serde(default)]
    service: Option<ReferenceJson>,
}

/// What a verified v3 body turned out to be.
#[derive(Debug)]
pub enum V3Event {
    Ping,
    /// Signed and understood, but not something a runbook acts on (a note, a responder, a
    /// service, a type newer than this build): answered 200 `ignored` with the reason.
    NotActionable {
        event_type: String,
        reason: String,
    },
    /// A full incident (`data.type` is `incident`).
    Incident(Box<Trigger>),
    /// A manual Incident Workflow run: the trigger names the workflow and holds only a reference
    /// to the incident, which must be re-read before any condition on it is evaluated.
    WorkflowStarted(Box<Trigger>),
}

/// Parse a body whose signature has been verified. An error is a body that can never be
/// understood as a v3 webhook (400), with a message safe to return to the sender.
pub fn parse(body: &[u8]) -> Result<V3Event, String> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|error| format!("not a PagerDuty v3 webhook: {error}"))?;
    let event = envelope.event;
    if event.event_type == PING_EVENT_TYPE {
        return Ok(V3Event::Ping);
    }
    check_event_id(&event.id)?;
    check_event_time(event.occurred_at)?;
    let Some(data) = event.data else {
        return Ok(not_actionable(event.event_type, |event_type| {
            format!("{event_type} carries no data to act on")
        }));
    };
    // Nearly every event that carries data carries a full incident: read it as one, its `type`
    // included, in a single pass. Only an object can be one (a struct also reads an array).
    if data.get().starts_with('{')
        && let Ok(incident) = serde_json::from_str::<IncidentJson>(data.get())
        && incident.kind.as_deref() == Some(INCIDENT_DATA)
    {
        return incident_event(event, incident);
    }
    // Anything else, or an incident this build cannot read: its type alone says what it is.
    let kind = serde_json::from_str::<DataType>(data.get())
        .ok()
        .and_then(|data| data.kind);
    match kind.as_deref() {
        Some(INCIDENT_DATA) => match serde_json::from_str::<IncidentJson>(data.get()) {
            Ok(incident) => incident_event(event, incident),
            Err(error) => {
                // Signed by PagerDuty, so a 4xx would only count towards disabling the
                // subscription: nothing runs, and the log says why.
                tracing::warn!(event_type = event.event_type, %error, "unreadable incident data");
                Ok(not_actionable(event.event_type, |event_type| {
                    format!("{event_type} carries incident data this build cannot read: {error}")
                }))
            }
        },
        Some(WORKFLOW_INSTANCE_DATA) if event.event_type == WORKFLOW_STARTED => {
            match serde_json::from_str::<WorkflowInstanceJson>(data.get()) {
                Ok(instance) => workflow_event(event, instance),
                Err(error) => {
                    tracing::warn!(event_type = event.event_type, %error, "unreadable workflow data");
                    Ok(not_actionable(event.event_type, |event_type| {
                        format!(
                            "{event_type} carries workflow data this build cannot read: {error}"
                        )
                    }))
                }
            }
        }
        Some(other) => Ok(not_actionable(event.event_type, |event_type| {
            format!(
                "{event_type} carries {other} data, which no runbook acts on (only incidents and manual workflow starts run runbooks)"
            )
        })),
        None => Ok(not_actionable(event.event_type, |event_type| {
            format!("{event_type} carries data of no type this build knows")
        })),
    }
}

fn not_actionable(event_type: String, reason: impl FnOnce(&str) -> String) -> V3Event {
    let reason = reason(&event_type);
    V3Event::NotActionable { event_type, reason }
}

/// An event whose `data` is a full incident.
fn incident_event(event: Event<'_>, incident: IncidentJson) -> Result<V3Event, String> {
    if !is_pagerduty_id(&incident.id) {
        return Err(format!(
            "incident id {:?} is not a PagerDuty id",
            incident.id
        ));
    }
    Ok(V3Event::Incident(Box::new(Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: format!("pagerduty-v3:{}", event.id).into(),
        event_type: event.event_type,
        action: None,
        occurred_at: event.occurred_at,
        incident: Some(incident.into_incident()),
        actor: event.agent.map(ReferenceJson::into_actor),
        alarm: None,
        event: None,
        workflow: None,
    })))
}

/// An `incident.workflow.started`: a manual start becomes a workflow trigger.
fn workflow_event(event: Event<'_>, instance: WorkflowInstanceJson) -> Result<V3Event, String> {
    if !is_pagerduty_id(&instance.incident.id) {
        return Err(format!(
            "incident id {:?} is not a PagerDuty id",
            instance.incident.id
        ));
    }
    // A manual start names the person who started it; a workflow started by its own
    // conditions has no person as its agent, and automation runs from incident events.
    let by_person = event
        .agent
        .as_ref()
        .is_some_and(|agent| agent.kind.as_deref() == Some(USER_REFERENCE));
    if !by_person {
        return Ok(not_actionable(event.event_type, |event_type| {
            format!(
                "{event_type} of workflow {:?} was not started by a person (a conditional trigger): only manual starts run runbooks",
                instance.incident_workflow.display_name()
            )
        }));
    }
    let incident = Incident {
        id: instance.incident.id,
        url: instance.incident.html_url,
        title: instance.incident.summary.unwrap_or_default(),
        service: instance.service.map(ReferenceJson::into_reference),
        ..Incident::default()
    };
    Ok(V3Event::WorkflowStarted(Box::new(Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: format!("pagerduty-v3:{}", event.id).into(),
        event_type: event.event_type,
        action: None,
        occurred_at: event.occurred_at,
        incident: Some(incident),
        actor: event.agent.map(ReferenceJson::into_actor),
        alarm: None,
        event: None,
        workflow: Some(Workflow {
            id: instance.incident_workflow.id.clone(),
            name: instance.incident_workflow.display_name(),
            instance_id: instance.id,
        }),
    })))
}

/// Event ids end up in ledger keys and logs: PagerDuty's are short ULIDs or UUIDs.
fn check_event_id(id: &str) -> Result<(), String> {
    let valid = (1..=MAX_EVENT_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "event id must be 1 to {MAX_EVENT_ID_LEN} letters, digits, dashes or underscores"
        ))
    }
}

/// Times far outside the present are not something PagerDuty sends, and arithmetic on them could
/// overflow: refuse them at the door.
fn check_event_time(at: DateTime<Utc>) -> Result<(), String> {
    if remediate_core::clock::is_plausible(at) {
        Ok(())
    } else {
        Err(format!("occurred_at {at} is outside any plausible time"))
    }
}

/// PagerDuty's example `data` of each v3 data type and its list of event types, for the tests
/// here and the handler's.
#[cfg(any(test, feature = "testing"))]
pub mod samples {
    pub const EVENT_TYPES: &str =
        include_str!("../../../../events/fixtures/v3-event-data/event-types.tsv");

    /// PagerDuty's example `data` of one data type, from events/fixtures/v3-event-data/.
    pub fn data(data_type: &str) -> serde_json::Value {
        let text = match data_type {
            "incident" => include_str!("../../../../events/fixtures/v3-event-data/incident.json"),
            "incident_action_invocation" => include_str!(
                "../../../../events/fixtures/v3-event-data/incident_action_invocation.json"
            ),
            "incident_conference_bridge" => include_str!(
                "../../../../events/fixtures/v3-event-data/incident_conference_bridge.json"
            ),
            "incident_field_values" => {
                include_str!("../../../../events/fixtures/v3-event-data/incident_field_values.json")
            }
            "incident_note" => {
                include_str!("../../../../events/fixtures/v3-event-data/incident_note.json")
            }
            "incident_responder" => {
                include_str!("../../../../events/fixtures/v3-event-data/incident_responder.json")
            }
            "incident_role_assignment" => {
                include_str!(
                    "../../../../events/fixtures/v3-event-data/incident_role_assignment.json"
                )
            }
            "incident_status_update" => {
                include_str!(
                    "../../../../events/fixtures/v3-event-data/incident_status_update.json"
                )
            }
            "incident_task" => {
                include_str!("../../../../events/fixtures/v3-event-data/incident_task.json")
            }
            "incident_workflow_instance" => include_str!(
                "../../../../events/fixtures/v3-event-data/incident_workflow_instance.json"
            ),
            "service" => include_str!("../../../../events/fixtures/v3-event-data/service.json"),
            "service_field_values" => {
                include_str!("../../../../events/fixtures/v3-event-data/service_field_values.json")
            }
            other => panic!("no sample for data type {other}: copy it into events/fixtures"),
        };
        serde_json::from_str(text).unwrap()
    }

    pub fn event_types() -> Vec<(&'static str, &'static str)> {
        EVENT_TYPES
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let mut columns = line.split('\t');
                (columns.next().unwrap(), columns.next().unwrap())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::samples::{data as sample_data, event_types};
    use super::*;

    const PRIORITY_UPDATED: &str =
        include_str!("../../../../events/fixtures/v3-incident.priority_updated.json");
    fn envelope(event_type: &str, data: serde_json::Value) -> String {
        let resource_type = event_type.split('.').next().unwrap();
        serde_json::json!({"event": {
            "id": "01DEN4HPBQAAAG05V5QQYBRZMF",
            "event_type": event_type,
            "resource_type": resource_type,
            "occurred_at": "2026-11-25T03:12:07.169Z",
            "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV",
                      "self": "https://api.pagerduty.com/users/PLH1HKV", "summary": "Tenex Engineer",
                      "type": "user_reference"},
            "client": null,
            "data": data,
        }})
        .to_string()
    }

    #[test]
    fn reads_pagerduty_sample() {
        let V3Event::Incident(trigger) = parse(PRIORITY_UPDATED.as_bytes()).unwrap() else {
            panic!("expected an incident event");
        };
        assert_eq!(
            trigger.dedupe_id,
            "pagerduty-v3:5ac64822-4adc-4fda-ade0-410becf0de4f"
        );
        assert_eq!(trigger.event_type, "incident.priority_updated");
        let incident = trigger.incident.as_ref().unwrap();
        assert_eq!(incident.id, "PGR0VU2");
        assert_eq!(incident.number, Some(2));
        assert_eq!(incident.title, "A little bump in the road");
        assert_eq!(incident.service.as_ref().unwrap().name, "API Service");
        assert_eq!(incident.priority.as_deref(), Some("P1"));
        assert_eq!(incident.teams[0].name, "Engineering");
        assert_eq!(trigger.actor.as_ref().unwrap().name, "Tenex Engineer");
    }

    /// Every documented event type, with PagerDuty's own example of its data type: a full
    /// incident becomes a trigger, a workflow start becomes a workflow trigger, everything else is
    /// understood and not acted on. None is an error (which would be a 400).
    #[test]
    fn every_documented_event_type_is_understood() {
        let types = event_types();
        assert!(types.len() >= 30, "event-types.tsv lists {}", types.len());
        for (event_type, data_type) in types {
            let body = envelope(event_type, sample_data(data_type));
            let parsed = parse(body.as_bytes())
                .unwrap_or_else(|error| panic!("{event_type} ({data_type}): {error}"));
            match (data_type, parsed) {
                ("incident", V3Event::Incident(trigger)) => {
                    assert_eq!(trigger.event_type, event_type);
                    assert_eq!(trigger.incident_id(), Some("PGR0VU2"));
                }
                ("incident_workflow_instance", V3Event::WorkflowStarted(trigger)) => {
                    assert_eq!(event_type, WORKFLOW_STARTED);
                    let workflow = trigger.workflow.as_ref().unwrap();
                    assert_eq!(workflow.id, "PSFEVL7");
                    assert_eq!(workflow.name, "A Workflow Name");
                    assert_eq!(workflow.instance_id, "P3SNKQS");
                    assert_eq!(trigger.incident_id(), Some("PBAZLIU"));
                    assert_eq!(trigger.actor.as_ref().unwrap().id, "PLH1HKV");
                }
                (_, V3Event::NotActionable { reason, .. }) => {
                    assert_ne!(data_type, "incident", "{event_type}: {reason}");
                    assert!(
                        event_type != WORKFLOW_STARTED,
                        "{event_type} must start workflows: {reason}"
                    );
                    assert!(reason.contains(event_type), "{reason}");
                }
                (_, other) => panic!("{event_type} ({data_type}) parsed as {other:?}"),
            }
        }
    }

    #[test]
    fn a_note_is_not_an_incident() {
        let body = envelope("incident.annotated", sample_data("incident_note"));
        let V3Event::NotActionable { reason, .. } = parse(body.as_bytes()).unwrap() else {
            panic!("a note must not become a trigger");
        };
        assert!(reason.contains("incident_note"), "{reason}");
    }

    #[test]
    fn unknown_future_types_are_ignored_not_refused() {
        for (event_type, data) in [
            (
                "incident.something_new",
                serde_json::json!({"type": "incident_something", "id": "P1"}),
            ),
            ("incident.no_type", serde_json::json!({"id": "P1"})),
            ("incident.odd_data", serde_json::json!([1, 2, 3])),
            ("incident.null_data", serde_json::Value::Null),
            ("widget.created", serde_json::json!({"type": "widget"})),
            // A workflow instance in an event other than a start runs nothing.
            (
                "incident.workflow.completed",
                sample_data("incident_workflow_instance"),
            ),
            // Documented data types whose shapes changed: understood as not actionable.
            (
                "incident.triggered",
                serde_json::json!({"type": "incident", "id": "P1"}),
            ),
            (
                "incident.workflow.started",
                serde_json::json!({"type": "incident_workflow_instance"}),
            ),
        ] {
            let body = envelope(event_type, data);
            assert!(
                matches!(parse(body.as_bytes()), Ok(V3Event::NotActionable { .. })),
                "{event_type}: {:?}",
                parse(body.as_bytes())
            );
        }
    }

    #[test]
    fn a_workflow_started_by_no_person_runs_nothing() {
        for agent in [
            serde_json::Value::Null,
            serde_json::json!({"id": "PSVC1", "type": "service_reference", "summary": "API"}),
        ] {
            let mut body: serde_json::Value = serde_json::from_str(&envelope(
                WORKFLOW_STARTED,
                sample_data("incident_workflow_instance"),
            ))
            .unwrap();
            body["event"]["agent"] = agent;
            let parsed = parse(body.to_string().as_bytes()).unwrap();
            let V3Event::NotActionable { reason, .. } = parsed else {
                panic!("{parsed:?}");
            };
            assert!(reason.contains("not started by a person"), "{reason}");
        }
    }

    #[test]
    fn ping_and_other_resources_are_recognised() {
        let ping = r#"{"event":{"id":"1","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-01-01T00:00:00Z","data":{"message":"Hello from your friend Pagey!","type":"ping"}}}"#;
        assert!(matches!(parse(ping.as_bytes()), Ok(V3Event::Ping)));
        let service = include_str!("../../../../events/fixtures/v3-service.updated.json");
        assert!(matches!(
            parse(service.as_bytes()),
            Ok(V3Event::NotActionable { .. })
        ));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            "not json",
            "{}",
            r#"{"event":{"id":"1"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"yesterday"}}"#,
            r#"{"event":{"id":"1/../x","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-01-01T00:00:00Z"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"+262142-01-01T00:00:00Z"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"1970-01-01T00:00:00Z"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-01-01T00:00:00Z","data":{"type":"incident","id":"P/1","status":"triggered"}}}"#,
        ] {
            assert!(parse(body.as_bytes()).is_err(), "{body}");
        }
    }

    /// The body of an event whose `data` is exactly `data` (raw JSON text).
    fn envelope_with_raw_data(event_type: &str, data: &str) -> String {
        format!(
            r#"{{"event":{{"id":"01DEN4HPBQAAAG05V5QQYBRZMF","event_type":"{event_type}","resource_type":"incident","occurred_at":"2026-11-25T03:12:07.169Z","agent":{{"id":"PLH1HKV","type":"user_reference","summary":"Tenex Engineer"}},"data":{data}}}}}"#
        )
    }

    #[test]
    fn an_incident_is_read_in_one_pass_wherever_its_type_is() {
        let incident = sample_data("incident");
        let mut fields: Vec<(String, serde_json::Value)> =
            incident.as_object().unwrap().clone().into_iter().collect();
        // `type` first, last, and among the others.
        for position in [0, fields.len() / 2, fields.len() - 1] {
            let kind = fields.iter().position(|(key, _)| key == "type").unwrap();
            let entry = fields.remove(kind);
            fields.insert(position, entry);
            let data = format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(key, value)| format!("{}:{value}", serde_json::json!(key)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let body = envelope_with_raw_data("incident.triggered", &data);
            let Ok(V3Event::Incident(trigger)) = parse(body.as_bytes()) else {
                panic!("{data}");
            };
            assert_eq!(trigger.incident_id(), Some("PGR0VU2"));
            assert_eq!(trigger.actor.as_ref().unwrap().name, "Tenex Engineer");
        }
    }

    #[test]
    fn only_an_object_typed_incident_is_an_incident() {
        for (data, reason) in [
            // An array would fill a struct by position: never an incident.
            (
                r#"["incident","PGR0VU2",2,null,null,"t",null,"triggered"]"#,
                "no type",
            ),
            (
                r#"{"type":5,"id":"PGR0VU2","status":"triggered"}"#,
                "no type",
            ),
            (
                r#"{"type":null,"id":"PGR0VU2","status":"triggered"}"#,
                "no type",
            ),
            (
                r#"{"type":"incident_note","id":"PGR0VU2","status":"triggered"}"#,
                "incident_note",
            ),
            (
                r#"{"type":"incident","id":"PGR0VU2","status":"triggered","title":5}"#,
                "cannot read",
            ),
            (
                r#"{"type":"incident","type":"incident","id":"PGR0VU2","status":"triggered"}"#,
                "no type",
            ),
            (
                r#"{"type":"incident","id":"PGR0VU2","status":"triggered""#,
                "not a PagerDuty v3",
            ),
        ] {
            let body = envelope_with_raw_data("incident.triggered", data);
            match parse(body.as_bytes()) {
                Ok(V3Event::NotActionable { reason: why, .. }) => {
                    assert!(why.contains(reason), "{data}: {why}")
                }
                Err(error) => assert!(error.contains(reason), "{data}: {error}"),
                Ok(other) => panic!("{data}: {other:?}"),
            }
        }
        let spaced = envelope_with_raw_data(
            "incident.triggered",
            "  \n {\"type\" : \"incident\" , \"id\":\"PGR0VU2\",\"status\":\"triggered\"}",
        );
        assert!(matches!(parse(spaced.as_bytes()), Ok(V3Event::Incident(_))));
    }

    fn data_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            prop::sample::select(vec![
                "incident",
                "incident_note",
                "PGR0VU2",
                "P/1",
                "triggered",
                ""
            ])
            .prop_map(serde_json::Value::from),
        ];
        let key = prop::sample::select(vec![
            "type",
            "id",
            "status",
            "title",
            "summary",
            "number",
            "service",
            "teams",
            "priority",
            "urgency",
            "html_url",
            "incident_key",
            "incident",
            "incident_workflow",
            "x",
        ]);
        leaf.prop_recursive(3, 24, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::vec((key.clone(), inner), 0..8).prop_map(|entries| {
                    serde_json::Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]

        /// Whatever `data` holds, parsing never panics, a signed event is never refused for its
        /// data alone unless it names a bad incident id, and only `type: incident` is an incident.
        #[test]
        fn any_data_is_answered(data in data_value(), started in proptest::bool::ANY) {
            let event_type = if started { WORKFLOW_STARTED } else { "incident.triggered" };
            let body = envelope(event_type, data.clone());
            match parse(body.as_bytes()) {
                Ok(V3Event::Incident(trigger)) => {
                    proptest::prop_assert_eq!(&data["type"], "incident");
                    proptest::prop_assert!(is_pagerduty_id(trigger.incident_id().unwrap()));
                }
                Ok(V3Event::WorkflowStarted(_)) => {
                    proptest::prop_assert_eq!(&data["type"], WORKFLOW_INSTANCE_DATA);
                }
                Ok(V3Event::NotActionable { .. }) => {}
                Ok(V3Event::Ping) => proptest::prop_assert!(false, "not a ping"),
                Err(error) => proptest::prop_assert!(error.contains("is not a PagerDuty id"), "{error}"),
            }
        }
    }
}
