//! PagerDuty v3 webhook signatures.
//!
//! `X-PagerDuty-Signature: v1=<hex>, v1=<hex>`: HMAC-SHA256 of the raw body with the
//! subscription's secret, hex encoded. PagerDuty sends one entry per active secret while a
//! secret rotates, and we may hold several secrets too: the request is authentic when any entry
//! matches any secret. v3 signatures carry no timestamp, so replay protection is the ledger's
//! claim on the signed `event.id`, not this module's.

use hmac::{Hmac, Mac};
use remediate_core::secrets::Secret;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-pagerduty-signature";
const SCHEME_PREFIX: &str = "v1=";
/// A SHA-256 digest in hex.
const SIGNATURE_HEX_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Valid,
    /// No signature header at all.
    Missing,
    /// A header, but no `v1=` entry that matches any secret.
    Mismatch,
}

/// Verify the raw body against the header, before anything parses the body.
pub fn verify(header: Option<&[u8]>, body: &[u8], secrets: &[Secret]) -> SignatureCheck {
    let Some(header) = header else {
        return SignatureCheck::Missing;
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return SignatureCheck::Mismatch;
    };
    let candidates: Vec<[u8; 32]> = header
        .split(',')
        .filter_map(|entry| entry.trim().strip_prefix(SCHEME_PREFIX))
        .filter(|hex_digest| hex_digest.len() == SIGNATURE_HEX_LEN)
        .filter_map(|hex_digest| {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hex_digest, &mut bytes)
                .ok()
                .map(|()| bytes)
        })
        .collect();
    if candidates.is_empty() {
        return SignatureCheck::Mismatch;
    }
    // Every secret is compared with every entry, with no early exit inside a comparison, so the
    // time taken depends only on how many there are, never on how close a guess was.
    let mut matched = subtle::Choice::from(0u8);
    for secret in secrets {
        let expected = digest(secret.expose().as_bytes(), body);
        for candidate in &candidates {
            matched |= expected.ct_eq(candidate);
        }
    }
    if bool::from(matched) {
        SignatureCheck::Valid
    } else {
        SignatureCheck::Mismatch
    }
}

/// The header value PagerDuty would send for this body and secret. Tests and the demo use it to
/// make valid signatures instead of pasting them.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!(
        "{SCHEME_PREFIX}{}",
        hex::encode(digest(secret.as_bytes(), body))
    )
}

fn digest(key: &[u8], body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|value| Secret::new(*value)).collect()
    }

    const BODY: &[u8] = br#"{"event":{"id":"01"}}"#;

    #[test]
    fn known_vector_matches_an_independent_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn accepts_a_valid_signature() {
        let header = sign("secret-a", BODY);
        assert_eq!(
            verify(Some(header.as_bytes()), BODY, &secrets(&["secret-a"])),
            SignatureCheck::Valid
        );
    }

    #[test]
    fn accepts_any_entry_against_any_secret_with_spaces() {
        let header = format!("v1=deadbeef , {} ,v0=zz", sign("new", BODY));
        assert_eq!(
            verify(Some(header.as_bytes()), BODY, &secrets(&["old", "new"])),
            SignatureCheck::Valid
        );
    }

    #[test]
    fn rejects_missing_wrong_and_malformed() {
        let all = secrets(&["secret-a"]);
        assert_eq!(verify(None, BODY, &all), SignatureCheck::Missing);
        let wrong = sign("secret-b", BODY);
        assert_eq!(
            verify(Some(wrong.as_bytes()), BODY, &all),
            SignatureCheck::Mismatch
        );
        let tampered = sign("secret-a", b"{\"event\":{\"id\":\"02\"}}");
        assert_eq!(
            verify(Some(tampered.as_bytes()), BODY, &all),
            SignatureCheck::Mismatch
        );
        for header in [
            "",
            "v1=",
            "v2=abc",
            "v1=zz",
            "garbage",
            &sign("secret-a", BODY)[3..],
        ] {
            assert_eq!(
                verify(Some(header.as_bytes()), BODY, &all),
                SignatureCheck::Mismatch,
                "{header}"
            );
        }
        assert_eq!(
            verify(Some(&[0xff, 0xfe]), BODY, &all),
            SignatureCheck::Mismatch
        );
    }

    #[test]
    fn no_secret_configured_never_validates() {
        let header = sign("", BODY);
        assert_eq!(
            verify(Some(header.as_bytes()), BODY, &[]),
            SignatureCheck::Mismatch
        );
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let header = sign("secret-a", BODY)
            .to_uppercase()
            .replacen("V1=", "v1=", 1);
        assert_eq!(
            verify(Some(header.as_bytes()), BODY, &secrets(&["secret-a"])),
            SignatureCheck::Valid
        );
    }
}
