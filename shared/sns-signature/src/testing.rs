//! Signing for tests and sample generation (feature `testing`): make an RSA key and a
//! self-signed certificate, sign a [`SignedMessage`] as SNS would.
//!
//! Independent of the verifier on purpose, so that a shared mistake cannot make both sides
//! agree: the string to sign is built here from its own field list, and signatures are made
//! with the pure-Rust `rsa` crate (the verifier uses ring, which cannot sign with SHA-1).
//! These functions panic on bad input (an unparseable key): they are for tests and scripts.
#![allow(clippy::expect_used)]

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rsa::pkcs8::DecodePrivateKey as _;
use sha1::Digest as _;

use crate::{SignatureVersion, SignedMessage};

/// A well-formed certificate URL for signed samples (any region would do).
pub const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";

/// The file name [`DirectoryCertificates`](crate::DirectoryCertificates) reads for [`CERT_URL`].
pub const CERT_FILE_NAME: &str = "SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";

/// A new 2048-bit RSA key and a self-signed certificate for it, valid from `valid_from` to
/// `valid_to` (whole seconds): `(certificate PEM, PKCS#8 private key PEM)`.
///
/// # Panics
/// If key generation or certificate signing fails, or a time is out of X.509's range.
pub fn test_certificate(valid_from: DateTime<Utc>, valid_to: DateTime<Utc>) -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .expect("aws-lc generates 2048-bit RSA keys");
    let key_pem = key.serialize_pem();
    (certificate_for_key(&key_pem, valid_from, valid_to), key_pem)
}

/// Another self-signed certificate for an existing key (from [`test_certificate`]), e.g.
/// the same key with another validity window, without generating a new key.
///
/// # Panics
/// If `key_pem` is not an RSA private key, or a time is out of X.509's range.
pub fn certificate_for_key(
    key_pem: &str,
    valid_from: DateTime<Utc>,
    valid_to: DateTime<Utc>,
) -> String {
    let key = rcgen::KeyPair::from_pem(key_pem).expect("key_pem is a PKCS#8 RSA private key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .expect("no subject alternative names is valid");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sns.amazonaws.com (test)");
    params.not_before = offset(valid_from);
    params.not_after = offset(valid_to);
    params
        .self_signed(&key)
        .expect("rcgen signs the certificate")
        .pem()
}

fn offset(t: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp()).expect("time in range")
}

/// The Notification string to sign, built independently of the verifier's.
pub fn notification_string_to_sign(message: &SignedMessage) -> String {
    let mut out = format!(
        "Message\n{}\nMessageId\n{}\n",
        message.message, message.message_id
    );
    if let Some(subject) = &message.subject {
        out += &format!("Subject\n{subject}\n");
    }
    out += &format!(
        "Timestamp\n{}\nTopicArn\n{}\nType\n{}\n",
        message.timestamp, message.topic_arn, message.kind
    );
    out
}

/// Signs `data` with `key_pem` (RSA PKCS#1 v1.5, SHA-1 for V1, SHA-256 for V2): base64.
///
/// # Panics
/// If `key_pem` is not a PKCS#8 RSA private key.
pub fn sign_bytes(key_pem: &str, version: SignatureVersion, data: &[u8]) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(key_pem).expect("key_pem is a PKCS#8 RSA key");
    let signature = match version {
        SignatureVersion::V1 => key.sign(
            rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1::Sha1::digest(data),
        ),
        SignatureVersion::V2 => key.sign(
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(data),
        ),
    }
    .expect("RSA signing succeeds");
    base64::engine::general_purpose::STANDARD.encode(signature)
}

/// Signs `message` as SNS does: sets `signature_version` and `signature` over the
/// Notification string to sign (whatever `kind` says, so tests can sign other types too).
/// Fill every other field, including `signing_cert_url`, first.
///
/// # Panics
/// If `key_pem` is not a PKCS#8 RSA private key.
pub fn sign(message: &mut SignedMessage, key_pem: &str, version: SignatureVersion) {
    message.signature_version = version.as_str().to_owned();
    message.signature = sign_bytes(
        key_pem,
        version,
        notification_string_to_sign(message).as_bytes(),
    );
}
