//! A parsed signing certificate: its validity window and its RSA public key.
//!
//! The certificate is trusted because of where it came from (a URL that passed the
//! [`CertUrl`](crate::CertUrl) rules, fetched over HTTPS from Amazon SNS, or a directory the
//! operator filled), not because of its chain: the chain is not checked, which is also why
//! self-signed test certificates work. What is checked is what the signature depends on:
//! one PEM `CERTIFICATE` block of DER that parses completely, an `rsaEncryption` key of
//! 2048 to 8192 bits with an exponent ring accepts, and validity at the message's `Timestamp`.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use ring::signature::{self, UnparsedPublicKey};
use x509_cert::Certificate;
use x509_cert::der::asn1::UintRef;
use x509_cert::der::{Decode as _, Reader as _, SliceReader, oid::ObjectIdentifier};

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
    /// The PKCS#1 `RSAPublicKey` DER (the SubjectPublicKeyInfo's bit string), which ring's RSA
    /// verifier takes as is.
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
        let der = pem_to_der(pem_bytes)?;
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
            .subject_public_key
            .as_bytes()
            .ok_or("public key is not a whole number of bytes")?
            .to_vec();
        let key_bits = rsa_key_bits(&public_key)?;
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

/// The modulus size of a PKCS#1 `RSAPublicKey` (RFC 8017 A.1.1: a SEQUENCE of the modulus and
/// the public exponent), refusing what ring's verifier would refuse at every verification (an
/// even modulus, an exponent that is even, below 3 or over 33 bits), so that a certificate with
/// an unusable key fails where it is read, with its reason, and not as a bad signature.
fn rsa_key_bits(public_key: &[u8]) -> Result<usize, String> {
    let rejected = |reason: &str| format!("RSA public key rejected: {reason}");
    let mut reader = SliceReader::new(public_key).map_err(|e| rejected(&e.to_string()))?;
    let (modulus, exponent) = reader
        .sequence(|key| {
            Ok::<_, x509_cert::der::Error>((UintRef::decode(key)?, UintRef::decode(key)?))
        })
        .map_err(|e| rejected(&e.to_string()))?;
    reader.finish().map_err(|e| rejected(&e.to_string()))?;
    let bits = |bytes: &[u8]| match bytes.first() {
        // A DER INTEGER's content has no leading zero byte once the sign byte is gone.
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    let (modulus, exponent) = (modulus.as_bytes(), exponent.as_bytes());
    if modulus.last().is_none_or(|last| last % 2 == 0) {
        return Err(rejected("the modulus is even"));
    }
    if exponent.last().is_none_or(|last| last % 2 == 0) || bits(exponent) < 2 || bits(exponent) > 33
    {
        return Err(rejected(
            "the public exponent is not an odd number from 3 to 2^33 - 1",
        ));
    }
    Ok(bits(modulus))
}

/// The DER inside one PEM `CERTIFICATE` block. Lenient about the wrapping (surrounding
/// whitespace, CRLF, line width), which carries no meaning and where a strict RFC 7468
/// reader would turn a harmless formatting change at the source into every message being
/// rejected; strict about everything else (exactly one block, canonical base64, and then
/// DER).
fn pem_to_der(pem_bytes: &[u8]) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = std::str::from_utf8(pem_bytes)
        .map_err(|_| "not a PEM CERTIFICATE block (not UTF-8)".to_owned())?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    let body = text
        .strip_prefix(BEGIN)
        .and_then(|rest| rest.strip_suffix(END))
        .ok_or("not a PEM CERTIFICATE block (no BEGIN/END CERTIFICATE lines around it)")?;
    if body.contains("-----") {
        return Err("more than one PEM block".to_owned());
    }
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|_| "PEM body is not base64".to_owned())
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
            (&b""[..], "not a PEM CERTIFICATE block"),
            (b"hello", "not a PEM CERTIFICATE block"),
            (b"\xff\xfe", "not UTF-8"),
            (
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "not a PEM CERTIFICATE block",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
                "not base64",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
                "more than one PEM block",
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

    /// DER of a length.
    fn der_length(length: usize) -> Vec<u8> {
        match length {
            0..=127 => vec![length as u8],
            128..=255 => vec![0x81, length as u8],
            _ => vec![0x82, (length >> 8) as u8, length as u8],
        }
    }

    /// DER of a TLV.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend(der_length(content.len()));
        out.extend(content);
        out
    }

    /// A positive INTEGER with this magnitude (a sign byte added when the top bit is set).
    fn integer(magnitude: &[u8]) -> Vec<u8> {
        let mut content = Vec::new();
        if magnitude.first().is_some_and(|first| first & 0x80 != 0) {
            content.push(0);
        }
        content.extend(magnitude);
        tlv(0x02, &content)
    }

    fn rsa_public_key(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    /// An odd modulus of `bytes` bytes whose first byte is `first`.
    fn modulus(bytes: usize, first: u8) -> Vec<u8> {
        let mut n = vec![0x5a; bytes];
        n[0] = first;
        n[bytes - 1] = 0x01;
        n
    }

    #[test]
    fn an_rsa_key_is_measured_in_bits() {
        let e = integer(&[0x01, 0x00, 0x01]);
        for (n, bits) in [
            (modulus(256, 0xc0), 2048),
            (modulus(256, 0x40), 2047),
            (modulus(512, 0x80), 4096),
            (modulus(1024, 0xff), 8192),
        ] {
            let key = rsa_public_key(&[integer(&n), e.clone()]);
            assert_eq!(rsa_key_bits(&key), Ok(bits));
        }
        // The smallest exponent ring takes, and the largest (2^33 - 1).
        for e in [vec![0x03], vec![0x01, 0xff, 0xff, 0xff, 0xff]] {
            let key = rsa_public_key(&[integer(&modulus(256, 0xc0)), integer(&e)]);
            assert_eq!(rsa_key_bits(&key), Ok(2048), "{e:?}");
        }
    }

    #[test]
    fn an_rsa_key_ring_would_refuse_is_refused_with_its_reason() {
        let n = integer(&modulus(256, 0xc0));
        let e = integer(&[0x01, 0x00, 0x01]);
        let mut even = modulus(256, 0xc0);
        even[255] = 0x02;
        let mut negative = vec![0x02, 0x82, 0x01, 0x00];
        negative.extend(modulus(256, 0xc0)); // top bit set and no sign byte: negative
        let mut padded = vec![0x02, 0x82, 0x01, 0x02, 0x00, 0x00];
        padded.extend(modulus(256, 0x40)); // a leading zero too many: not DER
        for (key, reason) in [
            (
                rsa_public_key(&[integer(&even), e.clone()]),
                "modulus is even",
            ),
            (
                rsa_public_key(&[n.clone(), integer(&[0x01])]),
                "public exponent",
            ),
            (
                rsa_public_key(&[n.clone(), integer(&[0x02])]),
                "public exponent",
            ),
            (
                rsa_public_key(&[n.clone(), integer(&[0x01, 0x01, 0x00, 0x00])]),
                "public exponent",
            ),
            (
                rsa_public_key(&[n.clone(), integer(&[0x02, 0x00, 0x00, 0x00, 0x01])]),
                "public exponent",
            ),
            (
                rsa_public_key(&[negative, e.clone()]),
                "RSA public key rejected",
            ),
            (
                rsa_public_key(&[padded, e.clone()]),
                "RSA public key rejected",
            ),
            (
                rsa_public_key(&[n.clone(), e.clone(), integer(&[0x01])]),
                "RSA public key rejected",
            ),
            (
                rsa_public_key(std::slice::from_ref(&n)),
                "RSA public key rejected",
            ),
            (
                [rsa_public_key(&[n.clone(), e.clone()]), vec![0x00]].concat(),
                "RSA public key rejected",
            ),
            (Vec::new(), "RSA public key rejected"),
        ] {
            let error = rsa_key_bits(&key).unwrap_err();
            assert!(error.contains(reason), "{error} (wanted {reason})");
            assert!(error.starts_with("RSA public key rejected"), "{error}");
        }
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let big = vec![b'A'; MAX_CERTIFICATE_BYTES + 1];
        let error = SigningCertificate::from_pem(&big).unwrap_err();
        assert!(error.starts_with("larger than"), "{error}");
    }
}

#[cfg(test)]
mod real_certificate {
    use super::*;

    /// The real SNS certificate of tests/fixtures (see its README).
    const REAL: &str = include_str!(
        "../tests/fixtures/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem"
    );

    #[test]
    fn pem_wrapping_variants_are_accepted() {
        let body: String = REAL.lines().filter(|l| !l.starts_with("-----")).collect();
        let rewrapped = |width: usize| {
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(width)
                .filter_map(|c| std::str::from_utf8(c).ok())
                .collect();
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
                lines.join("\n")
            )
        };
        for pem in [
            REAL.to_owned(),
            REAL.trim_end().to_owned(),
            REAL.replace('\n', "\r\n"),
            format!("\n{REAL}\n\n"),
            rewrapped(76),
            rewrapped(10_000),
        ] {
            let certificate = SigningCertificate::from_pem(pem.as_bytes()).unwrap();
            assert_eq!(certificate.key_bits(), 2048);
        }
    }

    #[test]
    fn a_truncated_or_padded_der_is_refused() {
        let body: String = REAL.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let wrap = |der: &[u8]| {
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                base64::engine::general_purpose::STANDARD.encode(der)
            )
        };
        let mut padded = der.clone();
        padded.push(0);
        for pem in [wrap(&der[..der.len() - 1]), wrap(&padded)] {
            let error = SigningCertificate::from_pem(pem.as_bytes()).unwrap_err();
            assert!(error.contains("not an X.509 certificate"), "{error}");
        }
    }
}
