//! Secrets from SSM Parameter Store (SecureString), read once per container and refreshed on a
//! TTL.

use crate::aws::from_sdk;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use remediate_core::clock::{Clock, SystemClock};
use remediate_core::secrets::{Secret, SecretStore};
use remediate_core::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a secret read from Parameter Store is used before it is read again. Rotation takes
/// effect within this time; each read costs a little latency and a Parameter Store call.
pub const DEFAULT_SECRET_TTL: Duration = Duration::from_secs(300);
/// A failed read is answered from memory for this long: a flood of requests (forged ones cost
/// nothing to send) must not become a flood of Parameter Store calls, whose rate is shared by
/// the whole account.
pub const FAILED_READ_TTL: Duration = Duration::from_secs(5);
/// [`SecretStore::reread`] reads a parameter again at most this often.
pub const MIN_REREAD_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Entry {
    /// The last good value and when it was read.
    value: Option<(Secret, DateTime<Utc>)>,
    /// The last read attempt, and its error if it failed.
    attempted_at: Option<DateTime<Utc>>,
    failure: Option<Error>,
}

/// Parameter Store, with a per-container cache.
pub struct ParameterStoreSecrets {
    client: aws_sdk_ssm::Client,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, Entry>>,
}

fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>, limit: Duration) -> bool {
    // A clock that went backwards counts as "not elapsed"; an unrepresentable limit as "never".
    chrono::Duration::from_std(limit).is_ok_and(|limit| now.signed_duration_since(since) >= limit)
}

impl ParameterStoreSecrets {
    pub fn new(client: aws_sdk_ssm::Client, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            clock: Arc::new(SystemClock),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Time from `clock` instead of the system's (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn fetch(&self, parameter: &str) -> Result<Secret> {
        let output = self
            .client
            .get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| match from_sdk("ssm", "GetParameter", error) {
                // Not found, access denied, a key that cannot decrypt: the deployment is at
                // fault, and no retry will change that until someone fixes it.
                error if !error.is_transient() => Error::SecretUnreadable {
                    parameter: parameter.to_owned(),
                    message: error.to_string(),
                },
                error => error,
            })?;
        let value = output
            .parameter
            .and_then(|parameter| parameter.value)
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| Error::SecretMalformed {
                parameter: parameter.to_owned(),
            })?;
        Ok(Secret::new(value))
    }

    /// Read the parameter and remember the result. A permanent failure (not found, access
    /// denied, empty) drops the cached value: a secret that was deleted or revoked must stop
    /// authenticating requests. A transient failure keeps it (a Parameter Store hiccup must not
    /// turn into rejected webhooks).
    async fn read(&self, parameter: &str) -> Result<Secret> {
        let result = self.fetch(parameter).await;
        let now = self.clock.now();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let entry = cache.entry(parameter.to_owned()).or_default();
        entry.attempted_at = Some(now);
        match result {
            Ok(secret) => {
                entry.value = Some((secret.clone(), now));
                entry.failure = None;
                Ok(secret)
            }
            Err(error) => {
                if !error.is_transient() {
                    entry.value = None;
                }
                entry.failure = Some(error.clone());
                match &entry.value {
                    Some((secret, _)) => {
                        tracing::warn!(parameter, %error, "secret refresh failed; using the cached value");
                        Ok(secret.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }
}

#[async_trait]
impl SecretStore for ParameterStoreSecrets {
    async fn get(&self, parameter: &str) -> Result<Secret> {
        {
            let now = self.clock.now();
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(entry) = cache.get(parameter) {
                match (&entry.value, &entry.failure, entry.attempted_at) {
                    (Some((secret, read_at)), None, _) if !elapsed(*read_at, now, self.ttl) => {
                        return Ok(secret.clone());
                    }
                    // Failed a moment ago: answer as then, without calling again.
                    (value, Some(error), Some(at)) if !elapsed(at, now, FAILED_READ_TTL) => {
                        return match value {
                            Some((secret, _)) => Ok(secret.clone()),
                            None => Err(error.clone()),
                        };
                    }
                    _ => {}
                }
            }
        }
        self.read(parameter).await
    }

    async fn reread(&self, parameter: &str) -> Result<Option<Secret>> {
        {
            let now = self.clock.now();
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(at) = cache.get(parameter).and_then(|entry| entry.attempted_at)
                && !elapsed(at, now, MIN_REREAD_INTERVAL)
            {
                return Ok(None);
            }
        }
        self.read(parameter).await.map(Some)
    }
}
