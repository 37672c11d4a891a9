//! Where a function gets its catalog.
//!
//! Sources: compiled in from `infra/runbooks.yaml` (the default), a file (`RUNBOOKS_FILE`, for
//! local runs), an SSM parameter (`RUNBOOKS_PARAMETER`, small catalogs: 8 KB at most) or an S3
//! object (`RUNBOOKS_S3_URI`, any size up to 5 MB). Remote catalogs are read again every
//! `RUNBOOKS_REFRESH_SECONDS`, so runbooks change without a redeploy; a refresh that fails or
//! reads an invalid catalog keeps the last good one and logs an error. A bad catalog at cold
//! start fails the init with the errors.

use crate::Result;
use crate::catalog::Catalog;
use crate::clock::Clock;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

pub const DEFAULT_REFRESH: Duration = Duration::seconds(60);

/// A remote place a catalog's text is read from.
#[async_trait]
pub trait CatalogFetcher: Send + Sync {
    /// A name for logs and errors (`ssm:/remediate/runbooks`, `s3://bucket/key`).
    fn describe(&self) -> String;
    async fn fetch(&self) -> Result<String>;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::testing::ManualClock;
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
}
