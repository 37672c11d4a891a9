//! The Rundeck settings: `RUNDECK_URL`, `RUNDECK_TOKEN_PARAMETER`, `RUNDECK_API_VERSION`, and
//! the notification function's `RUNDECK_NOTIFICATION_TOKEN_PARAMETER`.

use super::{Env, RunSettings};
use remediate_core::{Error, Result};
use std::net::IpAddr;

/// The API version spoken when `RUNDECK_API_VERSION` is not set. Any version from 18 has what
/// the executor uses (the options map of a run, a job's executions with their options); 41 is
/// one every Rundeck from the 4.x series on accepts, while far above the versions Rundeck
/// deprecates (below 17 as of 5.x). A server answers a version it does not know with
/// `api.error.api-version.unsupported`, which the executor reports by name.
pub const DEFAULT_RUNDECK_API_VERSION: u32 = 41;
/// The first version whose run-job call takes the options as a map (Rundeck's API history).
pub const MIN_RUNDECK_API_VERSION: u32 = 18;
/// No Rundeck is near this; a larger number is a typo.
const MAX_RUNDECK_API_VERSION: u32 = 999;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RundeckSettings {
    /// The server's base URL, e.g. `https://rundeck.example.com` or with a context path.
    pub url: String,
    /// SSM SecureString holding the API token.
    pub token_parameter: String,
    pub api_version: u32,
}

/// Settings of the `rundeck-notification` function. See the README's configuration table.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    /// SSM SecureString: the secret in the notification URL's path, one per line (rotation).
    pub token_parameter: String,
    /// Where the real state of each execution is read.
    pub rundeck: RundeckSettings,
    pub run: RunSettings,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The `rundeck-notification` function's settings: its own secret, and Rundeck, which it
    /// cannot do without (a notification is only a hint; Rundeck says how the run ended).
    pub fn notification_settings(&self) -> Result<NotificationSettings> {
        let token_parameter = self
            .optional("RUNDECK_NOTIFICATION_TOKEN_PARAMETER")
            .ok_or_else(|| {
                Error::config(
                    "RUNDECK_NOTIFICATION_TOKEN_PARAMETER",
                    "is required: the SSM SecureString holding the secret of the notification URL",
                )
            })?;
        let run = self.run_settings()?;
        let rundeck = run.rundeck.clone().ok_or_else(|| {
            Error::config(
                "RUNDECK_URL",
                "is required by rundeck-notification: each execution's state is read from Rundeck",
            )
        })?;
        Ok(NotificationSettings {
            token_parameter,
            rundeck,
            run,
        })
    }

    /// The Rundeck executor's settings; `None` when `RUNDECK_URL` is not set (Rundeck runbooks
    /// are then refused with a note).
    pub fn rundeck_settings(&self) -> Result<Option<RundeckSettings>> {
        let Some(url) = self.optional("RUNDECK_URL") else {
            return Ok(None);
        };
        check_url(&url)?;
        let token_parameter = self.optional("RUNDECK_TOKEN_PARAMETER").ok_or_else(|| {
            Error::config(
                "RUNDECK_TOKEN_PARAMETER",
                "is required with RUNDECK_URL: the SSM SecureString holding the API token",
            )
        })?;
        let api_version = match self.optional("RUNDECK_API_VERSION") {
            None => DEFAULT_RUNDECK_API_VERSION,
            Some(value) => value
                .parse::<u32>()
                .ok()
                .filter(|version| {
                    (MIN_RUNDECK_API_VERSION..=MAX_RUNDECK_API_VERSION).contains(version)
                })
                .ok_or_else(|| {
                    Error::config(
                        "RUNDECK_API_VERSION",
                        format!(
                            "{value:?} is not an API version from {MIN_RUNDECK_API_VERSION} (the first that takes job options as a map)"
                        ),
                    )
                })?,
        };
        Ok(Some(RundeckSettings {
            url: url.trim_end_matches('/').to_owned(),
            token_parameter,
            api_version,
        }))
    }
}

/// https, or http to a loopback address (a stub or a local Rundeck): the token travels in a
/// header, so it never crosses a network in clear text. No credentials, query or fragment: the
/// API paths are appended to it.
fn check_url(url: &str) -> Result<()> {
    const NAME: &str = "RUNDECK_URL";
    let parsed = reqwest::Url::parse(url)
        .map_err(|error| Error::config(NAME, format!("is not a URL: {error}")))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    match parsed.scheme() {
        "https" if !host.is_empty() => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(
                NAME,
                "must be https (http only to a loopback address, for local runs)",
            ));
        }
        _ => return Err(Error::config(NAME, "must be an https URL")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::config(
            NAME,
            "must not carry credentials: the token comes from RUNDECK_TOKEN_PARAMETER",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::config(NAME, "must have no query or fragment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{BASE, env};
    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> Result<Option<RundeckSettings>> {
        let mut all = BASE.to_vec();
        all.extend_from_slice(pairs);
        env(&all).run_settings().map(|run| run.rundeck)
    }

    #[test]
    fn rundeck_is_off_without_its_url_and_defaults_its_api_version() {
        assert_eq!(with(&[]).unwrap(), None);
        // Its companions alone turn nothing on (the template sets them empty or not at all).
        assert_eq!(
            with(&[("RUNDECK_TOKEN_PARAMETER", "/remediate/rundeck-token")]).unwrap(),
            None
        );
        let settings = with(&[
            ("RUNDECK_URL", "https://rundeck.example.com/rundeck/"),
            ("RUNDECK_TOKEN_PARAMETER", "/remediate/rundeck-token"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.url, "https://rundeck.example.com/rundeck");
        assert_eq!(settings.token_parameter, "/remediate/rundeck-token");
        assert_eq!(settings.api_version, DEFAULT_RUNDECK_API_VERSION);
        let settings = with(&[
            ("RUNDECK_URL", "http://127.0.0.1:4440"),
            ("RUNDECK_TOKEN_PARAMETER", "/t"),
            ("RUNDECK_API_VERSION", "18"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.api_version, 18);
        for local in ["http://localhost:4440", "http://[::1]:4440"] {
            let pairs = [("RUNDECK_URL", local), ("RUNDECK_TOKEN_PARAMETER", "/t")];
            assert!(with(&pairs).unwrap().is_some(), "{local}");
        }
    }

    #[test]
    fn the_notification_function_needs_its_secret_and_rundeck() {
        let read = |pairs: &[(&'static str, &'static str)]| {
            let mut all = BASE.to_vec();
            all.extend_from_slice(pairs);
            env(&all).notification_settings()
        };
        let rundeck = [
            ("RUNDECK_URL", "https://rundeck.example.com"),
            ("RUNDECK_TOKEN_PARAMETER", "/t"),
        ];
        let secret = (
            "RUNDECK_NOTIFICATION_TOKEN_PARAMETER",
            "/remediate/rundeck-notify",
        );
        let settings = read(&[rundeck[0], rundeck[1], secret]).unwrap();
        assert_eq!(settings.token_parameter, "/remediate/rundeck-notify");
        assert_eq!(settings.rundeck.url, "https://rundeck.example.com");
        let error = read(&rundeck).unwrap_err().to_string();
        assert!(
            error.contains("RUNDECK_NOTIFICATION_TOKEN_PARAMETER"),
            "{error}"
        );
        let error = read(&[secret]).unwrap_err().to_string();
        assert!(error.contains("RUNDECK_URL"), "{error}");
    }

    #[test]
    fn bad_rundeck_settings_name_their_variable() {
        for (name, pairs) in [
            (
                "RUNDECK_URL",
                vec![("RUNDECK_URL", "http://rundeck.example.com")],
            ),
            ("RUNDECK_URL", vec![("RUNDECK_URL", "http://10.0.0.5:4440")]),
            (
                "RUNDECK_URL",
                vec![("RUNDECK_URL", "ftp://rundeck.example.com")],
            ),
            ("RUNDECK_URL", vec![("RUNDECK_URL", "rundeck.example.com")]),
            (
                "RUNDECK_URL",
                vec![("RUNDECK_URL", "https://u:p@rundeck.example.com")],
            ),
            (
                "RUNDECK_URL",
                vec![("RUNDECK_URL", "https://rundeck.example.com/?authtoken=x")],
            ),
            (
                "RUNDECK_TOKEN_PARAMETER",
                vec![("RUNDECK_URL", "https://rundeck.example.com")],
            ),
            ("RUNDECK_API_VERSION", vec![("RUNDECK_API_VERSION", "17")]),
            ("RUNDECK_API_VERSION", vec![("RUNDECK_API_VERSION", "v41")]),
            ("RUNDECK_API_VERSION", vec![("RUNDECK_API_VERSION", "1000")]),
        ] {
            let mut all = vec![
                ("RUNDECK_URL", "https://rundeck.example.com"),
                ("RUNDECK_TOKEN_PARAMETER", "/t"),
            ];
            all.retain(|(set, _)| !pairs.iter().any(|(given, _)| given == set));
            if name == "RUNDECK_TOKEN_PARAMETER" {
                all.retain(|(set, _)| *set != "RUNDECK_TOKEN_PARAMETER");
            }
            all.extend(pairs.iter().copied());
            let error = with(&all).unwrap_err().to_string();
            assert!(error.contains(name), "{pairs:?}: {error}");
        }
    }
}
