//! Secrets: a value whose `Debug` hides it, and the port they are read through (SSM Parameter
//! Store SecureStrings in production, read once per container and refreshed on a TTL; never
//! plain environment values, never logged).

use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;

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

    /// Read the parameter again now, unless it was read (or tried) a moment ago (the store
    /// decides how long a moment is): `Some` with the fresh value, `None` when it is too soon. For a
    /// credential that matches nothing cached: the secret may have been rotated by overwriting
    /// it, and a re-read spares the sender a 403 until the TTL runs out.
    async fn reread(&self, _parameter: &str) -> Result<Option<Secret>> {
        Ok(None)
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
        self.0
            .get(parameter)
            .cloned()
            .ok_or_else(|| Error::SecretUnreadable {
                parameter: parameter.to_owned(),
                message: "ParameterNotFound".to_owned(),
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
