//! An SSM Run Command executor that records every request and answers from a script.

use crate::Error;
use crate::Result;
use crate::plan::{AutomationRequest, CommandRequest};
use crate::ports::executor::{
    AutomationExecutor, CommandExecutor, ResolvedTags, StartedAutomation, StartedCommand,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An automation start as recorded: the request and its tags.
pub type AutomationStart = (AutomationRequest, Vec<(String, String)>);

/// Records every request and answers from a script: for unit tests of the handlers.
#[derive(Default)]
pub struct RecordingExecutor {
    pub sent: Mutex<Vec<CommandRequest>>,
    /// Automations started, with their tags. Like SSM, a second start with the same client
    /// token returns the first execution instead of starting another.
    pub automations: Mutex<Vec<AutomationStart>>,
    failures: Mutex<Vec<Error>>,
    /// The next send reaches "SSM" (it is recorded) but its answer is lost: this error comes back.
    lost_answer: Mutex<Option<Error>>,
    /// Managed instances and their tags, for tag resolution.
    instances: Mutex<Vec<(String, BTreeMap<String, String>)>>,
}

impl RecordingExecutor {
    /// The next calls fail with these errors, in order, before calls succeed again.
    pub fn fail_next(&self, errors: Vec<Error>) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *failures = errors.into_iter().rev().collect();
    }

    /// The next call is sent, but the caller sees this error (a timeout after SSM got it).
    pub fn lose_next_answer(&self, error: Error) {
        *self
            .lost_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error);
    }

    /// A managed, online instance carrying these tags.
    /// The instance is gone (terminated, or its tag removed).
    pub fn remove_instance(&self, id: &str) {
        self.instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|(instance, _)| instance != id);
    }

    pub fn add_instance(&self, id: &str, tags: &[(&str, &str)]) {
        self.instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((
                id.to_owned(),
                tags.iter()
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                    .collect(),
            ));
    }

    pub fn sent(&self) -> Vec<CommandRequest> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[async_trait]
impl CommandExecutor for RecordingExecutor {
    async fn send_command(&self, request: &CommandRequest) -> Result<StartedCommand> {
        if let Some(error) = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
        {
            return Err(error);
        }
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sent.push(request.clone());
        if let Some(error) = self
            .lost_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
        {
            return Err(error);
        }
        Ok(StartedCommand {
            command_id: recorded_command_id(sent.len()).into(),
            target_count: Some(1),
        })
    }

    async fn find_command(
        &self,
        wanted: &CommandRequest,
        _sent_after: DateTime<Utc>,
    ) -> Result<Option<StartedCommand>> {
        let sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(sent
            .iter()
            .position(|request| {
                request.comment == wanted.comment && request.document == wanted.document
            })
            .map(|index| StartedCommand {
                command_id: recorded_command_id(index + 1).into(),
                target_count: Some(1),
            }))
    }

    async fn resolve_tags(&self, tags: &BTreeMap<String, Vec<String>>) -> Result<ResolvedTags> {
        let instances = self
            .instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(ResolvedTags {
            instance_ids: instances
                .iter()
                .filter(|(_, carried)| {
                    tags.iter().all(|(key, values)| {
                        carried.get(key).is_some_and(|value| values.contains(value))
                    })
                })
                .map(|(id, _)| id.clone())
                .collect(),
            truncated: false,
        })
    }
}

fn recorded_command_id(sequence: usize) -> String {
    format!("00000000-0000-4000-8000-{sequence:012}")
}

impl RecordingExecutor {
    pub fn automations(&self) -> Vec<AutomationStart> {
        self.automations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn next_failure(&self) -> Option<Error> {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
    }
}

#[async_trait]
impl AutomationExecutor for RecordingExecutor {
    async fn start_automation(
        &self,
        request: &AutomationRequest,
        tags: &[(String, String)],
    ) -> Result<StartedAutomation> {
        if let Some(error) = self.next_failure() {
            return Err(error);
        }
        let mut automations = self
            .automations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let execution_id = |token: &str| format!("auto-{token}").into();
        if let Some((first, _)) = automations
            .iter()
            .find(|(started, _)| started.client_token == request.client_token)
        {
            if first != request {
                return Err(Error::Aws {
                    service: "ssm",
                    operation: "StartAutomationExecution",
                    message: "IdempotentParameterMismatch: the client token was used with other parameters".to_owned(),
                    transient: false,
                });
            }
            return Ok(StartedAutomation {
                execution_id: execution_id(&request.client_token),
            });
        }
        automations.push((request.clone(), tags.to_vec()));
        Ok(StartedAutomation {
            execution_id: execution_id(&request.client_token),
        })
    }
}
