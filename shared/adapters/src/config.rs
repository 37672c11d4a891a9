//! Configuration from the environment, read once at cold start. A bad setting fails the init
//! with a message naming the variable; nothing is re-read per invocation.

use remediate_core::catalog::Catalog;
use remediate_core::pipeline::PipelineSettings;
use remediate_core::template::Template;
use remediate_core::trigger::is_known_field;
use remediate_core::{Error, Result};
use std::time::Duration;

mod reconcile;
mod rundeck;

pub use rundeck::{
    DEFAULT_RUNDECK_API_VERSION, MIN_RUNDECK_API_VERSION, NotificationSettings, RundeckSettings,
};

pub const DEFAULT_ACTION_TOKEN_HEADER: &str = "x-remediate-token";
pub const DEFAULT_MAX_TRIGGER_AGE: Duration = Duration::from_secs(900);
/// No setting in seconds is longer than ten years (local runs of fixed-time samples raise the age
/// limit that far): time arithmetic on any of them then never overflows.
const MAX_SECONDS_SETTING: u64 = 315_360_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogSource {
    BuiltIn,
    File(String),
    Parameter {
        name: String,
        refresh: Duration,
    },
    /// `expected_owner`: the account that must own the bucket (`ExpectedBucketOwner` on every
    /// read), so that a bucket deleted and re-created under the same name by someone else cannot
    /// feed the function its runbooks.
    S3 {
        uri: String,
        refresh: Duration,
        expected_owner: String,
    },
}

/// The settings every function that runs runbooks reads the same way.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub api_token_parameter: String,
    pub from_email: String,
    pub api_url: String,
    pub ledger_table: String,
    pub max_trigger_age: Duration,
    /// Why every run is dry, when `REMEDIATE_DRY_RUN` says so.
    pub global_dry_run: Option<String>,
    /// For console links in notes.
    pub region: String,
    /// `RESULTS_TOPIC_ARN`: where outcomes are published, if anywhere.
    pub results_topic_arn: Option<String>,
    /// `PAGERDUTY_INCIDENT_KEY_TEMPLATE`: how an alarm or AWS event names its incident.
    pub incident_key: Option<Template>,
    /// `RUNDECK_URL` and its companions; unset, Rundeck runbooks are refused with a note.
    pub rundeck: Option<RundeckSettings>,
}

/// Settings of the `pagerduty-webhook` function. See the README's configuration table.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// SSM SecureString with the v3 signing secrets, one per line. Without it the v3 route is off.
    pub webhook_secrets_parameter: Option<String>,
    /// SSM SecureString with the Custom Incident Action header secret. Without it, actions are off.
    pub action_token_parameter: Option<String>,
    /// Lower-case header name carrying the action secret.
    pub action_token_header: String,
    /// Confirm each tap in the incident's log entries before acting. Off only for local runs
    /// against emulators: the template offers no way to turn it off.
    pub confirm_taps: bool,
    /// The PagerDuty user remediate writes as: events it caused (its own notes) are ignored.
    pub bot_user_id: Option<String>,
    pub run: RunSettings,
}

/// Settings of the `sns-alarm` function. See the README's configuration table.
#[derive(Debug, Clone)]
pub struct AlarmSettings {
    /// `SNS_VERIFY_SIGNATURES` (default true). False logs a warning at every cold start.
    pub verify_signatures: bool,
    /// `SNS_TOPIC_ARNS`: when not empty, notifications from any other topic are rejected.
    pub topic_allowlist: Vec<String>,
    pub run: RunSettings,
}

impl RunSettings {
    /// The part of the settings the pipeline reads, with the settings only webhooks have.
    pub fn pipeline(&self, confirm_taps: bool, bot_user_id: Option<String>) -> PipelineSettings {
        PipelineSettings {
            max_trigger_age: self.max_trigger_age,
            global_dry_run: self.global_dry_run.clone(),
            confirm_taps,
            bot_user_id,
            region: self.region.clone(),
            incident_key: self.incident_key.clone(),
        }
    }
}

impl WebhookSettings {
    /// The part of the settings the pipeline reads.
    pub fn pipeline(&self) -> PipelineSettings {
        self.run
            .pipeline(self.confirm_taps, self.bot_user_id.clone())
    }
}

/// How a function reaches AWS, from the variables Lambda sets (and the ones the local runs and
/// tests set to aim at emulators). Nothing else is read: no profile files, no instance metadata,
/// no web identity, no per-service endpoint variables. A Lambda function's credentials are the
/// execution role's, in its environment, for the life of the container.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `AWS_REGION` (set by Lambda), or `AWS_DEFAULT_REGION`.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (its Debug hides the
    /// secret and the token).
    pub credentials: aws_credential_types::Credentials,
    /// `AWS_ENDPOINT_URL`: every service at one URL (the local runs' moto).
    pub endpoint_url: Option<String>,
    /// `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` (neither with `AWS_ENDPOINT_URL`).
    pub use_fips: bool,
    pub use_dual_stack: bool,
}

impl AwsSettings {
    /// What is allowed but probably not what was meant, one sentence each, naming variables and
    /// never their values: logged once at cold start by [`Env::aws_settings`].
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.use_fips {
            warnings.push(
                "AWS_USE_FIPS_ENDPOINT is true: calls go to AWS's FIPS endpoints, but this \
                 function's TLS runs on ring, which is not a FIPS 140-validated module"
                    .to_owned(),
            );
        }
        if self.credentials.access_key_id().starts_with("ASIA")
            && self.credentials.session_token().is_none()
        {
            warnings.push(
                "AWS_ACCESS_KEY_ID is a temporary key (ASIA...) but AWS_SESSION_TOKEN is not \
                 set: AWS refuses calls signed with a temporary key and no token"
                    .to_owned(),
            );
        }
        warnings
    }
}

/// Reads variables through `lookup` so that tests need not touch the process environment.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String> {
        self.optional(name)
            .ok_or_else(|| Error::config(name, "is required and not set"))
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool> {
        match self.optional(name).map(|value| value.to_ascii_lowercase()) {
            None => Ok(default),
            Some(value) if matches!(value.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
            Some(value) if matches!(value.as_str(), "false" | "0" | "no" | "off") => Ok(false),
            Some(value) => Err(Error::config(
                name,
                format!("{value:?} is not true or false"),
            )),
        }
    }

    fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration> {
        match self.optional(name) {
            None => Ok(default),
            Some(value) => value
                .parse::<u64>()
                .ok()
                .filter(|seconds| (1..=MAX_SECONDS_SETTING).contains(seconds))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    Error::config(
                        name,
                        format!(
                            "{value:?} is not a number of seconds between 1 and {MAX_SECONDS_SETTING} (ten years)"
                        ),
                    )
                }),
        }
    }

    /// How this function reaches AWS ([`AwsSettings`]); a missing region or credential, or
    /// settings every call would fail with, fail the cold start with the variable named, not the
    /// first call. What is allowed but suspect ([`AwsSettings::warnings`]) is logged, once.
    pub fn aws_settings(&self) -> Result<AwsSettings> {
        let (region_variable, region) = match self.optional("AWS_REGION") {
            Some(region) => ("AWS_REGION", region),
            None => (
                "AWS_DEFAULT_REGION",
                self.optional("AWS_DEFAULT_REGION").ok_or_else(|| {
                    Error::config(
                        "AWS_REGION",
                        "is required and not set (nor is AWS_DEFAULT_REGION)",
                    )
                })?,
            ),
        };
        if !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::config(
                region_variable,
                format!("{region:?} is not a region name"),
            ));
        }
        let credentials = aws_credential_types::Credentials::new(
            self.required("AWS_ACCESS_KEY_ID")?,
            self.required("AWS_SECRET_ACCESS_KEY")?,
            self.optional("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let endpoint_url = self.optional("AWS_ENDPOINT_URL");
        if let Some(url) = &endpoint_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(Error::config(
                "AWS_ENDPOINT_URL",
                format!("{url:?} is not an http(s) URL"),
            ));
        }
        // A user name or password in the endpoint would travel in the Host header and in error
        // messages: refused, and not repeated here.
        if let Some(url) = &endpoint_url
            && let Some((_, rest)) = url.split_once("://")
            && rest
                .split(['/', '?', '#'])
                .next()
                .is_some_and(|authority| authority.contains('@'))
        {
            return Err(Error::config(
                "AWS_ENDPOINT_URL",
                "holds a user name or password (`user:pass@`): credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY only",
            ));
        }
        let use_fips = self.flag("AWS_USE_FIPS_ENDPOINT", false)?;
        let use_dual_stack = self.flag("AWS_USE_DUALSTACK_ENDPOINT", false)?;
        // The SDK's endpoint rules refuse both with a custom endpoint, on every call ("FIPS and
        // custom endpoint are not supported", "Dualstack and custom endpoint ..."): refused now.
        if endpoint_url.is_some() {
            for (name, on) in [
                ("AWS_USE_FIPS_ENDPOINT", use_fips),
                ("AWS_USE_DUALSTACK_ENDPOINT", use_dual_stack),
            ] {
                if on {
                    return Err(Error::config(
                        name,
                        "cannot be true with AWS_ENDPOINT_URL set: the SDK refuses every call \
                         to a custom endpoint with it; unset one of them",
                    ));
                }
            }
        }
        let settings = AwsSettings {
            region,
            credentials,
            endpoint_url,
            use_fips,
            use_dual_stack,
        };
        // Once per process: a function reads its settings once, at cold start.
        static WARNED: std::sync::Once = std::sync::Once::new();
        let warnings = settings.warnings();
        if !warnings.is_empty() {
            WARNED.call_once(|| {
                for warning in &warnings {
                    tracing::warn!("{warning}");
                }
            });
        }
        Ok(settings)
    }

    /// A 12-digit AWS account id, when set.
    fn account_id(&self, name: &'static str) -> Result<Option<String>> {
        match self.optional(name) {
            None => Ok(None),
            Some(value) if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Some(value))
            }
            Some(value) => Err(Error::config(
                name,
                format!("{value:?} is not a 12-digit AWS account id"),
            )),
        }
    }

    /// Where the catalog comes from: at most one of `RUNBOOKS_FILE`, `RUNBOOKS_PARAMETER`,
    /// `RUNBOOKS_S3_URI`; none means the copy compiled into the binary. An S3 catalog needs
    /// `RUNBOOKS_S3_EXPECTED_OWNER`, the account that must own its bucket.
    pub fn catalog_source(&self) -> Result<CatalogSource> {
        let file = self.optional("RUNBOOKS_FILE");
        let parameter = self.optional("RUNBOOKS_PARAMETER");
        let s3 = self.optional("RUNBOOKS_S3_URI");
        let refresh = self.seconds("RUNBOOKS_REFRESH_SECONDS", Duration::from_secs(60))?;
        let expected_owner = self.account_id("RUNBOOKS_S3_EXPECTED_OWNER")?;
        match (file, parameter, s3) {
            (None, None, None) => Ok(CatalogSource::BuiltIn),
            (Some(path), None, None) => Ok(CatalogSource::File(path)),
            (None, Some(name), None) => Ok(CatalogSource::Parameter { name, refresh }),
            (None, None, Some(uri)) => {
                crate::aws::catalog_sources::S3Catalog::parse_uri(&uri)?;
                let expected_owner = expected_owner.ok_or_else(|| {
                    Error::config(
                        "RUNBOOKS_S3_EXPECTED_OWNER",
                        "is required with RUNBOOKS_S3_URI: the account id that must own the catalog bucket",
                    )
                })?;
                Ok(CatalogSource::S3 {
                    uri,
                    refresh,
                    expected_owner,
                })
            }
            _ => Err(Error::config(
                "RUNBOOKS_FILE",
                "set at most one of RUNBOOKS_FILE, RUNBOOKS_PARAMETER and RUNBOOKS_S3_URI",
            )),
        }
    }

    /// A local catalog (built in or a file); remote ones are read by the catalog store.
    pub fn catalog(&self) -> Result<Catalog> {
        match self.catalog_source()? {
            CatalogSource::File(path) => {
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    Error::config("RUNBOOKS_FILE", format!("cannot read {path}: {error}"))
                })?;
                Catalog::parse(&text, &path)
            }
            _ => built_in_catalog(),
        }
    }

    /// `REMEDIATE_KILL_SWITCH_PARAMETER`: an SSM parameter whose value `on` makes every run dry.
    pub fn kill_switch_parameter(&self) -> Option<String> {
        self.optional("REMEDIATE_KILL_SWITCH_PARAMETER")
    }

    pub fn webhook_settings(&self) -> Result<WebhookSettings> {
        let webhook_secrets_parameter = self.optional("PAGERDUTY_WEBHOOK_SECRETS_PARAMETER");
        let action_token_parameter = self.optional("PAGERDUTY_ACTION_TOKEN_PARAMETER");
        if webhook_secrets_parameter.is_none() && action_token_parameter.is_none() {
            return Err(Error::config(
                "PAGERDUTY_WEBHOOK_SECRETS_PARAMETER",
                "neither it nor PAGERDUTY_ACTION_TOKEN_PARAMETER is set: the function could authenticate nothing",
            ));
        }
        let action_token_header = self
            .optional("PAGERDUTY_ACTION_TOKEN_HEADER")
            .unwrap_or_else(|| DEFAULT_ACTION_TOKEN_HEADER.to_owned())
            .to_ascii_lowercase();
        if http::HeaderName::from_bytes(action_token_header.as_bytes()).is_err() {
            return Err(Error::config(
                "PAGERDUTY_ACTION_TOKEN_HEADER",
                "is not a valid header name",
            ));
        }
        let confirm_taps = self.flag("PAGERDUTY_CONFIRM_TAPS", true)?;
        if !confirm_taps && self.optional("AWS_ENDPOINT_URL").is_none() {
            // Confirmation is what keeps a leaked header secret from acting as a person: off only
            // where AWS itself is an emulator, never in a deployment.
            return Err(Error::config(
                "PAGERDUTY_CONFIRM_TAPS",
                "may be false only for local runs against emulators (AWS_ENDPOINT_URL set)",
            ));
        }
        let bot_user_id = self.optional("PAGERDUTY_BOT_USER_ID");
        if let Some(id) = &bot_user_id
            && !crate::pagerduty::payload::is_pagerduty_id(id)
        {
            return Err(Error::config(
                "PAGERDUTY_BOT_USER_ID",
                "must be a PagerDuty user id (letters and digits, like PBOT123)",
            ));
        }
        Ok(WebhookSettings {
            webhook_secrets_parameter,
            action_token_parameter,
            action_token_header,
            confirm_taps,
            bot_user_id,
            run: self.run_settings()?,
        })
    }

    pub fn alarm_settings(&self) -> Result<AlarmSettings> {
        let topic_allowlist: Vec<String> = self
            .optional("SNS_TOPIC_ARNS")
            .unwrap_or_default()
            .split([',', ' ', '\n', '\t'])
            .filter(|arn| !arn.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = topic_allowlist.iter().find(|arn| !is_topic_arn(arn)) {
            return Err(Error::config(
                "SNS_TOPIC_ARNS",
                format!("{bad:?} is not an SNS topic ARN (list ARNs separated by commas)"),
            ));
        }
        Ok(AlarmSettings {
            verify_signatures: self.flag("SNS_VERIFY_SIGNATURES", true)?,
            topic_allowlist,
            run: self.run_settings()?,
        })
    }

    /// The settings of [`RunSettings`], shared by every function that runs runbooks.
    pub fn run_settings(&self) -> Result<RunSettings> {
        let from_email = self.required("PAGERDUTY_FROM_EMAIL")?;
        if !from_email.contains('@') {
            return Err(Error::config(
                "PAGERDUTY_FROM_EMAIL",
                "must be the email of a PagerDuty user",
            ));
        }
        let api_url = self
            .optional("PAGERDUTY_API_URL")
            .unwrap_or_else(|| crate::pagerduty::client::DEFAULT_API_URL.to_owned());
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(Error::config("PAGERDUTY_API_URL", "must be an http(s) URL"));
        }
        let global_dry_run = self
            .flag("REMEDIATE_DRY_RUN", false)?
            .then(|| "REMEDIATE_DRY_RUN is on".to_owned());
        let results_topic_arn = self.optional("RESULTS_TOPIC_ARN");
        if let Some(arn) = &results_topic_arn
            && !is_topic_arn(arn)
        {
            return Err(Error::config(
                "RESULTS_TOPIC_ARN",
                format!("{arn:?} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"),
            ));
        }
        Ok(RunSettings {
            api_token_parameter: self.required("PAGERDUTY_API_TOKEN_PARAMETER")?,
            from_email,
            api_url,
            ledger_table: self.required("LEDGER_TABLE")?,
            max_trigger_age: self.seconds("MAX_TRIGGER_AGE_SECONDS", DEFAULT_MAX_TRIGGER_AGE)?,
            global_dry_run,
            region: self
                .optional("AWS_REGION")
                .or_else(|| self.optional("AWS_DEFAULT_REGION"))
                .ok_or_else(|| Error::config("AWS_REGION", "is required and not set"))?,
            results_topic_arn,
            incident_key: self.incident_key_template()?,
            rundeck: self.rundeck_settings()?,
        })
    }

    /// `PAGERDUTY_INCIDENT_KEY_TEMPLATE`: a template over trigger fields, such as
    /// `{{ alarm.arn }}`; every placeholder must be a field a trigger has.
    fn incident_key_template(&self) -> Result<Option<Template>> {
        const NAME: &str = "PAGERDUTY_INCIDENT_KEY_TEMPLATE";
        let Some(text) = self.optional(NAME) else {
            return Ok(None);
        };
        let template =
            Template::parse(&text).map_err(|error| Error::config(NAME, error.to_string()))?;
        if template.is_literal() {
            return Err(Error::config(
                NAME,
                "names no trigger field: every alarm would find the same incident (write e.g. {{ alarm.arn }})",
            ));
        }
        if let Some(field) = template.placeholders().find(|field| !is_known_field(field)) {
            return Err(Error::config(
                NAME,
                format!("{field:?} is not a trigger field (see the README's field list)"),
            ));
        }
        Ok(Some(template))
    }
}

/// The catalog compiled into this binary (`infra/runbooks.yaml`), in the prebuilt form that
/// `build.rs` checked and wrote: loading it parses no YAML, and checks again only the patterns
/// of parameters (`Catalog::from_prebuilt`).
pub fn built_in_catalog() -> Result<Catalog> {
    Catalog::from_prebuilt(
        include_str!(concat!(env!("OUT_DIR"), "/built_in_catalog.json")),
        remediate_core::catalog::BUILT_IN_CATALOG_NAME,
    )
}

/// An SNS topic ARN in any partition: `arn:<partition>:sns:<region>:<12 digits>:<name>`.
pub fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, "sns", region, account, name]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !name.is_empty()
                && name.len() <= 256
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(crate) fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |name: &str| map.get(name).cloned())
    }

    pub(crate) const BASE: &[(&str, &str)] = &[
        (
            "PAGERDUTY_WEBHOOK_SECRETS_PARAMETER",
            "/remediate/webhook-secrets",
        ),
        ("PAGERDUTY_API_TOKEN_PARAMETER", "/remediate/api-token"),
        ("PAGERDUTY_FROM_EMAIL", "bot@example.com"),
        ("LEDGER_TABLE", "remediate-ledger"),
        ("AWS_REGION", "eu-west-1"),
    ];

    const LAMBDA_AWS: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "asia-example-key-id"),
        ("AWS_SECRET_ACCESS_KEY", "secret-key-value"),
        ("AWS_SESSION_TOKEN", "session-token-value"),
    ];

    fn with(
        base: &[(&'static str, &'static str)],
        changes: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        let mut pairs: Vec<_> = base
            .iter()
            .filter(|(name, _)| !changes.iter().any(|(changed, _)| changed == name))
            .copied()
            .collect();
        pairs.extend(
            changes
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .copied(),
        );
        pairs
    }

    #[test]
    fn aws_settings_are_what_lambda_sets() {
        let settings = env(LAMBDA_AWS).aws_settings().unwrap();
        assert_eq!(settings.region, "eu-west-1");
        assert_eq!(settings.credentials.access_key_id(), "asia-example-key-id");
        assert_eq!(settings.credentials.secret_access_key(), "secret-key-value");
        assert_eq!(
            settings.credentials.session_token(),
            Some("session-token-value")
        );
        assert_eq!(settings.endpoint_url, None);
        assert!(!settings.use_fips && !settings.use_dual_stack);
        // The secret and the token never reach a log line through Debug.
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("secret-key-value") && !shown.contains("session-token-value"),
            "{shown}"
        );
    }

    #[test]
    fn aws_settings_take_the_emulators_and_the_endpoint_switches() {
        let pairs = with(
            LAMBDA_AWS,
            &[
                ("AWS_REGION", ""),
                ("AWS_DEFAULT_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SESSION_TOKEN", ""),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ],
        );
        let settings = env(&pairs).aws_settings().unwrap();
        assert_eq!(settings.region, "us-east-1");
        assert_eq!(settings.credentials.session_token(), None);
        assert_eq!(
            settings.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert!(!settings.use_fips && !settings.use_dual_stack);
        assert!(settings.warnings().is_empty(), "{:?}", settings.warnings());

        let switches = with(
            LAMBDA_AWS,
            &[
                ("AWS_USE_FIPS_ENDPOINT", "true"),
                ("AWS_USE_DUALSTACK_ENDPOINT", "True"),
            ],
        );
        let settings = env(&switches).aws_settings().unwrap();
        assert!(settings.use_fips && settings.use_dual_stack);
    }

    #[test]
    fn fips_or_dual_stack_with_a_custom_endpoint_fails_the_cold_start() {
        for switch in ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"] {
            let pairs = with(
                LAMBDA_AWS,
                &[
                    ("AWS_ENDPOINT_URL", "https://vpce.example.com"),
                    (switch, "true"),
                ],
            );
            let error = env(&pairs).aws_settings().unwrap_err().to_string();
            assert!(
                error.contains(switch) && error.contains("AWS_ENDPOINT_URL"),
                "{switch}: {error}"
            );
        }
    }

    #[test]
    fn fips_is_allowed_but_warns_that_tls_is_not_a_fips_module() {
        let pairs = with(LAMBDA_AWS, &[("AWS_USE_FIPS_ENDPOINT", "true")]);
        let warnings = env(&pairs).aws_settings().unwrap().warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("AWS_USE_FIPS_ENDPOINT") && warnings[0].contains("ring"),
            "{warnings:?}"
        );
        assert!(
            env(LAMBDA_AWS)
                .aws_settings()
                .unwrap()
                .warnings()
                .is_empty()
        );
    }

    #[test]
    fn a_temporary_key_without_a_session_token_warns() {
        let temporary = [("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEYID12345")];
        let with_token = env(&with(LAMBDA_AWS, &temporary)).aws_settings().unwrap();
        assert!(
            with_token.warnings().is_empty(),
            "{:?}",
            with_token.warnings()
        );
        let without = with(LAMBDA_AWS, &[temporary[0], ("AWS_SESSION_TOKEN", "")]);
        let warnings = env(&without).aws_settings().unwrap().warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("AWS_SESSION_TOKEN") && !warnings[0].contains("ASIAEXAMPLE"),
            "{warnings:?}"
        );
        // A long-term key needs no token.
        let long_term = with(
            LAMBDA_AWS,
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID12345"),
                ("AWS_SESSION_TOKEN", ""),
            ],
        );
        assert!(
            env(&long_term)
                .aws_settings()
                .unwrap()
                .warnings()
                .is_empty()
        );
    }

    #[test]
    fn a_bad_region_names_the_variable_it_came_from() {
        let from_default = with(
            LAMBDA_AWS,
            &[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "EU-West-1")],
        );
        let error = env(&from_default).aws_settings().unwrap_err().to_string();
        assert!(error.contains("AWS_DEFAULT_REGION"), "{error}");
        let from_region = with(
            LAMBDA_AWS,
            &[
                ("AWS_REGION", "EU-West-1"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
            ],
        );
        let error = env(&from_region).aws_settings().unwrap_err().to_string();
        assert!(
            error.contains("AWS_REGION") && !error.contains("AWS_DEFAULT_REGION"),
            "{error}"
        );
    }

    #[test]
    fn aws_settings_name_what_is_missing_or_wrong() {
        for (changes, variable) in [
            (vec![("AWS_REGION", "")], "AWS_REGION"),
            (vec![("AWS_REGION", "eu west 1")], "AWS_REGION"),
            (vec![("AWS_ACCESS_KEY_ID", "")], "AWS_ACCESS_KEY_ID"),
            (vec![("AWS_SECRET_ACCESS_KEY", "")], "AWS_SECRET_ACCESS_KEY"),
            (
                vec![("AWS_ENDPOINT_URL", "127.0.0.1:5000")],
                "AWS_ENDPOINT_URL",
            ),
            (
                vec![(
                    "AWS_ENDPOINT_URL",
                    "http://admin:secret-key-value@127.0.0.1:5000/",
                )],
                "AWS_ENDPOINT_URL",
            ),
            (
                vec![("AWS_USE_FIPS_ENDPOINT", "maybe")],
                "AWS_USE_FIPS_ENDPOINT",
            ),
        ] {
            let error = env(&with(LAMBDA_AWS, &changes))
                .aws_settings()
                .unwrap_err()
                .to_string();
            assert!(error.contains(variable), "{changes:?}: {error}");
            assert!(!error.contains("secret-key-value"), "{error}");
        }
    }

    #[test]
    fn defaults_apply() {
        let settings = env(BASE).webhook_settings().unwrap();
        assert_eq!(settings.action_token_header, "x-remediate-token");
        assert!(settings.confirm_taps);
        assert_eq!(settings.run.max_trigger_age, Duration::from_secs(900));
        assert_eq!(settings.run.api_url, "https://api.pagerduty.com");
        assert_eq!(settings.run.global_dry_run, None);
        assert_eq!(settings.run.results_topic_arn, None);
        assert!(settings.run.incident_key.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("PAGERDUTY_CONFIRM_TAPS", "maybe"),
            ("MAX_TRIGGER_AGE_SECONDS", "-5"),
            ("MAX_TRIGGER_AGE_SECONDS", "315360001"),
            ("PAGERDUTY_BOT_USER_ID", "P/../x"),
            ("PAGERDUTY_ACTION_TOKEN_HEADER", "bad header"),
            ("PAGERDUTY_FROM_EMAIL", "nobody"),
            ("REMEDIATE_DRY_RUN", "sometimes"),
            (
                "RESULTS_TOPIC_ARN",
                "arn:aws:sqs:eu-west-1:123456789012:results",
            ),
            ("RESULTS_TOPIC_ARN", "arn:aws:sns:eu-west-1:12345:results"),
            ("RESULTS_TOPIC_ARN", "remediate-results"),
            ("PAGERDUTY_INCIDENT_KEY_TEMPLATE", "{{ alarm.nope }}"),
            ("PAGERDUTY_INCIDENT_KEY_TEMPLATE", "always-this-one"),
            ("PAGERDUTY_INCIDENT_KEY_TEMPLATE", "{{ alarm.name"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push((name, value));
            let error = env(&pairs).webhook_settings().unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
        let error = env(&BASE[1..]).webhook_settings().unwrap_err().to_string();
        assert!(
            error.contains("PAGERDUTY_WEBHOOK_SECRETS_PARAMETER"),
            "{error}"
        );
    }

    #[test]
    fn alarm_settings_verify_by_default_and_read_the_allowlist() {
        let settings = env(BASE).alarm_settings().unwrap();
        assert!(settings.verify_signatures);
        assert!(settings.topic_allowlist.is_empty());
        let mut pairs = BASE.to_vec();
        pairs.push((
            "SNS_TOPIC_ARNS",
            "arn:aws:sns:eu-west-1:123456789012:alarms, arn:aws:sns:us-east-1:123456789012:findings",
        ));
        pairs.push(("SNS_VERIFY_SIGNATURES", "false"));
        let settings = env(&pairs).alarm_settings().unwrap();
        assert!(!settings.verify_signatures);
        assert_eq!(
            settings.topic_allowlist,
            [
                "arn:aws:sns:eu-west-1:123456789012:alarms",
                "arn:aws:sns:us-east-1:123456789012:findings"
            ]
        );
        for (name, value) in [
            (
                "SNS_TOPIC_ARNS",
                "arn:aws:sns:eu-west-1:123456789012:alarms,alarms",
            ),
            ("SNS_VERIFY_SIGNATURES", "perhaps"),
            ("LEDGER_TABLE", ""),
        ] {
            let mut pairs: Vec<_> = BASE.iter().filter(|(n, _)| *n != name).copied().collect();
            pairs.push((name, value));
            let error = env(&pairs).alarm_settings().unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn results_topic_and_incident_key_template_are_read() {
        let mut pairs = BASE.to_vec();
        pairs.push((
            "RESULTS_TOPIC_ARN",
            "arn:aws-cn:sns:cn-north-1:123456789012:remediate-results.fifo",
        ));
        pairs.push((
            "PAGERDUTY_INCIDENT_KEY_TEMPLATE",
            "cloudwatch/{{ alarm.account }}/{{ alarm.name }}",
        ));
        let settings = env(&pairs).webhook_settings().unwrap();
        assert_eq!(
            settings.run.results_topic_arn.as_deref(),
            Some("arn:aws-cn:sns:cn-north-1:123456789012:remediate-results.fifo")
        );
        let template = settings.run.incident_key.clone().unwrap();
        assert_eq!(
            template.placeholders().collect::<Vec<_>>(),
            ["alarm.account", "alarm.name"]
        );
        assert_eq!(
            settings
                .pipeline()
                .incident_key
                .map(|t| t.placeholders().count()),
            Some(2)
        );
    }

    #[test]
    fn one_catalog_source_at_most() {
        assert_eq!(env(&[]).catalog_source().unwrap(), CatalogSource::BuiltIn);
        assert_eq!(
            env(&[
                ("RUNBOOKS_S3_URI", "s3://b/runbooks.yaml"),
                ("RUNBOOKS_S3_EXPECTED_OWNER", "123456789012"),
                ("RUNBOOKS_REFRESH_SECONDS", "30")
            ])
            .catalog_source()
            .unwrap(),
            CatalogSource::S3 {
                uri: "s3://b/runbooks.yaml".into(),
                refresh: Duration::from_secs(30),
                expected_owner: "123456789012".into(),
            }
        );
        let both =
            env(&[("RUNBOOKS_FILE", "a.yaml"), ("RUNBOOKS_PARAMETER", "/p")]).catalog_source();
        assert!(both.unwrap_err().to_string().contains("at most one"));
        assert!(
            env(&[("RUNBOOKS_S3_URI", "bucket/key")])
                .catalog_source()
                .is_err()
        );
    }

    #[test]
    fn an_s3_catalog_needs_the_account_that_owns_its_bucket() {
        let missing = env(&[("RUNBOOKS_S3_URI", "s3://b/runbooks.yaml")])
            .catalog_source()
            .unwrap_err()
            .to_string();
        assert!(missing.contains("RUNBOOKS_S3_EXPECTED_OWNER"), "{missing}");
        for bad in [
            "12345678901",
            "1234567890123",
            "12345678901a",
            "arn:aws:iam::123456789012:root",
        ] {
            let error = env(&[
                ("RUNBOOKS_S3_URI", "s3://b/runbooks.yaml"),
                ("RUNBOOKS_S3_EXPECTED_OWNER", bad),
            ])
            .catalog_source()
            .unwrap_err()
            .to_string();
            assert!(
                error.contains("RUNBOOKS_S3_EXPECTED_OWNER"),
                "{bad}: {error}"
            );
        }
        // A bad value fails the cold start even before a catalog bucket is configured.
        assert!(
            env(&[("RUNBOOKS_S3_EXPECTED_OWNER", "me")])
                .catalog_source()
                .is_err()
        );
    }

    #[test]
    fn missing_catalog_file_names_the_variable() {
        let error = env(&[("RUNBOOKS_FILE", "/nonexistent/runbooks.yaml")])
            .catalog()
            .unwrap_err();
        assert!(error.to_string().contains("RUNBOOKS_FILE"));
    }

    #[test]
    fn the_compiled_in_catalog_is_infra_runbooks_yaml_prebuilt() {
        let described = |catalog: &Catalog| {
            // The index is built from the runbooks, and its maps print in no fixed order.
            format!(
                "{} {} {:?} {:?}",
                catalog.source_name, catalog.version, catalog.runbooks, catalog.custom_actions
            )
        };
        let loaded = env(&[]).catalog().unwrap();
        assert_eq!(described(&loaded), described(&Catalog::built_in().unwrap()));
    }

    #[test]
    fn tap_confirmation_can_be_off_only_against_emulators() {
        let mut pairs = BASE.to_vec();
        pairs.push(("PAGERDUTY_CONFIRM_TAPS", "false"));
        let error = env(&pairs).webhook_settings().unwrap_err().to_string();
        assert!(error.contains("PAGERDUTY_CONFIRM_TAPS"), "{error}");
        pairs.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"));
        assert!(!env(&pairs).webhook_settings().unwrap().confirm_taps);
    }
}
