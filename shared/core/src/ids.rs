//! Typed ids: a dedupe id, a run id and an executor's handle are all strings on the wire, but
//! never interchangeable in the code. A function that wants a `RunId` cannot be given a trigger's
//! id by mistake; reading one as text (`&str`, through `Deref`) is always possible.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id! {
    /// What makes redeliveries of one event the same trigger: the signed v3 `event.id`, a Custom
    /// Incident Action's message id, an SNS `MessageId`. The ledger claims it.
    DedupeId
}

string_id! {
    /// One run of one runbook for one trigger: a UUID v5 of the two, so every delivery of the
    /// trigger computes the same id.
    RunId
}

string_id! {
    /// The executor's own id for a run (an SSM command or automation execution id, or
    /// `rundeck:<execution id>`): how its completion events and a takeover's search find the run
    /// again.
    Handle
}
