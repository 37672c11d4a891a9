//! Amazon SNS message signature verification (SignatureVersion 1 and 2).
//!
//! ```text
//! SignedMessage ──prepare──▶ Type, SignatureVersion, SigningCertURL rules, Timestamp, base64
//!              ──Verifier──▶ certificate (cache, else CertificateSource) ──▶ valid at Timestamp?
//!                                                                       ──▶ RSA signature
//! ```
//!
//! Use from a Lambda function (the adapter maps `aws_lambda_events::sns::SnsMessage`; this
//! crate does not depend on it):
//!
//! ```no_run
//! use remediate_sns_signature::{
//!     CertificateSource, DirectoryCertificates, HttpsCertificates, SignedMessage, Verifier,
//!     sns_timestamp,
//! };
//!
//! # async fn handle(sns_timestamp_from_lambda: chrono::DateTime<chrono::Utc>) -> Result<(), Box<dyn std::error::Error>> {
//! // Once per container, so that certificates stay cached between invocations.
//! let source: Box<dyn CertificateSource> = match DirectoryCertificates::from_env() {
//!     Some(directory) => Box::new(directory), // SNS_CERTIFICATES_DIR: tests, offline runs
//!     None => Box::new(HttpsCertificates::new()?),
//! };
//! let verifier = Verifier::new(source);
//!
//! // Per record: `sns` is the record's SnsMessage.
//! let message = SignedMessage {
//!     kind: "Notification".into(),         // sns.sns_message_type
//!     message_id: "…".into(),              // sns.message_id
//!     topic_arn: "…".into(),               // sns.topic_arn
//!     subject: None,                       // sns.subject
//!     message: "…".into(),                 // sns.message
//!     timestamp: sns_timestamp(&sns_timestamp_from_lambda), // sns.timestamp: see sns_timestamp
//!     signature_version: "1".into(),       // sns.signature_version
//!     signature: "…".into(),               // sns.signature
//!     signing_cert_url: "…".into(),        // sns.signing_cert_url
//! };
//! match verifier.verify(&message).await {
//!     Ok(verified) => { /* trust the message; verified.timestamp for freshness */ }
//!     Err(error) if error.is_transient() => return Err(error.into()), // fail: Lambda retries
//!     Err(error) => { /* drop the record for good, log `error` */ }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Why these crates (at run time, all but x509-cert were already in Cargo.lock):
//! - **ring** verifies the RSA PKCS#1 v1.5 signatures (SHA-1 and SHA-256, 2048–8192-bit
//!   keys). It is already the rustls crypto provider of every client here, so it adds no
//!   code, and unlike rustls-webpki it still verifies SHA-1, which SignatureVersion 1 needs.
//! - **x509-cert** (RustCrypto) reads the certificate's validity and SubjectPublicKeyInfo.
//!   It builds on the der/spki 0.8 crates already in the lock and parses strictly (DER, no
//!   trailing bytes). x509-parser would bring nom and asn1-rs; rustls-webpki does not expose
//!   a certificate's validity or key; ring has no X.509 parser.
//! - **url** is the WHATWG parser reqwest itself uses, for the second opinion on URLs.
//! - **reqwest** (rustls) for [`HttpsCertificates`]; **regex** for the host and path shapes.
//! - Tests and the `testing` feature: **rcgen** (aws-lc-rs backend, which can generate RSA
//!   keys; ring cannot) makes self-signed certificates, and **rsa** + **sha1**/**sha2** sign,
//!   independently of the verifier and including SHA-1, which ring cannot sign with.
//!
//! Not checked, by decision: the certificate chain (trust comes from the URL rules and
//! HTTPS, or from the operator's directory), and message freshness (the caller can compare
//! [`Verified::timestamp`] with its clock). Only `Notification` messages are supported.
//! Stricter than AWS documents: `MessageId`, `Subject` and `TopicArn` must not contain line
//! breaks ([`VerifyError::LineBreak`]), and the certificate key must be 2048 to 8192 bits.
//!
//! No input can make this crate panic: untrusted data is never indexed or unwrapped
//! (a property test feeds random fields).

// Enforced, not just promised: library code cannot unwrap, expect, index or panic (unit
// tests can; the `testing` helpers opt out, they panic on bad keys by design).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod cert_url;
mod certificate;
mod error;
mod message;
mod source;
mod verify;

#[cfg(feature = "testing")]
pub mod testing;

pub use cert_url::CertUrl;
pub use certificate::{MAX_CERTIFICATE_BYTES, SigningCertificate};
pub use error::{CertUrlError, FetchError, Preview, VerifyError};
pub use message::{
    NOTIFICATION, SignatureVersion, SignedMessage, decode_signature, parse_timestamp,
    sns_timestamp, string_to_sign,
};
pub use source::{CertificateSource, DirectoryCertificates, HttpsCertificates};
pub use verify::{DEFAULT_CACHE_CAPACITY, Prepared, Verified, Verifier, check_signature, prepare};
