//! End-to-end verification against self-signed test certificates. The strings to sign are
//! written out literally here, so that the verifier's string building is tested against
//! the documented format, not against itself.

mod common;

use common::{
    MESSAGE, MESSAGE_ID, MemorySource, TIMESTAMP, TOPIC_ARN, notification, other_signer, signed,
    signer, utc,
};
use remediate_sns_signature::testing::{self, CERT_URL};
use remediate_sns_signature::{
    FetchError, SignatureVersion, SignedMessage, Verifier, VerifyError, sns_timestamp,
};

const V1: SignatureVersion = SignatureVersion::V1;
const V2: SignatureVersion = SignatureVersion::V2;

/// The documented string to sign of `notification(Some("Alarm"))`, byte for byte.
fn literal_with_subject() -> String {
    format!(
        "Message\n{MESSAGE}\nMessageId\n{MESSAGE_ID}\nSubject\nAlarm\nTimestamp\n{TIMESTAMP}\nTopicArn\n{TOPIC_ARN}\nType\nNotification\n"
    )
}

/// The documented string to sign of `notification(None)`: no Subject line at all.
fn literal_without_subject() -> String {
    format!(
        "Message\n{MESSAGE}\nMessageId\n{MESSAGE_ID}\nTimestamp\n{TIMESTAMP}\nTopicArn\n{TOPIC_ARN}\nType\nNotification\n"
    )
}

fn verifier() -> (Verifier<MemorySource>, MemorySource) {
    let source = MemorySource::serving(&signer().cert_pem);
    (Verifier::new(source.clone()), source)
}

async fn verify(message: &SignedMessage) -> Result<remediate_sns_signature::Verified, VerifyError> {
    verifier().0.verify(message).await
}

fn signed_literally(
    subject: Option<&str>,
    version: SignatureVersion,
    literal: &str,
) -> SignedMessage {
    let mut message = notification(subject);
    message.signature_version = version.as_str().into();
    message.signature = testing::sign_bytes(&signer().key_pem, version, literal.as_bytes());
    message
}

#[tokio::test]
async fn version_1_sha1_is_accepted() {
    let message = signed_literally(Some("Alarm"), V1, &literal_with_subject());
    let verified = verify(&message).await.unwrap();
    assert_eq!(verified.version, V1);
    assert_eq!(verified.cert_url.as_str(), CERT_URL);
    assert_eq!(
        verified.timestamp,
        utc(2024, 5, 6, 7, 8, 9) + chrono::Duration::milliseconds(123)
    );
}

#[tokio::test]
async fn version_2_sha256_is_accepted() {
    let message = signed_literally(Some("Alarm"), V2, &literal_with_subject());
    assert_eq!(verify(&message).await.unwrap().version, V2);
}

#[tokio::test]
async fn absent_subject_is_left_out_of_the_string_to_sign() {
    for version in [V1, V2] {
        let message = signed_literally(None, version, &literal_without_subject());
        verify(&message).await.unwrap();
    }
}

#[test]
fn testing_signer_signs_the_documented_string() {
    // PKCS#1 v1.5 is deterministic: the helper must produce the literal string's signature.
    for (subject, literal) in [
        (Some("Alarm"), literal_with_subject()),
        (None, literal_without_subject()),
    ] {
        for version in [V1, V2] {
            assert_eq!(
                signed(subject, version).signature,
                signed_literally(subject, version, &literal).signature
            );
        }
    }
}

#[tokio::test]
async fn subject_null_and_empty_string_are_different_messages() {
    let mut message = signed(None, V2);
    message.subject = Some(String::new());
    assert!(matches!(
        verify(&message).await,
        Err(VerifyError::SignatureMismatch { .. })
    ));

    let mut message = signed(Some(""), V2);
    verify(&message).await.unwrap();
    message.subject = None;
    assert!(matches!(
        verify(&message).await,
        Err(VerifyError::SignatureMismatch { .. })
    ));
}

#[tokio::test]
async fn every_tampered_signed_field_is_rejected() {
    type Tamper = fn(&mut SignedMessage);
    let tampers: [(&str, Tamper); 6] = [
        ("Message", |m| m.message.push(' ')),
        ("MessageId", |m| {
            m.message_id = "95df01b4-ee98-5cb9-9903-4c221d41eb5f".into()
        }),
        ("Subject", |m| m.subject = Some("Alarm!".into())),
        ("Subject removed", |m| m.subject = None),
        ("Timestamp", |m| {
            m.timestamp = "2024-05-06T07:08:09.124Z".into()
        }),
        ("TopicArn", |m| {
            m.topic_arn = "arn:aws:sns:us-east-1:123456789012:other".into()
        }),
    ];
    for version in [V1, V2] {
        for (name, tamper) in tampers {
            let mut message = signed(Some("Alarm"), version);
            tamper(&mut message);
            let result = verify(&message).await;
            assert!(
                matches!(result, Err(VerifyError::SignatureMismatch { .. })),
                "{name} ({version:?}): {result:?}"
            );
        }
    }
}

#[tokio::test]
async fn re_splitting_the_signed_string_between_fields_is_refused() {
    // The same signed bytes, re-read with the Subject folded into the MessageId: the
    // string to sign is identical, so only the line-break rule stops this.
    let genuine = signed(Some("Alarm"), V2);
    verify(&genuine).await.unwrap();
    let mut forged = genuine.clone();
    forged.message_id = format!("{MESSAGE_ID}\nSubject\nAlarm");
    forged.subject = None;
    assert_eq!(
        testing::notification_string_to_sign(&forged),
        testing::notification_string_to_sign(&genuine)
    );
    let result = verify(&forged).await;
    assert!(
        matches!(result, Err(VerifyError::LineBreak("MessageId"))),
        "{result:?}"
    );

    // The other way: a Subject line that came from the MessageId.
    let mut forged = genuine.clone();
    forged.subject = Some(format!("Alarm\nTimestamp\n{TIMESTAMP}"));
    let result = verify(&forged).await;
    assert!(
        matches!(result, Err(VerifyError::LineBreak("Subject"))),
        "{result:?}"
    );
    let mut forged = genuine;
    forged.topic_arn.push_str("\nType\nNotification");
    let result = verify(&forged).await;
    assert!(
        matches!(result, Err(VerifyError::LineBreak("TopicArn"))),
        "{result:?}"
    );
}

#[tokio::test]
async fn another_type_is_refused_before_any_fetch() {
    for kind in [
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
        "notification",
        "",
    ] {
        let mut message = notification(Some("Alarm"));
        message.kind = kind.into();
        testing::sign(&mut message, &signer().key_pem, V2);
        let (verifier, source) = verifier();
        let result = verifier.verify(&message).await;
        assert!(
            matches!(result, Err(VerifyError::UnsupportedType(_))),
            "{kind}: {result:?}"
        );
        assert_eq!(source.fetches(), 0);
    }
}

#[tokio::test]
async fn signature_of_one_version_does_not_pass_as_the_other() {
    let mut message = signed(Some("Alarm"), V1);
    message.signature_version = "2".into();
    assert!(matches!(
        verify(&message).await,
        Err(VerifyError::SignatureMismatch { version: "2", .. })
    ));
    let mut message = signed(Some("Alarm"), V2);
    message.signature_version = "1".into();
    assert!(matches!(
        verify(&message).await,
        Err(VerifyError::SignatureMismatch { version: "1", .. })
    ));
}

#[tokio::test]
async fn unknown_signature_versions_are_refused_before_any_fetch() {
    for version in ["", "3", " 1", "1 ", "0", "01", "2\n", "SHA256"] {
        let mut message = signed(Some("Alarm"), V1);
        message.signature_version = version.into();
        let (verifier, source) = verifier();
        let result = verifier.verify(&message).await;
        assert!(
            matches!(result, Err(VerifyError::UnsupportedSignatureVersion(_))),
            "{version:?}: {result:?}"
        );
        assert_eq!(source.fetches(), 0);
    }
}

#[tokio::test]
async fn bad_base64_is_refused_before_any_fetch() {
    let good = signed(Some("Alarm"), V2).signature;
    for bad in [
        String::new(),
        "not base64!".into(),
        format!("{good} "),
        format!(" {good}"),
        good.trim_end_matches('=').to_owned(),
        "A".repeat(5000),
    ] {
        let mut message = signed(Some("Alarm"), V2);
        message.signature = bad;
        let (verifier, source) = verifier();
        let result = verifier.verify(&message).await;
        assert!(
            matches!(result, Err(VerifyError::SignatureEncoding(_))),
            "{result:?}"
        );
        assert_eq!(source.fetches(), 0);
    }
}

#[tokio::test]
async fn signature_by_another_key_is_rejected() {
    for version in [V1, V2] {
        let mut message = notification(Some("Alarm"));
        testing::sign(&mut message, &other_signer().key_pem, version);
        assert!(matches!(
            verify(&message).await,
            Err(VerifyError::SignatureMismatch { .. })
        ));
    }
}

#[tokio::test]
async fn corrupted_signatures_are_rejected() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(signed(Some("Alarm"), V2).signature).unwrap();
    let mut flipped = bytes.clone();
    flipped[17] ^= 1;
    for corrupt in [
        flipped,
        bytes[1..].to_vec(),
        vec![0; bytes.len()],
        vec![0xff; 4],
    ] {
        let mut message = signed(Some("Alarm"), V2);
        message.signature = engine.encode(corrupt);
        assert!(matches!(
            verify(&message).await,
            Err(VerifyError::SignatureMismatch { .. })
        ));
    }
}

/// Signs `timestamp` with [`signer`]'s key and checks it against a certificate for the same
/// key valid from `from` to `to`.
async fn verify_at(
    timestamp: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<(), VerifyError> {
    let cert = testing::certificate_for_key(&signer().key_pem, from, to);
    let mut message = notification(Some("Alarm"));
    message.timestamp = timestamp.into();
    testing::sign(&mut message, &signer().key_pem, V2);
    Verifier::new(MemorySource::serving(&cert))
        .verify(&message)
        .await
        .map(drop)
}

#[tokio::test]
async fn validity_is_checked_at_the_message_timestamp_not_now() {
    let long_expired = (utc(2010, 1, 1, 0, 0, 0), utc(2015, 1, 1, 0, 0, 0));
    // Expired today, valid when SNS signed: accepted.
    verify_at("2012-06-01T00:00:00.000Z", long_expired.0, long_expired.1)
        .await
        .unwrap();
    // Valid today, but not yet valid when the message claims to have been signed: rejected.
    let current = (utc(2023, 1, 1, 0, 0, 0), utc(2099, 1, 1, 0, 0, 0));
    let result = verify_at("2022-12-31T23:59:59.999Z", current.0, current.1).await;
    assert!(
        matches!(
            result,
            Err(VerifyError::CertificateNotValidAtTimestamp { .. })
        ),
        "{result:?}"
    );
    // Expired at the message time: rejected even though the signature is good.
    let result = verify_at("2016-01-01T00:00:00.000Z", long_expired.0, long_expired.1).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, VerifyError::CertificateNotValidAtTimestamp { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("2016-01-01T00:00:00.000Z"),
        "{error}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn validity_bounds_are_inclusive_to_the_second() {
    let (from, to) = (utc(2024, 1, 1, 0, 0, 0), utc(2024, 2, 1, 0, 0, 0));
    verify_at("2024-01-01T00:00:00.000Z", from, to)
        .await
        .unwrap();
    verify_at("2024-02-01T00:00:00.000Z", from, to)
        .await
        .unwrap();
    assert!(
        verify_at("2023-12-31T23:59:59.999Z", from, to)
            .await
            .is_err()
    );
    assert!(
        verify_at("2024-02-01T00:00:00.001Z", from, to)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn unparseable_timestamps_are_refused_before_any_fetch() {
    for timestamp in [
        "",
        "yesterday",
        "2024-05-06",
        "2024-13-06T07:08:09.123Z",
        "2024-05-06T07:08:09.123",
        "1715000000",
    ] {
        let mut message = notification(Some("Alarm"));
        message.timestamp = timestamp.into();
        testing::sign(&mut message, &signer().key_pem, V2);
        let (verifier, source) = verifier();
        let result = verifier.verify(&message).await;
        assert!(
            matches!(result, Err(VerifyError::Timestamp(_))),
            "{timestamp:?}: {result:?}"
        );
        assert_eq!(source.fetches(), 0);
    }
}

#[tokio::test]
async fn lambda_timestamps_rebuilt_with_sns_timestamp_verify() {
    // What the sns-alarm adapter does: aws_lambda_events hands over a DateTime, not the text.
    for sent in [
        "2024-05-06T07:08:09.123Z",
        "2024-05-06T07:08:09.100Z",
        "2024-05-06T07:08:09.000Z",
    ] {
        let mut message = notification(Some("Alarm"));
        message.timestamp = sent.into();
        testing::sign(&mut message, &signer().key_pem, V1);
        let as_lambda_sees_it: chrono::DateTime<chrono::Utc> = sent.parse().unwrap();
        message.timestamp = sns_timestamp(&as_lambda_sees_it);
        verify(&message).await.unwrap();
    }
}

#[tokio::test]
async fn a_bad_certificate_url_is_refused_before_any_fetch() {
    let mut message = signed(Some("Alarm"), V2);
    message.signing_cert_url =
        "https://s3.amazonaws.com/bucket/SimpleNotificationService-0123.pem".into();
    // Even though the source would serve the right certificate at that URL.
    let (verifier, source) = verifier();
    source.insert(&message.signing_cert_url, &signer().cert_pem);
    let result = verifier.verify(&message).await;
    assert!(matches!(result, Err(VerifyError::CertUrl(_))), "{result:?}");
    assert_eq!(source.fetches(), 0);
}

#[tokio::test]
async fn fetch_failures_are_transient_only_when_the_source_says_so() {
    let message = signed(Some("Alarm"), V2);
    let (verifier, source) = verifier();
    source.fail_with(Some(FetchError::Unavailable("connection reset".into())));
    let error = verifier.verify(&message).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("connection reset"), "{error}");
    source.fail_with(Some(FetchError::NotFound("HTTP 404".into())));
    assert!(!verifier.verify(&message).await.unwrap_err().is_transient());
    // A transient failure is not remembered: the next attempt fetches again and succeeds.
    source.fail_with(None);
    verifier.verify(&message).await.unwrap();
    assert_eq!(source.fetches(), 3);
}

#[tokio::test]
async fn unusable_certificates_are_permanent_rejections() {
    let ec_key = rcgen::KeyPair::generate().unwrap();
    let ec_cert = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&ec_key)
        .unwrap()
        .pem();
    let truncated = signer().cert_pem[..400].to_owned();
    let two = format!("{}{}", signer().cert_pem, other_signer().cert_pem);
    for (pem, expected) in [
        (ec_cert.as_str(), "not rsaEncryption"),
        (truncated.as_str(), "PEM"),
        ("<html>Access Denied</html>", "PEM"),
        (signer().key_pem.as_str(), "not a PEM CERTIFICATE block"),
        (two.as_str(), "PEM"),
    ] {
        let message = signed(Some("Alarm"), V2);
        let error = Verifier::new(MemorySource::serving(pem))
            .verify(&message)
            .await
            .unwrap_err();
        match &error {
            VerifyError::Certificate { reason, .. } => {
                assert!(reason.contains(expected), "{reason}")
            }
            other => panic!("expected a certificate error, got {other:?}"),
        }
        assert!(!error.is_transient());
    }
}

#[tokio::test]
async fn certificates_are_fetched_once_and_cached_per_url() {
    let (verifier, source) = verifier();
    for version in [V1, V2, V1] {
        verifier
            .verify(&signed(Some("Alarm"), version))
            .await
            .unwrap();
    }
    assert_eq!(source.fetches(), 1);
    assert_eq!(verifier.cached_certificates(), 1);
}

#[tokio::test]
async fn the_cache_is_bounded_and_evicts_the_oldest() {
    let source = MemorySource::default();
    let verifier = Verifier::with_cache_capacity(source.clone(), 2);
    let url = |i: usize| {
        format!("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-{i:x}.pem")
    };
    for i in 0..3 {
        source.insert(&url(i), &signer().cert_pem);
        let mut message = notification(None);
        message.signing_cert_url = url(i);
        testing::sign(&mut message, &signer().key_pem, V2);
        verifier.verify(&message).await.unwrap();
    }
    assert_eq!(verifier.cached_certificates(), 2);
    assert_eq!(source.fetches(), 3);
    // url(0) was evicted: verifying with it again fetches again; url(2) is still cached.
    for (i, fetches) in [(2, 3), (0, 4)] {
        let mut message = notification(None);
        message.signing_cert_url = url(i);
        testing::sign(&mut message, &signer().key_pem, V2);
        verifier.verify(&message).await.unwrap();
        assert_eq!(source.fetches(), fetches);
    }

    let uncached = Verifier::with_cache_capacity(MemorySource::serving(&signer().cert_pem), 0);
    uncached.verify(&signed(None, V2)).await.unwrap();
    assert_eq!(uncached.cached_certificates(), 0);
}

#[tokio::test]
async fn a_verifier_can_hold_a_boxed_source() {
    let source: Box<dyn remediate_sns_signature::CertificateSource> =
        Box::new(MemorySource::serving(&signer().cert_pem));
    Verifier::new(source)
        .verify(&signed(None, V1))
        .await
        .unwrap();
}
