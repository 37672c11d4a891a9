//! Random input never panics, and never verifies.

mod common;

use base64::Engine as _;
use common::{MemorySource, signed, signer};
use proptest::prelude::*;
use remediate_sns_signature::testing::CERT_URL;
use remediate_sns_signature::{SignatureVersion, SignedMessage, SigningCertificate, Verifier};

/// Either a random string or a plausible value, so that random runs get past the early
/// checks and reach the certificate and signature checks too.
fn field(plausible: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        prop::sample::select(plausible).prop_map(str::to_owned),
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn message() -> impl Strategy<Value = SignedMessage> {
    (
        (
            field(&["Notification", "SubscriptionConfirmation", ""]),
            field(&["95df01b4-ee98-5cb9-9903-4c221d41eb5e"]),
            field(&["arn:aws:sns:us-east-1:123456789012:alarms"]),
            prop::option::of(field(&["Alarm", ""])),
            field(&["{}", "Hello\r\nworld!"]),
        ),
        (
            field(&[
                "2024-05-06T07:08:09.123Z",
                "2015-08-18T18:02:32.111Z",
                "9999-12-31T23:59:59.999Z",
            ]),
            field(&["1", "2", "3"]),
            prop_oneof![
                ".{0,40}",
                prop::collection::vec(any::<u8>(), 0..600)
                    .prop_map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            ],
            field(&[CERT_URL]),
        ),
    )
        .prop_map(
            |(
                (kind, message_id, topic_arn, subject, message),
                (timestamp, version, signature, url),
            )| {
                SignedMessage {
                    kind,
                    message_id,
                    topic_arn,
                    subject,
                    message,
                    timestamp,
                    signature_version: version,
                    signature,
                    signing_cert_url: url,
                }
            },
        )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_messages_never_panic_and_never_verify(message in message()) {
        let verifier = Verifier::new(MemorySource::serving(&signer().cert_pem));
        let result = runtime().block_on(verifier.verify(&message));
        prop_assert!(result.is_err(), "random message verified: {message:?}");
        if let Err(error) = result {
            // Bounded messages, whatever the input size.
            prop_assert!(error.to_string().len() < 600, "{error}");
        }
    }

    /// A genuine message with one field replaced verifies only if the field is unchanged:
    /// random runs that reach the certificate and signature checks.
    #[test]
    fn one_changed_field_of_a_genuine_message_never_verifies(
        which in 0usize..9,
        value in prop_oneof![".{0,40}", prop::sample::select(vec!["Notification", "1", "2", "", "Alarm"]).prop_map(str::to_owned)],
        version in prop::sample::select(vec![SignatureVersion::V1, SignatureVersion::V2]),
    ) {
        // Signing is slow in debug builds: sign each version once.
        static GENUINE: std::sync::OnceLock<[SignedMessage; 2]> = std::sync::OnceLock::new();
        let [v1, v2] = GENUINE.get_or_init(|| {
            [signed(Some("Alarm"), SignatureVersion::V1), signed(Some("Alarm"), SignatureVersion::V2)]
        });
        let genuine = if version == SignatureVersion::V1 { v1.clone() } else { v2.clone() };
        let mut message = genuine.clone();
        match which {
            0 => message.kind = value,
            1 => message.message_id = value,
            2 => message.topic_arn = value,
            3 => message.subject = Some(value),
            4 => message.subject = None,
            5 => message.message = value,
            6 => message.timestamp = value,
            7 => message.signature_version = value,
            _ => message.signature = value,
        }
        let verifier = Verifier::new(MemorySource::serving(&signer().cert_pem));
        let result = runtime().block_on(verifier.verify(&message));
        prop_assert_eq!(result.is_ok(), message == genuine, "{:?}", result);
    }

    #[test]
    fn random_bytes_are_never_a_certificate(bytes in any::<Vec<u8>>()) {
        prop_assert!(SigningCertificate::from_pem(&bytes).is_err());
    }

    /// Single-byte corruptions of a genuine certificate's DER never panic the parser.
    #[test]
    fn corrupted_certificates_never_panic(position in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let engine = base64::engine::general_purpose::STANDARD;
        let body: String = signer().cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut der = engine.decode(body).unwrap();
        let at = position.index(der.len());
        if cut { der.truncate(at); } else { der[at] = byte; }
        let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", engine.encode(&der));
        let _ = SigningCertificate::from_pem(pem.as_bytes());
    }
}
