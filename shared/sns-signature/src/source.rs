//! Where certificates come from: a port, so that tests and offline runs read PEM files
//! and production fetches from Amazon SNS.
//!
//! Sources are only ever handed a [`CertUrl`] (a URL that passed every rule), so they need
//! no checks of their own on it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;

use crate::cert_url::CertUrl;
use crate::certificate::MAX_CERTIFICATE_BYTES;
use crate::error::FetchError;

/// Hands over the PEM bytes of the certificate at a validated URL.
#[async_trait]
pub trait CertificateSource: Send + Sync {
    /// The PEM bytes (at most [`MAX_CERTIFICATE_BYTES`]), or why not; see [`FetchError`]
    /// for which failures are transient.
    async fn fetch(&self, url: &CertUrl) -> Result<Vec<u8>, FetchError>;
}

#[async_trait]
impl<T: CertificateSource + ?Sized> CertificateSource for Box<T> {
    async fn fetch(&self, url: &CertUrl) -> Result<Vec<u8>, FetchError> {
        (**self).fetch(url).await
    }
}

#[async_trait]
impl<T: CertificateSource + ?Sized> CertificateSource for std::sync::Arc<T> {
    async fn fetch(&self, url: &CertUrl) -> Result<Vec<u8>, FetchError> {
        (**self).fetch(url).await
    }
}

/// Reads `<dir>/<file name of the URL>`, e.g. `<dir>/SimpleNotificationService-<hex>.pem`:
/// for tests, the local emulator runs and `events/` samples, where no network is allowed.
///
/// A missing file is [`FetchError::NotFound`], a permanent rejection, not a transient
/// failure: the directory is fixed at deployment, so retrying the same message finds the
/// same directory, and a message naming a certificate the operator never supplied must not
/// be retried until it lands in a dead-letter queue as if the network were down. Any other
/// I/O error (permissions, a disk error) is [`FetchError::Unavailable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryCertificates {
    dir: PathBuf,
}

impl DirectoryCertificates {
    /// The environment variable [`DirectoryCertificates::from_env`] reads.
    pub const ENV: &'static str = "SNS_CERTIFICATES_DIR";

    /// Certificates in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Certificates in `$SNS_CERTIFICATES_DIR`, when it is set and not empty.
    pub fn from_env() -> Option<Self> {
        Self::from_env_value(std::env::var_os(Self::ENV))
    }

    fn from_env_value(value: Option<std::ffi::OsString>) -> Option<Self> {
        value.filter(|dir| !dir.is_empty()).map(Self::new)
    }

    /// The directory read.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl CertificateSource for DirectoryCertificates {
    async fn fetch(&self, url: &CertUrl) -> Result<Vec<u8>, FetchError> {
        // The file name passed the URL rules: letters, digits, '-' and one '.', no separators.
        let path = self.dir.join(url.file_name());
        // A small local file: a blocking read is shorter than handing it to a thread pool.
        let read = std::fs::metadata(&path).and_then(|meta| {
            if meta.len() > MAX_CERTIFICATE_BYTES as u64 {
                Ok(None)
            } else {
                std::fs::read(&path).map(Some)
            }
        });
        match read {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(FetchError::Refused(format!(
                "{} is larger than {MAX_CERTIFICATE_BYTES} bytes",
                path.display()
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(FetchError::NotFound(format!("no file {}", path.display())))
            }
            Err(e) => Err(FetchError::Unavailable(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Fetches certificates from Amazon SNS over HTTPS (reqwest with rustls).
///
/// Bounded in time ([`HttpsCertificates::TIMEOUT`]) and size ([`MAX_CERTIFICATE_BYTES`],
/// checked while streaming, not after). Redirects are not followed: a redirect could lead
/// away from the host the URL rules accepted. Status codes: 200 is the certificate;
/// 403/404/410 are [`FetchError::NotFound`] (a forged URL naming no certificate: permanent);
/// 408, 429 and 5xx are [`FetchError::Unavailable`] (transient); anything else is
/// [`FetchError::Refused`].
#[derive(Debug, Clone)]
pub struct HttpsCertificates {
    client: reqwest::Client,
    /// Test-only replacement for `https://<host>`, e.g. a local plain-HTTP mock server.
    origin: Option<String>,
}

impl HttpsCertificates {
    /// Whole-request timeout; the function's own timeout must be longer.
    pub const TIMEOUT: Duration = Duration::from_secs(5);
    /// Connection timeout.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

    /// A client that only speaks HTTPS, with reqwest's default TLS set-up (the system's roots)
    /// on ring.
    pub fn new() -> Result<Self, FetchError> {
        Self::build(reqwest::Client::builder(), true, None)
    }

    /// The same on a client builder the caller prepared: its TLS set-up (roots, provider) is
    /// kept, the rules above (HTTPS only, no redirects, timeouts) are applied over it.
    pub fn with_client_builder(builder: reqwest::ClientBuilder) -> Result<Self, FetchError> {
        Self::build(builder, true, None)
    }

    /// A client that fetches `<origin>/<file name>` instead of the URL's own host, over
    /// plain HTTP allowed: for tests against a local mock server only. The URL rules
    /// (https, SNS host) still apply to the message; only where the bytes come from changes.
    #[cfg(any(test, feature = "testing"))]
    pub fn with_origin_for_tests(origin: &str) -> Result<Self, FetchError> {
        Self::build(
            reqwest::Client::builder(),
            false,
            Some(origin.trim_end_matches('/').to_owned()),
        )
    }

    fn build(
        builder: reqwest::ClientBuilder,
        https_only: bool,
        origin: Option<String>,
    ) -> Result<Self, FetchError> {
        // reqwest is built without a crypto provider of its own (the workspace has one, ring):
        // a builder that was not given a TLS configuration uses the process default, so make
        // sure there is one. Already installed (by this or another client) is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = builder
            .https_only(https_only)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Self::TIMEOUT)
            .connect_timeout(Self::CONNECT_TIMEOUT)
            .build()
            .map_err(|e| FetchError::Refused(format!("cannot build the HTTPS client: {e}")))?;
        Ok(Self { client, origin })
    }

    fn target(&self, url: &CertUrl) -> String {
        match &self.origin {
            Some(origin) => format!("{origin}/{}", url.file_name()),
            None => url.as_str().to_owned(),
        }
    }
}

#[async_trait]
impl CertificateSource for HttpsCertificates {
    async fn fetch(&self, url: &CertUrl) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .client
            .get(self.target(url))
            .send()
            .await
            .map_err(|e| FetchError::Unavailable(format!("request failed: {e}")))?;
        let status = response.status();
        match status.as_u16() {
            200 => {}
            403 | 404 | 410 => return Err(FetchError::NotFound(format!("HTTP {status}"))),
            408 | 429 | 500..=599 => return Err(FetchError::Unavailable(format!("HTTP {status}"))),
            _ => return Err(FetchError::Refused(format!("HTTP {status}"))),
        }
        let too_large =
            || FetchError::Refused(format!("larger than {MAX_CERTIFICATE_BYTES} bytes"));
        if response
            .content_length()
            .is_some_and(|length| length > MAX_CERTIFICATE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Unavailable(format!("reading the body failed: {e}")))?
        {
            if body.len() + chunk.len() > MAX_CERTIFICATE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_or_empty_variable_means_no_directory() {
        assert_eq!(DirectoryCertificates::from_env_value(None), None);
        assert_eq!(DirectoryCertificates::from_env_value(Some("".into())), None);
        assert_eq!(
            DirectoryCertificates::from_env_value(Some("/certs".into())),
            Some(DirectoryCertificates::new("/certs"))
        );
    }
}
