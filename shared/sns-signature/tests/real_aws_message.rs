//! A message really signed by Amazon SNS, with the real certificate (see tests/fixtures/README.md):
//! the one oracle that owes nothing to this crate or its test signer. It pins the string to
//! sign, the parsing of a CA-issued certificate with real extensions, SHA-1 verification,
//! and validity at the message time (the certificate expired in 2016).

use std::path::Path;

use remediate_sns_signature::{
    DirectoryCertificates, SignatureVersion, SignedMessage, SigningCertificate, Verifier,
    VerifyError, sns_timestamp,
};

fn fixtures() -> DirectoryCertificates {
    DirectoryCertificates::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
}

fn real_message() -> SignedMessage {
    SignedMessage {
        kind: "Notification".into(),
        message_id: "d39649d4-bf5b-5b80-af75-07acb3dd9b4a".into(),
        topic_arn: "arn:aws:sns:us-east-1:810605503585:just_testing".into(),
        subject: Some("this is raw".into()),
        message: "boo".into(),
        timestamp: "2015-09-20T01:22:14.001Z".into(),
        signature_version: "1".into(),
        signature: "fQh5DUyhpw41y6tx/BJuqK2Clvs7uY6N7poaOfzK08E+C6saKq9dMz5b9A0lGWWU7VsB+qHELBaL3OdS9U4BmFI36Ppt5Q6BsWmqSho+1hgwBYFFFZghO6BYXxsNmLml1yZl2X+MQKy3D516hgN7pUvYnvvq2cfsvy21ivU6Oiv96gcte2s+aPUi6O9CAdc2GfZRXCqC9wowKoxhFUUQW/UTHQfxt/60qWgNxhhVwAbPtnXWkAXwxixYKl5qOHcl3u2TxkAHn+1X8XmgjnpvEO5p0vQvOEHXBnGsjPglRXE9g5FVnAFXjhvHXeTWUcVLNI0eSRJeOBPbKpkjeDsR4g==".into(),
        signing_cert_url: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem".into(),
    }
}

#[tokio::test]
async fn a_real_sns_notification_verifies() {
    let verified = Verifier::new(fixtures())
        .verify(&real_message())
        .await
        .unwrap();
    assert_eq!(verified.version, SignatureVersion::V1);
    assert_eq!(
        sns_timestamp(&verified.timestamp),
        "2015-09-20T01:22:14.001Z"
    );
}

#[tokio::test]
async fn the_real_notification_verifies_after_the_lambda_timestamp_round_trip() {
    let mut message = real_message();
    let as_lambda_sees_it: chrono::DateTime<chrono::Utc> = message.timestamp.parse().unwrap();
    message.timestamp = sns_timestamp(&as_lambda_sees_it);
    Verifier::new(fixtures()).verify(&message).await.unwrap();
}

#[tokio::test]
async fn the_real_notification_tampered_is_rejected() {
    let verifier = Verifier::new(fixtures());
    let mut subject_removed = real_message();
    subject_removed.subject = None;
    let mut message_changed = real_message();
    message_changed.message = "boo!".into();
    let mut claims_sha256 = real_message();
    claims_sha256.signature_version = "2".into();
    for message in [subject_removed, message_changed, claims_sha256] {
        let result = verifier.verify(&message).await;
        assert!(
            matches!(result, Err(VerifyError::SignatureMismatch { .. })),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn the_real_certificate_is_not_valid_outside_its_window() {
    // Re-dated messages fail on validity (checked first) as well as on the signature.
    for timestamp in ["2015-08-06T23:59:59.999Z", "2016-08-22T00:00:00.000Z"] {
        let mut message = real_message();
        message.timestamp = timestamp.into();
        let result = Verifier::new(fixtures()).verify(&message).await;
        assert!(
            matches!(
                result,
                Err(VerifyError::CertificateNotValidAtTimestamp { .. })
            ),
            "{timestamp}: {result:?}"
        );
    }
}

#[test]
fn the_real_certificate_parses() {
    let pem = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem"),
    )
    .unwrap();
    let certificate = SigningCertificate::from_pem(&pem).unwrap();
    assert_eq!(certificate.key_bits(), 2048);
    assert_eq!(
        certificate.not_before().to_rfc3339(),
        "2015-08-07T00:00:00+00:00"
    );
    assert_eq!(
        certificate.not_after().to_rfc3339(),
        "2016-08-21T23:59:59+00:00"
    );
}
