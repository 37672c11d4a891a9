//! Secrets from SSM Parameter Store (SecureString), read once per container and refreshed on a
//! TTL. Never from plain environment values, never logged: [`Secret`]'s `Debug` hides the value.

use crate::clock::{Clock, SystemClock};
use crate::ssm::classify_sdk_error;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;
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

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to the value: callers that need it say so.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A parameter that holds several secrets, one per line (rotation): blank lines and
    /// surrounding spaces are dropped.
    pub fn lines(&self) -> Vec<Secret> {
        self.0
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(Secret::new)
            .collect()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, parameter: &str) -> Result<Secret>;

    /// Read the parameter again now, unless it was read (or tried) within the last
    /// [`MIN_REREAD_INTERVAL`]: `Some` with the fresh value, `None` when it is too soon. For a
    /// credential that matches nothing cached: the secret may have been rotated by overwriting
    /// it, and a re-read spares the sender a 403 until the TTL runs out.
    async fn reread(&self, _parameter: &str) -> Result<Option<Secret>> {
        Ok(None)
    }
}

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
            .map_err(|error| classify_sdk_error("GetParameter", error))?;
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

/// Fixed secrets, for unit tests and the CLI's `--secret`.
#[derive(Debug, Default)]
pub struct StaticSecrets(HashMap<String, Secret>);

impl StaticSecrets {
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            entries
                .into_iter()
                .map(|(name, value)| (name.to_owned(), Secret::new(value)))
                .collect(),
        )
    }
}

#[async_trait]
impl SecretStore for StaticSecrets {
    async fn get(&self, parameter: &str) -> Result<Secret> {
        self.0.get(parameter).cloned().ok_or_else(|| Error::Aws {
            service: "ssm",
            operation: "GetParameter",
            message: format!("ParameterNotFound: {parameter}"),
            transient: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(redacted)");
        assert!(!format!("{:?}", vec![secret]).contains("hunter2"));
    }

    #[test]
    fn lines_split_rotation_secrets() {
        let secret = Secret::new("  old-secret \n\n new-secret\r\n");
        let lines: Vec<String> = secret
            .lines()
            .iter()
            .map(|s| s.expose().to_owned())
            .collect();
        assert_eq!(lines, ["old-secret", "new-secret"]);
    }
}
