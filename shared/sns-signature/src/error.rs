//! One error type for every way a message can fail verification.
//!
//! Callers need one decision from it: retry later ([`VerifyError::is_transient`]: the
//! certificate could not be fetched right now) or drop the message for good (everything
//! else: the message, its URL or its certificate is wrong, and retrying cannot change that).
//! Messages name the check that failed and quote at most a short, escaped preview of the
//! offending input, since inputs come from the network and can be huge or hostile.

use std::fmt;

/// How many characters of an offending input an error message quotes.
const PREVIEW_CHARS: usize = 64;

/// A short, escaped quotation of untrusted input for error messages: at most
/// [`PREVIEW_CHARS`] characters, `Debug`-escaped (so control characters and newlines
/// cannot forge log lines), with the full length noted when it was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview(String);

impl Preview {
    /// Quotes `input`, cut to a bounded length on a character boundary.
    pub fn of(input: &str) -> Self {
        let mut chars = input.char_indices();
        match chars.nth(PREVIEW_CHARS) {
            None => Self(format!("{input:?}")),
            Some((cut, _)) => {
                let head = input.get(..cut).unwrap_or_default();
                Self(format!("{head:?}… ({} bytes)", input.len()))
            }
        }
    }
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a `SigningCertURL` was refused. Refused before any certificate is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SigningCertURL {url} rejected: {reason}")]
pub struct CertUrlError {
    url: Preview,
    reason: &'static str,
}

impl CertUrlError {
    pub(crate) fn new(url: &str, reason: &'static str) -> Self {
        Self {
            url: Preview::of(url),
            reason,
        }
    }

    /// Which rule the URL broke, e.g. `"explicit port"`.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// A certificate source could not hand over the certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Network failure, timeout, HTTP 5xx/408/429, or an I/O error other than "not found":
    /// the same request may succeed later. The only transient failure.
    #[error("certificate temporarily unavailable: {0}")]
    Unavailable(String),
    /// The source says there is no such certificate (HTTP 403/404/410, or no such file in
    /// the certificate directory). Retrying the same message gives the same answer.
    #[error("certificate not found: {0}")]
    NotFound(String),
    /// The source answered with something that cannot be a certificate (too large, a
    /// redirect, another 4xx), or the source could not be set up.
    #[error("certificate refused: {0}")]
    Refused(String),
}

impl FetchError {
    /// True when retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Why a message did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// `Type` is not `Notification`. Lambda subscriptions only ever receive notifications;
    /// subscription confirmations go to HTTP(S) endpoints, which this crate does not serve.
    #[error("message Type {0} is not supported: only \"Notification\" messages are verified")]
    UnsupportedType(Preview),
    /// A field that is always one line in genuine messages (`MessageId`, `Subject`,
    /// `TopicArn`) contains a line break. The string to sign joins fields with `\n`, so
    /// such a field could re-split signed bytes into other field values.
    #[error("{0} contains a line break: the string to sign would be ambiguous")]
    LineBreak(&'static str),
    /// `SignatureVersion` is neither `"1"` nor `"2"`.
    #[error(
        "SignatureVersion {0} is not supported: expected \"1\" (RSA SHA-1) or \"2\" (RSA SHA-256)"
    )]
    UnsupportedSignatureVersion(Preview),
    /// The `SigningCertURL` is not an Amazon SNS certificate URL.
    #[error(transparent)]
    CertUrl(#[from] CertUrlError),
    /// `Timestamp` is not an RFC 3339 date-time, so the certificate's validity cannot be checked.
    #[error("Timestamp {0} is not an RFC 3339 date-time")]
    Timestamp(Preview),
    /// `Signature` is not a plausible base64 RSA signature.
    #[error("Signature is not usable: {0}")]
    SignatureEncoding(&'static str),
    /// The fetched bytes are not a usable RSA signing certificate.
    #[error("signing certificate from {url} is unusable: {reason}")]
    Certificate {
        /// The (validated) certificate URL.
        url: String,
        /// Which part of the certificate was wrong.
        reason: String,
    },
    /// The certificate was not valid at the message's `Timestamp`.
    #[error(
        "signing certificate from {url} is not valid at the message Timestamp {timestamp} \
         (valid from {not_before} to {not_after})"
    )]
    CertificateNotValidAtTimestamp {
        /// The (validated) certificate URL.
        url: String,
        /// The message's timestamp, RFC 3339.
        timestamp: String,
        /// Start of the certificate's validity, RFC 3339.
        not_before: String,
        /// End of the certificate's validity, RFC 3339.
        not_after: String,
    },
    /// The signature does not match the string to sign under the certificate's key: the
    /// message was altered, signed by someone else, or signed with another version.
    #[error(
        "Signature does not verify with the certificate from {url} (SignatureVersion {version})"
    )]
    SignatureMismatch {
        /// The (validated) certificate URL.
        url: String,
        /// `"1"` or `"2"`.
        version: &'static str,
    },
    /// The certificate could not be fetched. Transient or not per [`FetchError::is_transient`].
    #[error("signing certificate from {url} could not be fetched: {source}")]
    Fetch {
        /// The (validated) certificate URL.
        url: String,
        /// What the source said.
        #[source]
        source: FetchError,
    },
}

impl VerifyError {
    /// True when the same message may verify later (the certificate could not be fetched
    /// right now): the caller should fail the invocation so that it is retried. False for
    /// every rejection, which no retry can change.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Fetch { source, .. } => source.is_transient(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_keeps_short_input_and_escapes_it() {
        assert_eq!(Preview::of("a\nb").to_string(), "\"a\\nb\"");
    }

    #[test]
    fn preview_cuts_long_input_on_a_char_boundary() {
        let long = "é".repeat(1000);
        let shown = Preview::of(&long).to_string();
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.ends_with("(2000 bytes)"), "{shown}");
    }

    #[test]
    fn only_unavailable_fetches_are_transient() {
        let fetch = |source| VerifyError::Fetch {
            url: "u".into(),
            source,
        };
        assert!(fetch(FetchError::Unavailable("x".into())).is_transient());
        assert!(!fetch(FetchError::NotFound("x".into())).is_transient());
        assert!(!fetch(FetchError::Refused("x".into())).is_transient());
        assert!(!VerifyError::SignatureEncoding("x").is_transient());
    }
}
