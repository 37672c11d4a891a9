//! Shared fixtures: keys are generated once per test binary (RSA generation is the slow part).
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use remediate_sns_signature::testing::{self, CERT_URL};
use remediate_sns_signature::{CertUrl, CertificateSource, FetchError, SignedMessage};

/// The signing key and its certificate, valid 2020-01-01 to 2040-01-01.
pub struct Signer {
    pub key_pem: String,
    pub cert_pem: String,
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
}

/// The main test key (certificate valid 2020..2040).
pub fn signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let (cert_pem, key_pem) =
            testing::test_certificate(utc(2020, 1, 1, 0, 0, 0), utc(2040, 1, 1, 0, 0, 0));
        Signer { key_pem, cert_pem }
    })
}

/// A second, unrelated key (certificate valid 2020..2040).
pub fn other_signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let (cert_pem, key_pem) =
            testing::test_certificate(utc(2020, 1, 1, 0, 0, 0), utc(2040, 1, 1, 0, 0, 0));
        Signer { key_pem, cert_pem }
    })
}

/// The time the sample messages were "sent".
pub const TIMESTAMP: &str = "2024-05-06T07:08:09.123Z";
pub const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:alarms";
pub const MESSAGE_ID: &str = "95df01b4-ee98-5cb9-9903-4c221d41eb5e";
pub const MESSAGE: &str = "{\"AlarmName\": \"cpu\",\n\"NewStateValue\": \"ALARM\"}";

/// An unsigned Notification with the sample fields.
pub fn notification(subject: Option<&str>) -> SignedMessage {
    SignedMessage {
        kind: "Notification".into(),
        message_id: MESSAGE_ID.into(),
        topic_arn: TOPIC_ARN.into(),
        subject: subject.map(str::to_owned),
        message: MESSAGE.into(),
        timestamp: TIMESTAMP.into(),
        signature_version: String::new(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
    }
}

/// A notification signed with [`signer`] via the testing helper.
pub fn signed(
    subject: Option<&str>,
    version: remediate_sns_signature::SignatureVersion,
) -> SignedMessage {
    let mut message = notification(subject);
    testing::sign(&mut message, &signer().key_pem, version);
    message
}

/// An in-memory certificate source that counts fetches and can be told to fail.
#[derive(Default, Clone)]
pub struct MemorySource {
    pub certificates: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    pub failure: Arc<Mutex<Option<FetchError>>>,
    pub fetches: Arc<AtomicUsize>,
}

impl MemorySource {
    /// Serves `pem` at [`CERT_URL`].
    pub fn serving(pem: &str) -> Self {
        let source = Self::default();
        source.insert(CERT_URL, pem);
        source
    }

    pub fn insert(&self, url: &str, pem: &str) {
        self.certificates
            .lock()
            .unwrap()
            .insert(url.to_owned(), pem.as_bytes().to_vec());
    }

    pub fn fail_with(&self, error: Option<FetchError>) {
        *self.failure.lock().unwrap() = error;
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl CertificateSource for MemorySource {
    async fn fetch(&self, url: &CertUrl) -> Result<Vec<u8>, FetchError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if let Some(error) = self.failure.lock().unwrap().clone() {
            return Err(error);
        }
        self.certificates
            .lock()
            .unwrap()
            .get(url.as_str())
            .cloned()
            .ok_or_else(|| FetchError::NotFound(url.as_str().to_owned()))
    }
}
