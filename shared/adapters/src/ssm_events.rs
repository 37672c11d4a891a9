//! SSM's own status-change events (EventBridge, source `aws.ssm`), read into the core's
//! [`Completion`]: the hint that a run may have ended.
//!
//! | detail-type | handle | status | times |
//! |---|---|---|---|
//! | `EC2 Command Status-change Notification` | `command-id` | `status` (Pending, InProgress, Success, Cancelled, Failed, TimedOut, Cancelling) | `requested-date-time` (RFC 3339) |
//! | `EC2 Automation Execution Status-change Notification` | `ExecutionId` | `Status` (Automation's words: Success, Failed, TimedOut, Cancelled, CompletedWithSuccess, ...) | `StartTime`, `EndTime` as `Nov 29, 2016 7:43:20 PM` (UTC) |
//!
//! Per-instance (`EC2 Command Invocation ...`) and per-step (`EC2 Automation Step ...`) events are
//! not read: a run ends when its command or execution does, and the ending reads every instance
//! from SSM itself. Statuses that are not final are reported as such and acted on by nobody.

use crate::executors::ssm_results::{automation_state, command_state};
use aws_sdk_ssm::types::{AutomationExecutionStatus, CommandStatus};
use chrono::{DateTime, NaiveDateTime, Utc};
use remediate_core::clock::is_plausible;
use remediate_core::finish::{Completion, ExecutorKind, FinalState};
use serde::Deserialize;

pub const COMMAND_STATUS_CHANGE: &str = "EC2 Command Status-change Notification";
pub const AUTOMATION_STATUS_CHANGE: &str = "EC2 Automation Execution Status-change Notification";

/// One status event, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    pub completion: Completion,
    /// The end state the event's status means, or None for a status that is not final.
    pub final_state: Option<FinalState>,
}

/// Why an event is not one this function acts on. Answered `ignored`: delivering it again
/// would not change that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAStatusEvent {
    #[error("not an EventBridge event: {0}")]
    WrongShape(String),
    #[error("{event_source} {detail_type:?} is not an SSM command or automation status change")]
    OtherEvent {
        event_source: String,
        detail_type: String,
    },
    #[error("the status event is invalid: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Envelope {
    id: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    source: Option<String>,
    time: Option<String>,
    detail: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommandDetail {
    #[serde(rename = "command-id")]
    command_id: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AutomationDetail {
    execution_id: Option<String>,
    status: Option<String>,
    end_time: Option<String>,
}

/// Read an EventBridge event (the Lambda's whole input).
pub fn read_status_event(value: &serde_json::Value) -> Result<StatusEvent, NotAStatusEvent> {
    let envelope = Envelope::deserialize(value)
        .map_err(|error| NotAStatusEvent::WrongShape(error.to_string()))?;
    let (Some(source), Some(detail_type)) = (envelope.source, envelope.detail_type) else {
        return Err(NotAStatusEvent::WrongShape(
            "no source and detail-type".to_owned(),
        ));
    };
    if source != "aws.ssm"
        || (detail_type != COMMAND_STATUS_CHANGE && detail_type != AUTOMATION_STATUS_CHANGE)
    {
        return Err(NotAStatusEvent::OtherEvent {
            event_source: source,
            detail_type,
        });
    }
    let event_id = envelope
        .id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| NotAStatusEvent::Invalid("id is absent or blank".to_owned()))?;
    let time = envelope
        .time
        .as_deref()
        .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok())
        .map(|time| time.with_timezone(&Utc))
        .filter(|time| is_plausible(*time))
        .ok_or_else(|| NotAStatusEvent::Invalid("time is absent or not RFC 3339".to_owned()))?;
    let detail = envelope
        .detail
        .ok_or_else(|| NotAStatusEvent::Invalid("detail is absent".to_owned()))?;
    let invalid = |error: serde_json::Error| NotAStatusEvent::Invalid(error.to_string());
    if detail_type == COMMAND_STATUS_CHANGE {
        let detail = CommandDetail::deserialize(&detail).map_err(invalid)?;
        let handle = handle(detail.command_id.as_deref(), "command-id")?;
        let status = required(detail.status.as_deref(), "status")?;
        Ok(StatusEvent {
            final_state: command_state(&CommandStatus::from(status.as_str())),
            completion: Completion {
                executor: ExecutorKind::SsmCommand,
                handle: handle.into(),
                reported_status: status,
                event_id,
                event_time: time,
            },
        })
    } else {
        let detail = AutomationDetail::deserialize(&detail).map_err(invalid)?;
        let handle = handle(detail.execution_id.as_deref(), "ExecutionId")?;
        let status = required(detail.status.as_deref(), "Status")?;
        // The end time, when the event's odd format reads, is when the run ended; the
        // envelope's time is when the event was sent.
        let ended = detail.end_time.as_deref().and_then(automation_time);
        Ok(StatusEvent {
            final_state: automation_state(&AutomationExecutionStatus::from(status.as_str())),
            completion: Completion {
                executor: ExecutorKind::SsmAutomation,
                handle: handle.into(),
                reported_status: status,
                event_id,
                event_time: ended.unwrap_or(time),
            },
        })
    }
}

fn required(text: Option<&str>, field: &str) -> Result<String, NotAStatusEvent> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| NotAStatusEvent::Invalid(format!("{field} is absent or blank")))
}

/// SSM's command and execution ids are UUIDs; anything else is not a run of SSM's.
fn handle(text: Option<&str>, field: &str) -> Result<String, NotAStatusEvent> {
    let text = required(text, field)?;
    let is_uuid = text.len() == 36
        && text.chars().enumerate().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if is_uuid {
        Ok(text)
    } else {
        Err(NotAStatusEvent::Invalid(format!(
            "{field} {:?} is not an SSM id",
            text.chars().take(64).collect::<String>()
        )))
    }
}

/// Automation's event times: `Nov 29, 2016 7:43:20 PM`, in UTC. Newer Java runtimes put a
/// narrow no-break space before `PM`; any run of spaces is read as one.
pub fn automation_time(text: &str) -> Option<DateTime<Utc>> {
    let normalised = text
        .split(|c: char| c.is_whitespace() || c == '\u{202f}' || c == '\u{a0}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    NaiveDateTime::parse_from_str(&normalised, "%b %d, %Y %I:%M:%S %p")
        .ok()
        .map(|naive| naive.and_utc())
        .filter(|time| is_plausible(*time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn command_event(status: &str) -> serde_json::Value {
        json!({
            "version": "0",
            "id": "51c0891d-0e34-45b1-83d6-95db273d1602",
            "detail-type": "EC2 Command Status-change Notification",
            "source": "aws.ssm",
            "account": "123456789012",
            "time": "2016-07-10T21:51:32Z",
            "region": "us-east-2",
            "resources": ["arn:aws:ec2:us-east-2:123456789012:instance/i-abcd1111"],
            "detail": {
                "command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
                "document-name": "AWS-RunPowerShellScript",
                "expire-after": "2016-07-14T22:01:30.049Z",
                "parameters": {"executionTimeout": ["3600"], "commands": ["date"]},
                "requested-date-time": "2016-07-10T21:51:30.049Z",
                "status": status
            }
        })
    }

    #[test]
    fn automation_times_read_in_every_form_aws_writes_them() {
        let expected = DateTime::parse_from_rfc3339("2016-11-29T19:43:20Z")
            .map(|time| time.with_timezone(&Utc))
            .ok();
        assert_eq!(automation_time("Nov 29, 2016 7:43:20 PM"), expected);
        assert_eq!(automation_time("Nov 29, 2016 7:43:20\u{202f}PM"), expected);
        assert_eq!(automation_time("Nov 29, 2016 07:43:20 PM"), expected);
        assert_eq!(
            automation_time("Dec 1, 2026 12:05:00 AM").map(|time| time.to_rfc3339()),
            Some("2026-12-01T00:05:00+00:00".to_owned())
        );
        assert_eq!(automation_time("2016-11-29T19:43:20Z"), None);
        assert_eq!(automation_time(""), None);
    }

    #[test]
    fn a_final_command_status_is_a_completion() {
        let event = read_status_event(&command_event("Success")).expect("an event");
        assert_eq!(event.final_state, Some(FinalState::Succeeded));
        assert_eq!(event.completion.executor, ExecutorKind::SsmCommand);
        assert_eq!(
            event.completion.handle.as_str(),
            "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b"
        );
        assert_eq!(event.completion.reported_status, "Success");
        for (status, state) in [
            ("Failed", Some(FinalState::Failed)),
            ("TimedOut", Some(FinalState::TimedOut)),
            ("Cancelled", Some(FinalState::Cancelled)),
            ("InProgress", None),
            ("Pending", None),
            ("SomethingNew", None),
        ] {
            let event = read_status_event(&command_event(status)).expect("an event");
            assert_eq!(event.final_state, state, "{status}");
        }
    }

    #[test]
    fn other_events_and_broken_ones_are_told_apart() {
        let mut invocation = command_event("Success");
        invocation["detail-type"] = json!("EC2 Command Invocation Status-change Notification");
        assert!(matches!(
            read_status_event(&invocation),
            Err(NotAStatusEvent::OtherEvent { .. })
        ));
        assert!(matches!(
            read_status_event(&json!({"Records": []})),
            Err(NotAStatusEvent::WrongShape(_))
        ));
        assert!(matches!(
            read_status_event(&json!("text")),
            Err(NotAStatusEvent::WrongShape(_))
        ));
        let mut foreign_source = command_event("Success");
        foreign_source["source"] = json!("my.app");
        assert!(matches!(
            read_status_event(&foreign_source),
            Err(NotAStatusEvent::OtherEvent { .. })
        ));
        for (pointer, value) in [
            ("/detail/command-id", json!("../../etc")),
            ("/detail/command-id", json!(null)),
            ("/detail/status", json!("")),
            ("/detail/status", json!(7)),
            ("/time", json!("Jul 10, 2016")),
            ("/id", json!(" ")),
            ("/detail", json!(null)),
        ] {
            let mut broken = command_event("Success");
            if let Some(slot) = broken.pointer_mut(pointer) {
                *slot = value.clone();
            }
            assert!(
                matches!(read_status_event(&broken), Err(NotAStatusEvent::Invalid(_))),
                "{pointer} = {value}"
            );
        }
    }

    #[test]
    fn an_automation_event_carries_its_end_time() {
        let event = json!({
            "version": "0",
            "id": "d290ece9-1088-4383-9df6-cd5b4ac42b99",
            "detail-type": "EC2 Automation Execution Status-change Notification",
            "source": "aws.ssm",
            "account": "123456789012",
            "time": "2016-11-29T19:43:35Z",
            "region": "us-east-2",
            "resources": [],
            "detail": {
                "ExecutionId": "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
                "Definition": "runcommand1",
                "DefinitionVersion": 1.0,
                "Status": "CompletedWithFailure",
                "StartTime": "Nov 29, 2016 7:43:20 PM",
                "EndTime": "Nov 29, 2016 7:43:26 PM",
                "Time": 5753.0,
                "ExecutedBy": "arn:aws:iam::123456789012:user/userName"
            }
        });
        let read = read_status_event(&event).expect("an event");
        assert_eq!(read.final_state, Some(FinalState::Failed));
        assert_eq!(read.completion.executor, ExecutorKind::SsmAutomation);
        assert_eq!(
            read.completion.event_time.to_rfc3339(),
            "2016-11-29T19:43:26+00:00"
        );
    }
}
