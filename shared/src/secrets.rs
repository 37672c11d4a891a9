//! Secrets from SSM Parameter Store (SecureString), read once per container and refreshed on a
//! TTL. Never from plain environment values, never logged: [`Secret`]'s `Debug` hides the value.

use crate::ssm::classify_sdk_error;
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a secret read from Parameter Store is used before it is read again. Rotation takes
/// effect within this time; each read costs a little latency and a Parameter Store call.
pub const DEFAULT_SECRET_TTL: Duration = Duration::from_secs(300);

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
}

/// Parameter Store, with a per-container cache.
pub struct ParameterStoreSecrets {
    client: aws_sdk_ssm::Client,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Secret, Instant)>>,
}

impl ParameterStoreSecrets {
    pub fn new(client: aws_sdk_ssm::Client, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, parameter: &str) -> Option<(Secret, bool)> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .get(parameter)
            .map(|(secret, read_at)| (secret.clone(), read_at.elapsed() < self.ttl))
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
}

#[async_trait]
impl SecretStore for ParameterStoreSecrets {
    async fn get(&self, parameter: &str) -> Result<Secret> {
        let stale = match self.cached(parameter) {
            Some((secret, true)) => return Ok(secret),
            Some((secret, false)) => Some(secret),
            None => None,
        };
        match self.fetch(parameter).await {
            Ok(secret) => {
                let mut cache = self
                    .cache
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                cache.insert(parameter.to_owned(), (secret.clone(), Instant::now()));
                Ok(secret)
            }
            // A failed refresh keeps the last good value: a Parameter Store hiccup must not turn
            // into rejected webhooks. A first read has nothing to fall back on.
            Err(error) => match stale {
                Some(secret) => {
                    tracing::warn!(parameter, %error, "secret refresh failed; using the cached value");
                    Ok(secret)
                }
                None => Err(error),
            },
        }
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
