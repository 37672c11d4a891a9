//! Where a function gets its catalog, and the global kill switch.
//!
//! Sources: compiled in from `infra/runbooks.yaml` (the default), a file (`RUNBOOKS_FILE`, for
//! local runs), an SSM parameter (`RUNBOOKS_PARAMETER`, small catalogs: 8 KB at most) or an S3
//! object (`RUNBOOKS_S3_URI`, any size up to 5 MB). Remote catalogs are read again every
//! `RUNBOOKS_REFRESH_SECONDS`, so runbooks change without a redeploy; a refresh that fails or
//! reads an invalid catalog keeps the last good one and logs an error. A bad catalog at cold
//! start fails the init with the errors.

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

/// SSM Advanced parameters hold 8 KB; larger catalogs belong in S3.
pub const MAX_PARAMETER_CATALOG_BYTES: usize = 8 * 1024;
/// A catalog this large is a mistake, not a catalog.
pub const MAX_S3_CATALOG_BYTES: usize = 5 * 1024 * 1024;
pub const DEFAULT_REFRESH: Duration = Duration::seconds(60);

/// A remote place a catalog's text is read from.
#[async_trait]
pub trait CatalogFetcher: Send + Sync {
    /// A name for logs and errors (`ssm:/remediate/runbooks`, `s3://bucket/key`).
    fn describe(&self) -> String;
    async fn fetch(&self) -> Result<String>;
}

pub struct ParameterCatalog {
    pub client: aws_sdk_ssm::Client,
    pub name: String,
}

#[async_trait]
impl CatalogFetcher for ParameterCatalog {
    fn describe(&self) -> String {
        format!("ssm:{}", self.name)
    }

    async fn fetch(&self) -> Result<String> {
        let output = self
            .client
            .get_parameter()
            .name(&self.name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| crate::ssm::classify_sdk_error("GetParameter", error))?;
        let text = output
            .parameter
            .and_then(|parameter| parameter.value)
            .unwrap_or_default();
        if text.len() > MAX_PARAMETER_CATALOG_BYTES {
            return Err(Error::config(
                "RUNBOOKS_PARAMETER",
                "the catalog is larger than 8 KB: use RUNBOOKS_S3_URI",
            ));
        }
        Ok(text)
    }
}

pub struct S3Catalog {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub key: String,
    /// The account that must own the bucket, sent as `ExpectedBucketOwner` on every read: S3
    /// refuses the read (403) if the bucket belongs to anyone else, so a catalog bucket that was
    /// deleted and re-created elsewhere under its name is an error, never a catalog.
    pub expected_owner: String,
}

impl S3Catalog {
    /// `s3://bucket/key/with/slashes`.
    pub fn parse_uri(uri: &str) -> Result<(String, String)> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| Error::config("RUNBOOKS_S3_URI", "must look like s3://bucket/key"))?;
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok((bucket.to_owned(), key.to_owned()))
            }
            _ => Err(Error::config(
                "RUNBOOKS_S3_URI",
                "must look like s3://bucket/key",
            )),
        }
    }
}

#[async_trait]
impl CatalogFetcher for S3Catalog {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    async fn fetch(&self) -> Result<String> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .expected_bucket_owner(&self.expected_owner)
            .send()
            .await
            .map_err(|error| Error::from_sdk("s3", "GetObject", error))?;
        if output.content_length.unwrap_or(0) as usize > MAX_S3_CATALOG_BYTES {
            return Err(Error::config(
                "RUNBOOKS_S3_URI",
                "the catalog object is larger than 5 MB",
            ));
        }
        let bytes = output.body.collect().await.map_err(|error| Error::Aws {
            service: "s3",
            operation: "GetObject",
            message: format!("reading the body: {error}"),
            transient: true,
        })?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::config("RUNBOOKS_S3_URI", "the catalog is not UTF-8"))
    }
}

struct Loaded {
    catalog: Arc<Catalog>,
    read_at: DateTime<Utc>,
}

/// The current catalog, refreshed from its remote source on a TTL.
pub struct CatalogStore {
    fetcher: Option<Box<dyn CatalogFetcher>>,
    refresh: Duration,
    clock: Arc<dyn Clock>,
    loaded: Mutex<Loaded>,
    /// One refresh at a time; others use the current catalog meanwhile.
    refreshing: tokio::sync::Mutex<()>,
}

impl CatalogStore {
    /// A catalog that never changes (built in, or a local file).
    pub fn fixed(catalog: Catalog, clock: Arc<dyn Clock>) -> Self {
        let read_at = clock.now();
        Self {
            fetcher: None,
            refresh: DEFAULT_REFRESH,
            clock,
            loaded: Mutex::new(Loaded {
                catalog: Arc::new(catalog),
                read_at,
            }),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Read the remote catalog now; an unreadable or invalid one fails the cold start.
    pub async fn remote(
        fetcher: Box<dyn CatalogFetcher>,
        refresh: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let source = fetcher.describe();
        let text = fetcher.fetch().await?;
        let catalog = Catalog::parse(&text, &source)?;
        let read_at = clock.now();
        Ok(Self {
            fetcher: Some(fetcher),
            refresh,
            clock,
            loaded: Mutex::new(Loaded {
                catalog: Arc::new(catalog),
                read_at,
            }),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    fn snapshot(&self) -> (Arc<Catalog>, DateTime<Utc>) {
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        (loaded.catalog.clone(), loaded.read_at)
    }

    /// The catalog to decide with: refreshed first if it is older than the TTL.
    pub async fn current(&self) -> Arc<Catalog> {
        let (catalog, read_at) = self.snapshot();
        let Some(fetcher) = &self.fetcher else {
            return catalog;
        };
        if self.clock.now() - read_at < self.refresh {
            return catalog;
        }
        let Ok(_guard) = self.refreshing.try_lock() else {
            return catalog;
        };
        let now = self.clock.now();
        let refreshed = match fetcher.fetch().await {
            Ok(text) => Catalog::parse(&text, &fetcher.describe()),
            Err(error) => Err(error),
        };
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        // Either way, wait a whole TTL before trying again.
        loaded.read_at = now;
        match refreshed {
            Ok(fresh) => {
                if fresh.version != loaded.catalog.version {
                    tracing::info!(
                        source = fresh.source_name,
                        version = fresh.version,
                        runbooks = fresh.runbooks.len(),
                        "catalog changed"
                    );
                }
                loaded.catalog = Arc::new(fresh);
            }
            Err(error) => {
                tracing::error!(%error, kept = loaded.catalog.version, "catalog refresh failed; keeping the last good catalog");
            }
        }
        loaded.catalog.clone()
    }
}

/// The global kill switch: an SSM parameter that must read `off` (trimmed, any case) for runs to
/// execute. Any other value (`on`, `true`, `1`, `yes`, `enabled`, empty, a typo) makes every run
/// of every function a dry run: the switch exists for the moment automation must stop, so only
/// the one explicit word lets it go on.
///
/// It fails closed:
/// - a parameter that is deleted or unreadable (not found, access denied: errors a retry cannot
///   fix) stops runs from that read on, with no grace;
/// - a transient read error (throttling, a timeout) keeps the last value read for one more
///   refresh interval at most, then stops runs until a read succeeds;
/// - with no value read yet, any failure stops runs.
///
/// A failed read is tried again after [`KILL_SWITCH_RETRY`], not on every trigger, so a flood of
/// triggers cannot become a flood of Parameter Store calls.
pub struct KillSwitch {
    client: Option<aws_sdk_ssm::Client>,
    parameter: String,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<SwitchState>,
}

/// What the kill switch says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchReading {
    Off,
    /// Any value but `off`: runs are dry.
    On(String),
    /// No value can be trusted. Runs must not go ahead; when the failure is transient
    /// (throttling, a timeout) a retry may read it, so a trigger is better retried than made dry.
    Unreadable {
        reason: String,
        transient: bool,
    },
}

impl SwitchReading {
    /// Why runs are dry, if they are.
    pub fn dry_run_reason(self) -> Option<String> {
        match self {
            SwitchReading::Off => None,
            SwitchReading::On(reason) | SwitchReading::Unreadable { reason, .. } => Some(reason),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct SwitchState {
    /// The last value read (true: it stops runs) and when it was read.
    last_read: Option<(bool, DateTime<Utc>)>,
    attempted_at: Option<DateTime<Utc>>,
    /// Whether the last attempt failed, and how.
    failure: Option<ReadFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadFailure {
    Transient,
    Permanent,
}

pub const KILL_SWITCH_TTL: Duration = Duration::seconds(30);
/// How soon a failed read of the kill switch is tried again.
pub const KILL_SWITCH_RETRY: Duration = Duration::seconds(5);

impl KillSwitch {
    pub fn new(client: aws_sdk_ssm::Client, parameter: String, clock: Arc<dyn Clock>) -> Self {
        Self {
            client: Some(client),
            parameter,
            ttl: KILL_SWITCH_TTL,
            clock,
            state: Mutex::new(SwitchState::default()),
        }
    }

    /// No switch configured: never on.
    pub fn absent(clock: Arc<dyn Clock>) -> Self {
        Self {
            client: None,
            parameter: String::new(),
            ttl: KILL_SWITCH_TTL,
            clock,
            state: Mutex::new(SwitchState::default()),
        }
    }

    /// Whether a value of the parameter stops runs: anything but `off`.
    pub fn stops_runs(value: &str) -> bool {
        !value.trim().eq_ignore_ascii_case("off")
    }

    /// Why runs must be dry now, if the switch says so (an unreadable switch stops runs).
    pub async fn reason(&self) -> Option<String> {
        self.read().await.dry_run_reason()
    }

    /// What the switch says now: off, on, or unreadable (and whether a retry may read it).
    pub async fn read(&self) -> SwitchReading {
        let Some(client) = self.client.as_ref() else {
            return SwitchReading::Off;
        };
        let now = self.clock.now();
        let mut state = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        let wait = if state.failure.is_some() {
            KILL_SWITCH_RETRY
        } else {
            self.ttl
        };
        // A clock that stepped backwards makes the elapsed time negative: read again rather
        // than trust the last value until the clock catches up.
        let due = state.attempted_at.is_none_or(|at| {
            let elapsed = now.signed_duration_since(at);
            elapsed >= wait || elapsed < chrono::Duration::zero()
        });
        if due {
            let read = client
                .get_parameter()
                .name(&self.parameter)
                .with_decryption(true)
                .send()
                .await;
            state.attempted_at = Some(now);
            match read {
                Ok(output) => {
                    let value = output.parameter.and_then(|p| p.value).unwrap_or_default();
                    state.last_read = Some((Self::stops_runs(&value), now));
                    state.failure = None;
                }
                Err(error) => {
                    let error = crate::ssm::classify_sdk_error("GetParameter", error);
                    let failure = if error.is_transient() {
                        ReadFailure::Transient
                    } else {
                        ReadFailure::Permanent
                    };
                    tracing::error!(%error, parameter = self.parameter, ?failure, "kill switch unreadable");
                    if failure == ReadFailure::Permanent {
                        // Deleted or forbidden: the old value is never trusted again, even if a
                        // later attempt fails only transiently.
                        state.last_read = None;
                    }
                    state.failure = Some(failure);
                }
            }
            *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
        }
        self.verdict(state, now)
    }

    fn verdict(&self, state: SwitchState, now: DateTime<Utc>) -> SwitchReading {
        let trusted = match (state.failure, state.last_read) {
            (Some(ReadFailure::Permanent), _) | (_, None) => None,
            (None, Some((stops, _))) => Some(stops),
            // One refresh interval of grace beyond the value's own interval, no more.
            (Some(ReadFailure::Transient), Some((stops, read_at))) => {
                (now.signed_duration_since(read_at) < self.ttl + self.ttl).then_some(stops)
            }
        };
        match trusted {
            Some(false) => SwitchReading::Off,
            Some(true) => SwitchReading::On(format!(
                "the kill switch {} is on (it does not read \"off\")",
                self.parameter
            )),
            None => SwitchReading::Unreadable {
                reason: format!(
                    "the kill switch {} cannot be read, so runs are dry",
                    self.parameter
                ),
                transient: state.failure != Some(ReadFailure::Permanent),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const GOOD: &str = "version: 1\nrunbooks:\n  - name: a\n    when: { sources: [pagerduty-v3] }\n    action:\n      ssm_command: { document: AWS-RunShellScript, targets: { tags: { Role: web } } }\n";

    struct Scripted {
        texts: Mutex<Vec<Result<String>>>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl CatalogFetcher for Scripted {
        fn describe(&self) -> String {
            "scripted".into()
        }
        async fn fetch(&self) -> Result<String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.texts.lock().unwrap().remove(0)
        }
    }

    #[tokio::test]
    async fn refreshes_on_ttl_and_keeps_the_last_good_catalog() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let fetcher = Scripted {
            texts: Mutex::new(vec![
                Ok(GOOD.to_owned()),
                Ok("version: 1\nrunbooks: [{ name: BAD }]\n".to_owned()),
                Err(Error::Aws {
                    service: "s3",
                    operation: "GetObject",
                    message: "down".into(),
                    transient: true,
                }),
                Ok(GOOD.replace("name: a", "name: b")),
            ]),
            calls: AtomicUsize::new(0),
        };
        let store = CatalogStore::remote(Box::new(fetcher), Duration::seconds(60), clock.clone())
            .await
            .unwrap();
        let first = store.current().await;
        assert_eq!(first.runbooks[0].name, "a");
        clock.advance(Duration::seconds(61));
        assert_eq!(
            store.current().await.version,
            first.version,
            "an invalid refresh keeps the last good"
        );
        clock.advance(Duration::seconds(61));
        assert_eq!(
            store.current().await.version,
            first.version,
            "a failed refresh keeps the last good"
        );
        clock.advance(Duration::seconds(30));
        assert_eq!(
            store.current().await.runbooks[0].name,
            "a",
            "no refresh within the TTL"
        );
        clock.advance(Duration::seconds(31));
        assert_eq!(store.current().await.runbooks[0].name, "b");
    }

    #[tokio::test]
    async fn an_invalid_catalog_fails_the_cold_start() {
        let fetcher = Scripted {
            texts: Mutex::new(vec![Ok("version: 2\n".to_owned())]),
            calls: AtomicUsize::new(0),
        };
        let error = CatalogStore::remote(
            Box::new(fetcher),
            DEFAULT_REFRESH,
            Arc::new(ManualClock::new(Utc::now())),
        )
        .await
        .err()
        .unwrap();
        assert!(error.to_string().contains("unsupported catalog version 2"));
    }

    #[test]
    fn only_off_lets_runs_go_on() {
        for value in ["off", "OFF", " Off\n", "\toff "] {
            assert!(!KillSwitch::stops_runs(value), "{value:?}");
        }
        for value in [
            "on", "true", "1", "yes", "enabled", "", " ", "of", "off off", "0ff", "disabled",
        ] {
            assert!(KillSwitch::stops_runs(value), "{value:?}");
        }
    }

    #[test]
    fn s3_uris_parse() {
        assert_eq!(
            S3Catalog::parse_uri("s3://b/k/x.yaml").unwrap(),
            ("b".to_owned(), "k/x.yaml".to_owned())
        );
        for bad in ["b/k", "s3://b", "s3:///k", "s3://b/"] {
            assert!(S3Catalog::parse_uri(bad).is_err(), "{bad}");
        }
    }
}
