//! The one error type of the core, which every port returns.
//!
//! Every error has a [`Kind`]: whether a retry can help, whether the request may have been
//! carried out anyway, or whether our own deployment is at fault. The pipeline decides on the
//! kind alone (answer 5xx so the sender retries, hold a claim, or record and answer 2xx); the
//! adapters decide the kind from what the foreign service said (its typed error codes, its
//! HTTP status), never from message text.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A setting in the environment is missing or wrong. Fails the cold start.
    #[error("configuration: {name}: {reason}")]
    Config { name: &'static str, reason: String },

    /// The runbook catalog does not load; each problem names its line.
    #[error("catalog {source_name} is invalid:\n{}", problems.join("\n"))]
    Catalog {
        source_name: String,
        problems: Vec<String>,
    },

    /// A call to an AWS service failed.
    #[error("{service} {operation} failed: {message}")]
    Aws {
        service: &'static str,
        operation: &'static str,
        message: String,
        transient: bool,
    },

    /// A call to PagerDuty's REST API failed (after the retries the time budget allowed).
    #[error("PagerDuty {operation} failed: {message}")]
    PagerDuty {
        operation: &'static str,
        status: Option<u16>,
        message: String,
        transient: bool,
    },

    /// A call to Rundeck's API failed: its HTTP status and Rundeck's `errorCode`, when it
    /// answered, and what they mean. A refusal (a bad token, no such job, invalid options, a job
    /// already running that allows no concurrent run) is permanent; throttling, a 5xx and a
    /// connection never made are transient.
    #[error("Rundeck {operation} failed: {message}")]
    Rundeck {
        operation: &'static str,
        status: Option<u16>,
        error_code: Option<String>,
        message: String,
        transient: bool,
    },

    /// A secret parameter exists but holds nothing usable.
    #[error("secret parameter {parameter} is empty or malformed")]
    SecretMalformed { parameter: String },

    /// A secret parameter cannot be read for a reason a retry will not change (it does not
    /// exist, or the function may not read it): the deployment is at fault.
    #[error("secret parameter {parameter} is unreadable: {message}")]
    SecretUnreadable { parameter: String, message: String },

    /// A claim was taken over by another delivery before this one recorded its outcome.
    #[error("the claim on {dedupe_id} was taken over before it completed")]
    ClaimLost { dedupe_id: crate::ids::DedupeId },

    /// A call whose request may have reached the service although no answer came back (a
    /// timeout, a broken connection, a 5xx): whatever it asked for may have happened.
    #[error(
        "{service} {operation}: no answer, and the request may have been carried out: {message}"
    )]
    Ambiguous {
        service: &'static str,
        operation: &'static str,
        message: String,
    },

    /// What a retry needs has not happened yet: a run's start not yet recorded in the ledger
    /// while its executor already reports its end, an executor that does not yet say what its
    /// event said, another delivery still finishing the same run.
    #[error("not yet: {what}")]
    NotYet { what: String },

    /// The time budget for answering the sender ran out before the work was done.
    #[error("{operation} did not finish within the {budget:?} budget")]
    DeadlineExceeded {
        operation: &'static str,
        budget: Duration,
    },
}

/// What an error means for the request that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing was done and a later retry can succeed (throttling, a timeout before sending).
    Transient,
    /// No answer came back, and the request may have been carried out.
    Ambiguous,
    /// Our own credentials or configuration failed (a revoked PagerDuty key, an unreadable
    /// secret): fixing them makes a retry succeed, so nothing is refused for good.
    DeploymentFault,
    /// The service said no, and will say no again.
    Permanent,
}

impl Error {
    pub fn kind(&self) -> Kind {
        match self {
            Error::Ambiguous { .. } => Kind::Ambiguous,
            Error::DeadlineExceeded { .. } | Error::NotYet { .. } => Kind::Transient,
            Error::Aws {
                transient: true, ..
            }
            | Error::PagerDuty {
                transient: true, ..
            }
            | Error::Rundeck {
                transient: true, ..
            } => Kind::Transient,
            Error::PagerDuty {
                status: Some(401 | 403),
                ..
            }
            | Error::Config { .. }
            | Error::SecretMalformed { .. }
            | Error::SecretUnreadable { .. } => Kind::DeploymentFault,
            Error::Aws { .. }
            | Error::PagerDuty { .. }
            | Error::Rundeck { .. }
            | Error::Catalog { .. }
            | Error::ClaimLost { .. } => Kind::Permanent,
        }
    }

    /// Whether retrying the same request later can succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind(), Kind::Transient | Kind::Ambiguous)
    }

    /// Whether a retry is worth asking for: the failure passes, or a fixed deployment ends it.
    pub fn is_retryable(&self) -> bool {
        self.kind() != Kind::Permanent
    }

    pub fn config(name: &'static str, reason: impl Into<String>) -> Self {
        Error::Config {
            name,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind decides between retrying, holding a claim and refusing for good: every variant
    /// lands where the pipeline expects it.
    #[test]
    fn every_error_has_the_kind_the_pipeline_acts_on() {
        let aws = |transient| Error::Aws {
            service: "ssm",
            operation: "GetParameter",
            message: "x".into(),
            transient,
        };
        let pagerduty = |status, transient| Error::PagerDuty {
            operation: "GetIncident",
            status,
            message: "x".into(),
            transient,
        };
        let rundeck = |status, transient| Error::Rundeck {
            operation: "RunJob",
            status,
            error_code: None,
            message: "x".into(),
            transient,
        };
        let cases = [
            (aws(true), Kind::Transient),
            (aws(false), Kind::Permanent),
            (pagerduty(Some(503), true), Kind::Transient),
            (pagerduty(Some(401), false), Kind::DeploymentFault),
            (pagerduty(Some(403), false), Kind::DeploymentFault),
            (pagerduty(Some(404), false), Kind::Permanent),
            (pagerduty(None, false), Kind::Permanent),
            (Error::config("X", "y"), Kind::DeploymentFault),
            (rundeck(Some(429), true), Kind::Transient),
            (rundeck(Some(503), true), Kind::Transient),
            (rundeck(None, true), Kind::Transient),
            // Rundeck's refusals are told to people, not retried: see the executor's table.
            (rundeck(Some(403), false), Kind::Permanent),
            (rundeck(Some(409), false), Kind::Permanent),
            (
                Error::SecretMalformed {
                    parameter: "/p".into(),
                },
                Kind::DeploymentFault,
            ),
            (
                Error::SecretUnreadable {
                    parameter: "/p".into(),
                    message: "ParameterNotFound".into(),
                },
                Kind::DeploymentFault,
            ),
            (
                Error::Ambiguous {
                    service: "ssm",
                    operation: "SendCommand",
                    message: "timeout".into(),
                },
                Kind::Ambiguous,
            ),
            (
                Error::DeadlineExceeded {
                    operation: "CreateNote",
                    budget: Duration::from_secs(1),
                },
                Kind::Transient,
            ),
            (
                Error::ClaimLost {
                    dedupe_id: "t".into(),
                },
                Kind::Permanent,
            ),
            (
                Error::Catalog {
                    source_name: "c".into(),
                    problems: vec![],
                },
                Kind::Permanent,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
            assert_eq!(
                error.is_transient(),
                matches!(kind, Kind::Transient | Kind::Ambiguous),
                "{error}"
            );
            assert_eq!(error.is_retryable(), kind != Kind::Permanent, "{error}");
        }
    }
}
