//! One TLS set-up for every HTTPS client of a function: the AWS SDK's, PagerDuty's, Rundeck's
//! and the SNS certificate fetch all use rustls with the same crypto provider (aws-lc-rs, the
//! SDK's own) and the same root certificates, built once per container.
//!
//! Why not the clients' defaults: each reqwest client reads the operating system's trust store
//! when it is built (rustls-platform-verifier), and the SDK reads it again when it builds its
//! connector. On the project's machine that is about 300 PEM files per read (`strace` showed them
//! as most of a cold start's file reads). `SSL_CERT_FILE`/`SSL_CERT_DIR` are therefore not read
//! (a warning says so when they are set), and trust-store updates of the Lambda image do not
//! apply: the roots change with a rebuild. The roots are compiled in instead (Mozilla's, from `webpki-root-certs`, the
//! rustls project's crate), so nothing is read from disk and the same roots are trusted on every
//! machine. AWS, PagerDuty and Amazon SNS all chain to them. A private certificate authority (an
//! internal Rundeck, a TLS-inspecting proxy) is added with `REMEDIATE_CA_FILE`: a PEM file whose
//! certificates are trusted in addition; an unreadable or empty file fails the cold start.

use aws_smithy_http_client::ConnectorBuilder;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine;
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
    roots: Vec<CertificateDer<'static>>,
    config: Arc<rustls::ClientConfig>,
}

impl SharedTls {
    /// The compiled-in roots, plus the certificates of `extra_pem` (the contents of
    /// `REMEDIATE_CA_FILE`) when given.
    pub fn new(extra_pem: Option<&[u8]>) -> Result<Self> {
        let mut roots: Vec<CertificateDer<'static>> =
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
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
            roots.extend(extra);
        }
        let mut store = RootCertStore::empty();
        let (_, unusable) = store.add_parsable_certificates(roots.iter().cloned());
        if unusable > 0 {
            // The compiled-in roots all parse (a test holds that): an unusable one is the file's.
            // Refused rather than skipped: the SDK's connector would panic on it.
            return Err(Error::config(
                CA_FILE_VARIABLE,
                format!("{unusable} certificate(s) are not usable as trust anchors"),
            ));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::config(CA_FILE_VARIABLE, format!("TLS set-up: {error}")))?
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            roots,
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
        self.roots.len()
    }

    /// A reqwest client builder on this TLS set-up (no trust store read). HTTP/1.1, as before:
    /// reqwest is built without HTTP/2.
    pub fn reqwest_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().tls_backend_preconfigured((*self.config).clone())
    }

    /// The AWS SDK's HTTP client on the same provider and roots, built as the SDK builds its
    /// default one (connector settings, sleep, `HTTPS_PROXY`/`NO_PROXY` from the environment),
    /// with only the trust store changed. The SDK takes roots as PEM only and parses them when it
    /// builds a connector: once per container for each distinct timeout setting.
    pub fn sdk_http_client(&self) -> Result<SharedHttpClient> {
        let engine = base64::engine::general_purpose::STANDARD;
        let trust = self.roots.iter().fold(
            TrustStore::empty().with_native_roots(false),
            |trust, root| {
                let pem = format!(
                    "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                    engine.encode(root.as_ref())
                );
                trust.with_pem_certificate(pem.into_bytes())
            },
        );
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|error| Error::config(CA_FILE_VARIABLE, format!("TLS set-up: {error}")))?;
        Ok(
            aws_smithy_http_client::Builder::new().build_with_connector_fn(
                move |settings, components| {
                    let mut connector = ConnectorBuilder::default()
                        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                        .tls_context(context.clone());
                    connector.set_connector_settings(settings.cloned());
                    if let Some(components) = components {
                        connector.set_sleep_impl(components.sleep_impl());
                    }
                    connector.set_proxy_config(Some(ProxyConfig::from_env()));
                    connector.build()
                },
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_root_is_a_usable_trust_anchor() {
        let tls = SharedTls::new(None).unwrap();
        let mut store = RootCertStore::empty();
        let (added, unusable) = store.add_parsable_certificates(tls.roots.iter().cloned());
        assert_eq!(unusable, 0);
        assert!(added > 100, "only {added} roots");
        assert_eq!(tls.root_count(), added);
    }

    #[test]
    fn an_extra_ca_file_adds_its_certificates() {
        let tls = SharedTls::new(None).unwrap();
        let first = &tls.roots[0];
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(first.as_ref())
        );
        let with_extra = SharedTls::new(Some(pem.as_bytes())).unwrap();
        assert_eq!(with_extra.root_count(), tls.root_count() + 1);
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
        tls.sdk_http_client().unwrap();
    }
}
