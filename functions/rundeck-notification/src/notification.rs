//! What a request passes before the finisher sees it: the secret in its path (constant time,
//! before the body is read), then the notification's body.
//!
//! Rundeck's webhook notification (docs.rundeck.com, "Webhooks" notification plugin, with the
//! JSON payload format; `NotificationService.createJsonNotificationPayload` in Rundeck's source)
//! is `{"trigger": "success", "status": "succeeded", "executionId": 24873, "execution": {..}}`,
//! the execution rendered as the API's "Execution Info". Only the execution id, the status and the
//! trigger are read here: the execution's real state comes from Rundeck's API.

use chrono::{DateTime, Utc};
use remediate_core::secrets::Secret;
use serde_json::Value;
use subtle::ConstantTimeEq;

/// Where notifications are posted: `/notify/<secret>`.
pub const NOTIFY_PREFIX: &str = "/notify/";
/// Secrets shorter than this are not secrets anyone generated: such lines never match.
pub const MIN_SECRET_LEN: usize = 16;

/// The answer of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    Valid,
    /// No usable line of the parameter matches; `unusable` lines could never match (too short).
    Mismatch {
        unusable: usize,
    },
}

/// The secret a request's path presents, if the path is `/notify/<secret>`.
pub fn presented_secret(path: &str) -> Option<&str> {
    path.strip_prefix(NOTIFY_PREFIX)
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|secret| !secret.is_empty())
}

/// Whether `presented` is one of `secrets` (one per line: rotation), compared in constant time
/// with every usable line.
pub fn verify(presented: &str, secrets: &[Secret]) -> SecretCheck {
    let mut matched = subtle::Choice::from(0u8);
    let mut unusable = 0;
    for secret in secrets {
        let secret = secret.expose().trim();
        if secret.len() < MIN_SECRET_LEN {
            unusable += 1;
            continue;
        }
        matched |= secret.as_bytes().ct_eq(presented.as_bytes());
    }
    if bool::from(matched) {
        SecretCheck::Valid
    } else {
        SecretCheck::Mismatch { unusable }
    }
}

/// What a notification says: a hint that an execution may have ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub execution_id: u64,
    /// Rundeck's word for the execution's state when it sent this ("succeeded", "running").
    pub status: Option<String>,
    /// "success", "failure", "start", "avgduration", "retryablefailure".
    pub trigger: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// A status that says the execution has not ended (the start and average-duration triggers):
    /// there is nothing to ask Rundeck yet.
    pub fn not_final(&self) -> bool {
        matches!(
            self.status.as_deref(),
            Some("running" | "scheduled" | "queued")
        )
    }
}

const NOT_A_NOTIFICATION: &str =
    "not a Rundeck job notification: the webhook's payload format must be JSON";

fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if text.len() <= 20 => text.parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

fn short_text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(|text| text.chars().take(64).collect::<String>())
        .filter(|text| !text.trim().is_empty())
}

/// The end time as the execution gives it: `date-ended` (`unixtime` in ms, else `date`) in the
/// API's form, `dateEndedUnixtime` in the form notification plugins receive.
fn ended_at(execution: Option<&Value>) -> Option<DateTime<Utc>> {
    let execution = execution?;
    let ended = execution.get("date-ended");
    ended
        .and_then(|ended| ended.get("unixtime"))
        .or_else(|| execution.get("dateEndedUnixtime"))
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
        .or_else(|| {
            ended
                .and_then(|ended| ended.get("date"))
                .and_then(Value::as_str)
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|at| at.with_timezone(&Utc))
        })
}

/// Read a notification's body (after its secret was checked). The error says why it is none.
pub fn read(body: &[u8]) -> Result<Notification, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| NOT_A_NOTIFICATION.to_owned())?;
    let Value::Object(map) = &value else {
        return Err(NOT_A_NOTIFICATION.to_owned());
    };
    let execution = map
        .get("execution")
        .filter(|execution| execution.is_object());
    let top = map.get("executionId").map(id_of);
    let inner = execution
        .and_then(|execution| execution.get("id"))
        .map(id_of);
    let execution_id = match (top, inner) {
        (Some(Some(top)), Some(Some(inner))) if top != inner => {
            return Err(format!(
                "the notification names two executions ({top} and {inner})"
            ));
        }
        (Some(Some(id)), _) | (None, Some(Some(id))) => id,
        (Some(None), _) | (None, Some(None)) => {
            return Err("the execution id is not a positive number".to_owned());
        }
        (None, None) => return Err(format!("{NOT_A_NOTIFICATION} (no executionId)")),
    };
    Ok(Notification {
        execution_id,
        status: short_text(map.get("status"))
            .or_else(|| short_text(execution.and_then(|execution| execution.get("status")))),
        trigger: short_text(map.get("trigger")),
        ended_at: ended_at(execution),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_secret_is_the_path_segment_after_notify() {
        assert_eq!(presented_secret(&format!("/notify/{SECRET}")), Some(SECRET));
        assert_eq!(
            presented_secret(&format!("/notify/{SECRET}/")),
            Some(SECRET)
        );
        assert_eq!(presented_secret("/notify/"), None);
        assert_eq!(presented_secret("/notify"), None);
        assert_eq!(presented_secret(&format!("/{SECRET}")), None);
    }

    #[test]
    fn only_a_usable_line_of_the_parameter_matches() {
        let lines = Secret::new(format!("short\n{SECRET}\n")).lines();
        assert_eq!(verify(SECRET, &lines), SecretCheck::Valid);
        assert_eq!(
            verify("short", &lines),
            SecretCheck::Mismatch { unusable: 1 }
        );
        assert_eq!(
            verify(&SECRET[1..], &lines),
            SecretCheck::Mismatch { unusable: 1 }
        );
    }

    #[test]
    fn the_execution_id_status_and_end_are_read_in_either_form() {
        let notification = read(
            json!({
                "trigger": "failure", "status": "failed", "executionId": 391,
                "execution": { "id": 391, "date-ended": { "date": "2015-05-13T16:59:06Z" } }
            })
            .to_string()
            .as_bytes(),
        )
        .expect("a notification");
        assert_eq!(notification.execution_id, 391);
        assert_eq!(notification.status.as_deref(), Some("failed"));
        assert_eq!(notification.trigger.as_deref(), Some("failure"));
        assert_eq!(
            notification.ended_at.map(|at| at.timestamp()),
            Some(1_431_536_346)
        );
        let plugin_form =
            read(br#"{"execution": {"id": "12", "status": "running", "dateEndedUnixtime": 1000}}"#)
                .expect("a notification");
        assert_eq!(plugin_form.execution_id, 12);
        assert!(plugin_form.not_final());
        assert_eq!(plugin_form.ended_at.map(|at| at.timestamp()), Some(1));
    }

    #[test]
    fn bodies_that_are_not_notifications_say_why() {
        for (body, why) in [
            (&b"<notification trigger=\"success\"/>"[..], "JSON"),
            (b"[1]", "JSON"),
            (b"{}", "no executionId"),
            (br#"{"executionId": -3}"#, "positive"),
            (br#"{"executionId": "x"}"#, "positive"),
            (
                br#"{"executionId": 1, "execution": {"id": 2}}"#,
                "two executions",
            ),
        ] {
            let error = read(body).expect_err("not a notification");
            assert!(error.contains(why), "{error}");
        }
    }
}
