//! One TLS set-up for every HTTPS client of a function: the AWS SDK's, PagerDuty's, Rundeck's
//! and the SNS certificate fetch all use rustls with the same crypto provider (ring, which also
//! verifies SNS signatures) and the same root certificates, built once per container.
//!
//! Why ring and not aws-lc-rs (the SDK's default): a function needs only TLS 1.2/1.3 client
//! suites and RSA verification, which ring has; aws-lc was 1.3 MiB of every binary's code (issue
//! #11's size limit), ring is a fifth of that. No FIPS mode is offered. A deployment that needs
//! one would switch the provider here, and in `shared/sns-signature` too: SNS signature checking
//! verifies with ring directly (`ring::signature`), and its certificate fetch installs ring as the
//! process's default provider itself (`source.rs`), so it is not one place.
//!
//! Why not the clients' defaults: a reqwest client on its default TLS reads the operating
//! system's trust store when it is built (rustls-platform-verifier), once per client; the SDK's
//! own HTTP client, which the functions no longer use ([`crate::aws::sdk_http`]), read it again.
//! On the project's machine that is about 300 PEM files per read (`strace` showed them as most of
//! a cold start's file reads). `SSL_CERT_FILE`/`SSL_CERT_DIR` are therefore not read
//! (a warning says so when they are set), and trust-store updates of the Lambda image do not
//! apply: the roots change with a rebuild. The roots are compiled in instead, so nothing is read from disk and the same roots are
//! trusted on every machine. AWS, PagerDuty and Amazon SNS all chain to them. They come already parsed
//! (`webpki-roots`, the rustls project's crate of Mozilla's roots as trust anchors), so building
//! the set-up parses nothing but `REMEDIATE_CA_FILE`. A private certificate authority (an
//! internal Rundeck, a TLS-inspecting proxy) is added with `REMEDIATE_CA_FILE`: a PEM file whose
//! certificates are trusted in addition; an unreadable or empty file fails the cold start.

use crate::aws::sdk_http::ReqwestHttpClient;
use remediate_core::{Error, Result};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::{Arc, OnceLock};

/// The variable naming a PEM file of extra root certificates.
pub const CA_FILE_VARIABLE: &str = "REMEDIATE_CA_FILE";

/// The roots and the rustls configuration every client of this container shares.
#[derive(Debug)]
pub struct SharedTls {
    root_count: usize,
    config: Arc<rustls::ClientConfig>,
}

impl SharedTls {
    /// The compiled-in roots, plus the certificates of `extra_pem` (the contents of
    /// `REMEDIATE_CA_FILE`) when given.
    pub fn new(extra_pem: Option<&[u8]>) -> Result<Self> {
        let mut store = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(pem) = extra_pem {
            let extra = CertificateDer::pem_slice_iter(pem)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|error| Error::config(CA_FILE_VARIABLE, format!("not PEM: {error}")))?;
            if extra.is_empty() {
                return Err(Error::config(
                    CA_FILE_VARIABLE,
                    "holds no CERTIFICATE block",
                ));
            }
            let (_, unusable) = store.add_parsable_certificates(extra);
            if unusable > 0 {
                // Refused rather than skipped: a CA the operator named and that is silently
                // missing would only show as failed connections later.
                return Err(Error::config(
                    CA_FILE_VARIABLE,
                    format!("{unusable} certificate(s) are not usable as trust anchors"),
                ));
            }
        }
        let root_count = store.len();
        // ring is also the process default, for any client built without this configuration
        // (reqwest has no provider of its own here and would panic). Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::config(CA_FILE_VARIABLE, format!("TLS set-up: {error}")))?
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            root_count,
            config: Arc::new(config),
        })
    }

    /// The process's shared set-up, built on first use from `REMEDIATE_CA_FILE` (empty is unset,
    /// as an empty template parameter gives). Functions call it at cold start (every client is
    /// built then), so a bad file fails the start.
    pub fn process() -> Result<&'static SharedTls> {
        static SHARED: OnceLock<std::result::Result<SharedTls, String>> = OnceLock::new();
        let shared = SHARED.get_or_init(|| {
            for ignored in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
                if std::env::var_os(ignored).is_some() {
                    tracing::warn!(
                        variable = ignored,
                        "{ignored} is set but not read: the roots are compiled in; put extra ones in {CA_FILE_VARIABLE}"
                    );
                }
            }
            let extra = match std::env::var_os(CA_FILE_VARIABLE).filter(|path| !path.is_empty()) {
                Some(path) => Some(std::fs::read(&path).map_err(|error| {
                    format!("cannot read {}: {error}", path.to_string_lossy())
                })?),
                None => None,
            };
            SharedTls::new(extra.as_deref()).map_err(|error| match error {
                Error::Config { reason, .. } => reason,
                other => other.to_string(),
            })
        });
        shared
            .as_ref()
            .map_err(|reason| Error::config(CA_FILE_VARIABLE, reason.clone()))
    }

    /// How many roots are trusted.
    pub fn root_count(&self) -> usize {
        self.root_count
    }

    /// A reqwest client builder on this TLS set-up (no trust store read). HTTP/1.1, as before:
    /// reqwest is built without HTTP/2.
    pub fn reqwest_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().tls_backend_preconfigured((*self.config).clone())
    }

    /// The AWS SDK's HTTP client: reqwest on this same set-up ([`ReqwestHttpClient`]), so that
    /// the SDK, PagerDuty, Rundeck and the SNS certificate fetch share one TLS configuration.
    pub fn sdk_http_client(&self) -> ReqwestHttpClient {
        let config = self.config.clone();
        ReqwestHttpClient::new(move || {
            reqwest::Client::builder().tls_backend_preconfigured((*config).clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate of the repository's (the SNS fixtures' signing certificate), as PEM.
    const SOME_CERTIFICATE: &str = include_str!(
        "../../../events/sns/certificates/SimpleNotificationService-5a3e7c1d9b2f48e6a0c4d8f2b6e1a9c7.pem"
    );

    #[test]
    fn the_roots_aws_and_pagerduty_chain_to_are_compiled_in() {
        let tls = SharedTls::new(None).unwrap();
        assert!(tls.root_count() > 100, "only {} roots", tls.root_count());
        // AWS endpoints chain to Amazon's roots (or Starfield's, cross-signed); PagerDuty's
        // and SNS's certificate hosts to the same families. A subject names its CN as text.
        let subjects: Vec<&[u8]> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| anchor.subject.as_ref())
            .collect();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 3",
            "Starfield Services Root Certificate Authority - G2",
            "ISRG Root X1",
        ] {
            assert!(
                subjects
                    .iter()
                    .any(|subject| subject.windows(name.len()).any(|w| w == name.as_bytes())),
                "{name} is not among the compiled-in roots"
            );
        }
    }

    #[test]
    fn an_extra_ca_file_adds_its_certificates() {
        let tls = SharedTls::new(None).unwrap();
        let with_extra = SharedTls::new(Some(SOME_CERTIFICATE.as_bytes())).unwrap();
        assert_eq!(with_extra.root_count(), tls.root_count() + 1);
        let twice = format!("{SOME_CERTIFICATE}\n{SOME_CERTIFICATE}");
        let with_two = SharedTls::new(Some(twice.as_bytes())).unwrap();
        assert_eq!(with_two.root_count(), tls.root_count() + 2);
    }

    #[test]
    fn an_extra_ca_file_without_a_certificate_fails_naming_the_variable() {
        for bad in [
            &b""[..],
            b"not a certificate",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let error = SharedTls::new(Some(bad)).unwrap_err().to_string();
            assert!(error.contains(CA_FILE_VARIABLE), "{error}");
        }
    }

    #[test]
    fn a_certificate_block_that_is_no_certificate_is_refused() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = SharedTls::new(Some(pem)).unwrap_err().to_string();
        assert!(error.contains(CA_FILE_VARIABLE), "{error}");
    }

    #[tokio::test]
    async fn the_clients_build_on_the_shared_set_up() {
        let tls = SharedTls::new(None).unwrap();
        tls.reqwest_builder().build().unwrap();
        let sdk = tls.sdk_http_client();
        sdk.client((Some(std::time::Duration::from_secs(1)), None))
            .unwrap();
    }
}
