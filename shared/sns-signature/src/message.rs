//! The signed fields of an SNS message, and the string SNS signs.

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Preview, VerifyError};

/// The only message type verified (see [`VerifyError::UnsupportedType`]).
pub const NOTIFICATION: &str = "Notification";

/// A signature of an RSA key of at most 8192 bits is 1024 bytes, 1368 base64 characters.
const MAX_SIGNATURE_BASE64: usize = 1368;

/// The string fields of an SNS message that take part in signature verification, exactly
/// as SNS sent them. Neutral on purpose: the Lambda adapter maps
/// `aws_lambda_events::sns::SnsMessage` onto it (see [`sns_timestamp`]), an HTTP endpoint
/// would map its JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedMessage {
    /// `Type`: only `"Notification"` is supported.
    pub kind: String,
    /// `MessageId`.
    pub message_id: String,
    /// `TopicArn`.
    pub topic_arn: String,
    /// `Subject`: `None` when absent or JSON `null`. Not the same as `Some("")`: an absent
    /// subject is left out of the string to sign, an empty one is signed as an empty line.
    pub subject: Option<String>,
    /// `Message`.
    pub message: String,
    /// `Timestamp`, exactly as sent, e.g. `2015-08-18T18:02:32.111Z`.
    pub timestamp: String,
    /// `SignatureVersion`: `"1"` or `"2"`.
    pub signature_version: String,
    /// `Signature`, base64.
    pub signature: String,
    /// `SigningCertURL`.
    pub signing_cert_url: String,
}

/// How SNS signed: RSA PKCS#1 v1.5 with SHA-1 (`"1"`) or SHA-256 (`"2"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureVersion {
    /// `"1"`: SHA1withRSA (the default for topics).
    V1,
    /// `"2"`: SHA256withRSA.
    V2,
}

impl SignatureVersion {
    /// Exactly `"1"` or `"2"`: no trimming, no `"01"`, no absent value.
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        match value {
            "1" => Ok(Self::V1),
            "2" => Ok(Self::V2),
            other => Err(VerifyError::UnsupportedSignatureVersion(Preview::of(other))),
        }
    }

    /// `"1"` or `"2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
        }
    }
}

/// Formats a timestamp the way SNS writes `Timestamp`: UTC, `Z`, exactly three fraction
/// digits (`2015-08-18T18:02:32.111Z`, as in every SNS sample, including those Lambda
/// receives).
///
/// Why: `aws_lambda_events::sns::SnsMessage` parses `Timestamp` into a `DateTime<Utc>` and
/// drops the text SNS signed. The signature covers that text byte for byte, so the Lambda
/// adapter must rebuild it; chrono's `to_rfc3339()` would write `+00:00` and a variable
/// number of fraction digits and never match. SNS timestamps have millisecond precision,
/// so this round-trips every genuine one; if SNS ever wrote another shape, verification
/// fails closed (signature mismatch), it does not pass wrongly.
pub fn sns_timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses `Timestamp` (RFC 3339). Anything else is a rejection: without a time, the
/// certificate's validity cannot be checked.
pub fn parse_timestamp(value: &str) -> Result<DateTime<Utc>, VerifyError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| VerifyError::Timestamp(Preview::of(value)))
}

/// RFC 3339 with milliseconds, for error messages about times.
pub(crate) fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Decodes `Signature`: standard base64 with padding, no whitespace, not empty, not longer
/// than an 8192-bit RSA signature. Checked before any certificate is fetched.
pub fn decode_signature(value: &str) -> Result<Vec<u8>, VerifyError> {
    if value.is_empty() {
        return Err(VerifyError::SignatureEncoding("empty"));
    }
    if value.len() > MAX_SIGNATURE_BASE64 {
        return Err(VerifyError::SignatureEncoding(
            "longer than an 8192-bit RSA signature",
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| VerifyError::SignatureEncoding("not valid base64"))
}

/// The string SNS signs for a `Notification`: `Message`, `MessageId`, `Subject` (only when
/// present), `Timestamp`, `TopicArn`, `Type`, in that (byte) order, each as `name\nvalue\n`.
/// `MessageId`, `Subject` and `TopicArn` must not contain `\n` ([`VerifyError::LineBreak`]).
///
/// Other types are refused: a subscription confirmation signs `SubscribeURL` and `Token`
/// instead of `Subject`, fields a Lambda subscription never receives and [`SignedMessage`]
/// does not carry.
pub fn string_to_sign(message: &SignedMessage) -> Result<String, VerifyError> {
    if message.kind != NOTIFICATION {
        return Err(VerifyError::UnsupportedType(Preview::of(&message.kind)));
    }
    // Fields are joined with '\n' and only `Message` may span lines (SNS subjects "must not
    // include line breaks"; ids and ARNs never do). With every other field on one line and
    // `Type`/`Timestamp` fixed in shape, the signed bytes have exactly one reading; without
    // this, "MessageId\nX\nSubject\nY" could be re-presented as a MessageId "X\nSubject\nY"
    // with no subject and still verify. '\r' is allowed: it does not split lines here.
    for (name, value) in [
        ("MessageId", Some(&message.message_id)),
        ("Subject", message.subject.as_ref()),
        ("TopicArn", Some(&message.topic_arn)),
    ] {
        if value.is_some_and(|v| v.contains('\n')) {
            return Err(VerifyError::LineBreak(name));
        }
    }
    let mut fields: Vec<(&str, &str)> = vec![
        ("Message", &message.message),
        ("MessageId", &message.message_id),
    ];
    if let Some(subject) = &message.subject {
        fields.push(("Subject", subject));
    }
    fields.extend([
        ("Timestamp", message.timestamp.as_str()),
        ("TopicArn", message.topic_arn.as_str()),
        ("Type", message.kind.as_str()),
    ]);
    let size = fields.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(size);
    for (name, value) in fields {
        out.push_str(name);
        out.push('\n');
        out.push_str(value);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn sns_timestamp_always_writes_three_fraction_digits_and_z() {
        let t = Utc.with_ymd_and_hms(2015, 8, 18, 18, 2, 32).unwrap();
        assert_eq!(sns_timestamp(&t), "2015-08-18T18:02:32.000Z");
        let t = t + chrono::Duration::milliseconds(100);
        assert_eq!(sns_timestamp(&t), "2015-08-18T18:02:32.100Z");
    }

    #[test]
    fn sns_timestamp_round_trips_the_reference_samples() {
        // /work/shared/reference/aws/sns-event.json and cloudwatch-alarm-sns-payload-*.json
        for sent in ["2015-08-18T18:02:32.111Z", "2015-06-03T17:43:27.123Z"] {
            let parsed = parse_timestamp(sent).unwrap();
            assert_eq!(sns_timestamp(&parsed), sent);
        }
    }

    #[test]
    fn signature_versions_are_exact() {
        assert_eq!(SignatureVersion::parse("1").unwrap(), SignatureVersion::V1);
        assert_eq!(SignatureVersion::parse("2").unwrap(), SignatureVersion::V2);
        for bad in ["", "3", " 1", "1 ", "01", "v1", "２"] {
            assert!(SignatureVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn string_to_sign_literal() {
        let message = SignedMessage {
            kind: "Notification".into(),
            message_id: "id".into(),
            topic_arn: "arn".into(),
            subject: Some("s".into()),
            message: "m\r\nx".into(),
            timestamp: "t".into(),
            ..SignedMessage::default()
        };
        assert_eq!(
            string_to_sign(&message).unwrap(),
            "Message\nm\r\nx\nMessageId\nid\nSubject\ns\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n"
        );
    }

    #[test]
    fn signature_decoding_limits() {
        assert!(decode_signature("").is_err());
        assert!(decode_signature("AAAA").is_ok());
        assert!(decode_signature("AA AA").is_err());
        assert!(decode_signature("AAA").is_err());
        assert!(decode_signature(&"A".repeat(MAX_SIGNATURE_BASE64 + 4)).is_err());
    }
}
