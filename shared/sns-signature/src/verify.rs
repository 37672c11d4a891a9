//! Verification: every check that needs no certificate first, then the certificate
//! (from a per-container cache or a [`CertificateSource`]), its validity at the message's
//! `Timestamp`, and the signature.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::cert_url::CertUrl;
use crate::certificate::SigningCertificate;
use crate::error::VerifyError;
use crate::message::{
    SignatureVersion, SignedMessage, decode_signature, parse_timestamp, rfc3339, string_to_sign,
};
use crate::source::CertificateSource;

/// How many parsed certificates a [`Verifier`] keeps by default. SNS signs with one
/// certificate per region at a time, so this is room for many regions and rotations.
pub const DEFAULT_CACHE_CAPACITY: usize = 32;

/// What a verified message proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed `Timestamp`. Verification does not check freshness (a message signed
    /// long ago still verifies while its certificate was valid then): callers that care
    /// about replays compare this with their clock.
    pub timestamp: DateTime<Utc>,
    /// The signature version used.
    pub version: SignatureVersion,
    /// The certificate URL the key came from.
    pub cert_url: CertUrl,
}

/// A message that passed every check that needs no certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The signed `Timestamp`.
    pub timestamp: DateTime<Utc>,
    /// The signature version.
    pub version: SignatureVersion,
    /// The validated certificate URL.
    pub cert_url: CertUrl,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The string SNS signed.
    pub string_to_sign: String,
}

/// Checks type, `SignatureVersion`, `SigningCertURL`, `Timestamp` and `Signature` encoding,
/// cheapest first, and builds the string to sign. Nothing is fetched or read.
pub fn prepare(message: &SignedMessage) -> Result<Prepared, VerifyError> {
    let string_to_sign = string_to_sign(message)?;
    let version = SignatureVersion::parse(&message.signature_version)?;
    let cert_url = CertUrl::parse(&message.signing_cert_url)?;
    let timestamp = parse_timestamp(&message.timestamp)?;
    let signature = decode_signature(&message.signature)?;
    Ok(Prepared {
        timestamp,
        version,
        cert_url,
        signature,
        string_to_sign,
    })
}

/// Verifies a prepared message against a certificate already obtained for its URL:
/// validity at the message's `Timestamp` (not now: SNS and Lambda retry for hours, and a
/// certificate may rotate in between; the timestamp is signed, so it cannot be moved into
/// another certificate's window), then the signature.
pub fn check_signature(
    prepared: Prepared,
    certificate: &SigningCertificate,
) -> Result<Verified, VerifyError> {
    let url = || prepared.cert_url.as_str().to_owned();
    if !certificate.is_valid_at(&prepared.timestamp) {
        return Err(VerifyError::CertificateNotValidAtTimestamp {
            url: url(),
            timestamp: rfc3339(&prepared.timestamp),
            not_before: rfc3339(&certificate.not_before()),
            not_after: rfc3339(&certificate.not_after()),
        });
    }
    if !certificate.verifies(
        prepared.version,
        prepared.string_to_sign.as_bytes(),
        &prepared.signature,
    ) {
        return Err(VerifyError::SignatureMismatch {
            url: url(),
            version: prepared.version.as_str(),
        });
    }
    Ok(Verified {
        timestamp: prepared.timestamp,
        version: prepared.version,
        cert_url: prepared.cert_url,
    })
}

/// Verifies messages, fetching each certificate once per container.
///
/// The cache holds parsed certificates by URL (validity is checked per message, so a
/// cached certificate serves messages of any time). Failures are not cached: transient
/// ones must be retried, and permanent ones come from messages that are dropped anyway.
/// When full, the oldest entry is evicted. The lock is never held across a fetch.
pub struct Verifier<S> {
    source: S,
    capacity: usize,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    certificates: HashMap<String, Arc<SigningCertificate>>,
    order: VecDeque<String>,
}

impl<S: CertificateSource> Verifier<S> {
    /// A verifier caching up to [`DEFAULT_CACHE_CAPACITY`] certificates.
    pub fn new(source: S) -> Self {
        Self::with_cache_capacity(source, DEFAULT_CACHE_CAPACITY)
    }

    /// A verifier caching up to `capacity` certificates (0 disables the cache).
    pub fn with_cache_capacity(source: S, capacity: usize) -> Self {
        Self {
            source,
            capacity,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The certificate source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// How many certificates are cached.
    pub fn cached_certificates(&self) -> usize {
        self.lock().certificates.len()
    }

    /// Verifies `message`: see [`prepare`], then the certificate, then [`check_signature`].
    pub async fn verify(&self, message: &SignedMessage) -> Result<Verified, VerifyError> {
        let prepared = prepare(message)?;
        let certificate = self.certificate(&prepared.cert_url).await?;
        check_signature(prepared, &certificate)
    }

    /// The parsed certificate at `url`, from the cache or the source.
    pub async fn certificate(&self, url: &CertUrl) -> Result<Arc<SigningCertificate>, VerifyError> {
        if let Some(cached) = self.lock().certificates.get(url.as_str()) {
            return Ok(Arc::clone(cached));
        }
        let pem = self
            .source
            .fetch(url)
            .await
            .map_err(|source| VerifyError::Fetch {
                url: url.as_str().to_owned(),
                source,
            })?;
        let certificate = SigningCertificate::from_pem(&pem)
            .map(Arc::new)
            .map_err(|reason| VerifyError::Certificate {
                url: url.as_str().to_owned(),
                reason,
            })?;
        self.remember(url, &certificate);
        Ok(certificate)
    }

    fn remember(&self, url: &CertUrl, certificate: &Arc<SigningCertificate>) {
        if self.capacity == 0 {
            return;
        }
        let mut cache = self.lock();
        let key = url.as_str().to_owned();
        if cache
            .certificates
            .insert(key.clone(), Arc::clone(certificate))
            .is_some()
        {
            return; // fetched concurrently by another caller: already in `order`
        }
        cache.order.push_back(key);
        while cache.order.len() > self.capacity {
            if let Some(oldest) = cache.order.pop_front() {
                cache.certificates.remove(&oldest);
            }
        }
    }

    /// A panic elsewhere while holding the lock cannot leave the map inconsistent (each
    /// update is one insert/remove), so a poisoned lock is used as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S> std::fmt::Debug for Verifier<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}
