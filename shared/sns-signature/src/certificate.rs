//! A parsed signing certificate: its validity window and its RSA public key.
//!
//! The certificate is trusted because of where it came from (a URL that passed the
//! [`CertUrl`](crate::CertUrl) rules, fetched over HTTPS from Amazon SNS, or a directory the
//! operator filled), not because of its chain: the chain is not checked, which is also why
//! self-signed test certificates work. What is checked is what the signature depends on:
//! one PEM `CERTIFICATE` block of DER that parses completely, an `rsaEncryption` key of
//! 2048 to 8192 bits that aws-lc accepts, and validity at the message's `Timestamp`.

use aws_lc_rs::rsa::PublicEncryptingKey;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use chrono::{DateTime, Utc};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _, oid::ObjectIdentifier, pem};

use crate::SignatureVersion;

/// The largest certificate accepted from any source. SNS certificates are about 2 KiB.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// rsaEncryption (RFC 8017): the only key type SNS signs with.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The RSA key sizes accepted, in bits: SNS uses 2048; smaller keys are forgeable.
const KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// A certificate that parsed and carries a usable RSA key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    /// SubjectPublicKeyInfo DER, which aws-lc's RSA verifier takes as is.
    public_key: Vec<u8>,
    key_bits: usize,
}

impl SigningCertificate {
    /// Parses one PEM-encoded X.509 certificate. The error says which part was wrong.
    pub fn from_pem(pem_bytes: &[u8]) -> Result<Self, String> {
        if pem_bytes.len() > MAX_CERTIFICATE_BYTES {
            return Err(format!(
                "larger than {MAX_CERTIFICATE_BYTES} bytes ({} bytes)",
                pem_bytes.len()
            ));
        }
        let (label, der) =
            pem::decode_vec(pem_bytes).map_err(|e| format!("not a single PEM block: {e}"))?;
        if label != "CERTIFICATE" {
            return Err(format!(
                "PEM block is {:?}, not CERTIFICATE",
                label.chars().take(40).collect::<String>()
            ));
        }
        // from_der refuses trailing bytes after the certificate.
        let certificate =
            Certificate::from_der(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let tbs = certificate.tbs_certificate();
        let validity = tbs.validity();
        let not_before =
            to_chrono(validity.not_before.to_unix_duration()).ok_or("notBefore out of range")?;
        let not_after =
            to_chrono(validity.not_after.to_unix_duration()).ok_or("notAfter out of range")?;

        let spki = tbs.subject_public_key_info();
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(format!(
                "public key algorithm {} is not rsaEncryption",
                spki.algorithm.oid
            ));
        }
        let public_key = spki
            .to_der()
            .map_err(|e| format!("public key does not re-encode: {e}"))?;
        let key_bits = PublicEncryptingKey::from_der(&public_key)
            .map_err(|e| format!("RSA public key rejected: {e}"))?
            .key_size_bits();
        if !KEY_BITS.contains(&key_bits) {
            return Err(format!(
                "RSA key of {key_bits} bits is outside 2048 to 8192 bits"
            ));
        }
        Ok(Self {
            not_before,
            not_after,
            public_key,
            key_bits,
        })
    }

    /// Start of validity (notBefore).
    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    /// End of validity (notAfter).
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The RSA modulus size.
    pub fn key_bits(&self) -> usize {
        self.key_bits
    }

    /// Valid at `t`: notBefore ≤ t ≤ notAfter (RFC 5280, both ends included).
    pub fn is_valid_at(&self, t: &DateTime<Utc>) -> bool {
        self.not_before <= *t && *t <= self.not_after
    }

    /// Whether `signature` is this key's RSA PKCS#1 v1.5 signature of `signed` with the
    /// version's hash. Only verification: nothing here needs constant time.
    pub fn verifies(&self, version: SignatureVersion, signed: &[u8], signature: &[u8]) -> bool {
        let algorithm = match version {
            SignatureVersion::V1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            SignatureVersion::V2 => &signature::RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(signed, signature)
            .is_ok()
    }
}

/// A certificate time (seconds since the epoch; x509-cert refuses times before 1970) as chrono.
fn to_chrono(since_epoch: std::time::Duration) -> Option<DateTime<Utc>> {
    let seconds = i64::try_from(since_epoch.as_secs()).ok()?;
    DateTime::from_timestamp(seconds, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for (input, expected) in [
            (&b""[..], "not a single PEM block"),
            (b"hello", "not a single PEM block"),
            (
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "not CERTIFICATE",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "not an X.509 certificate",
            ),
        ] {
            let error = SigningCertificate::from_pem(input).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let big = vec![b'A'; MAX_CERTIFICATE_BYTES + 1];
        let error = SigningCertificate::from_pem(&big).unwrap_err();
        assert!(error.starts_with("larger than"), "{error}");
    }
}
