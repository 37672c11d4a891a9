//! Who sent a record: the topic allowlist and the SNS signature, checked on the envelope's
//! fields as SNS signed them, before a byte of the message is parsed.

use crate::answer::RetryLater;
use aws_lambda_events::sns::SnsMessage;
use remediate_adapters::config::AlarmSettings;
use remediate_sns_signature::{CertificateSource, SignedMessage, Verifier, sns_timestamp};

/// How records are authenticated, decided once at cold start.
pub enum Authentication {
    /// Every record's signature is verified; certificates are cached for the container.
    Verify(Verifier<Box<dyn CertificateSource>>),
    /// `SNS_VERIFY_SIGNATURES=false`: only the topic allowlist is checked. Logged as a warning at
    /// every cold start.
    Unverified,
}

/// The fields SNS signed, as the Lambda event carries them. Lambda parses `Timestamp` into a
/// date; [`sns_timestamp`] writes it back exactly as SNS does (milliseconds, `Z`).
pub fn signed_message(sns: &SnsMessage) -> SignedMessage {
    SignedMessage {
        kind: sns.sns_message_type.clone(),
        message_id: sns.message_id.clone(),
        topic_arn: sns.topic_arn.clone(),
        subject: sns.subject.clone(),
        message: sns.message.clone(),
        timestamp: sns_timestamp(&sns.timestamp),
        signature_version: sns.signature_version.clone(),
        signature: sns.signature.clone(),
        signing_cert_url: sns.signing_cert_url.clone(),
    }
}

impl Authentication {
    /// `Ok(Ok(()))` when the record may be read, `Ok(Err(reason))` when it is rejected for good,
    /// `Err` when verification failed for a reason that passes (a certificate that could not be
    /// fetched): the event is then retried.
    pub async fn check(
        &self,
        settings: &AlarmSettings,
        sns: &SnsMessage,
    ) -> Result<Result<(), String>, RetryLater> {
        if !settings.topic_allowlist.is_empty()
            && !settings.topic_allowlist.contains(&sns.topic_arn)
        {
            return Ok(Err(format!(
                "topic {} is not in SNS_TOPIC_ARNS",
                sns.topic_arn
            )));
        }
        let Authentication::Verify(verifier) = self else {
            return Ok(Ok(()));
        };
        match verifier.verify(&signed_message(sns)).await {
            Ok(_) => Ok(Ok(())),
            Err(error) if error.is_transient() => {
                tracing::error!(%error, "signature verification failed for a reason that passes");
                Err(RetryLater {
                    message_id: sns.message_id.clone(),
                    reason: format!("signature not verified yet: {error}"),
                })
            }
            Err(error) => Ok(Err(format!("SNS signature: {error}"))),
        }
    }
}
