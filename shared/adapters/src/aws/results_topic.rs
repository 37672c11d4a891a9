//! The results topic on SNS: one `Publish` per outcome, with message attributes for the
//! runbook, the outcome and the source, so that each subscriber filters for what it wants
//! (an SNS subscription filter policy) instead of receiving everything.

use super::from_sdk;
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use remediate_core::ports::results::{ResultMessage, ResultsPublisher};
use remediate_core::{Error, Result};
use tokio::time::Instant;

pub struct SnsResults {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsResults {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// A FIFO topic needs a message group and a de-duplication id on every publish.
    fn is_fifo(&self) -> bool {
        self.topic_arn.ends_with(".fifo")
    }
}

fn attribute(value: String) -> Result<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|error| Error::Aws {
            service: "sns",
            operation: "Publish",
            message: format!("message attribute: {error}"),
            transient: false,
        })
}

#[async_trait]
impl ResultsPublisher for SnsResults {
    async fn publish(&self, message: &ResultMessage, deadline: Instant) -> Result<()> {
        let body = serde_json::to_string(message).map_err(|error| Error::Aws {
            service: "sns",
            operation: "Publish",
            message: format!("the result does not serialise: {error}"),
            transient: false,
        })?;
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(message.subject())
            .message(body);
        for (name, value) in message.attributes() {
            request = request.message_attributes(name, attribute(value)?);
        }
        if self.is_fifo() {
            // One group per runbook keeps each runbook's results in order; the id makes a
            // retried publish of the same outcome a no-op for five minutes.
            let dedupe = format!(
                "{}\n{}\n{}\n{}",
                message.trigger_id,
                message.outcome,
                message.run_state,
                message.verification.is_some()
            );
            request = request
                .message_group_id(message.runbook.as_deref().unwrap_or("remediate"))
                .message_deduplication_id(
                    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, dedupe.as_bytes()).to_string(),
                );
        }
        match tokio::time::timeout_at(deadline, request.send()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(from_sdk("sns", "Publish", error)),
            Err(_) => Err(Error::Aws {
                service: "sns",
                operation: "Publish",
                message: "no time left in the response budget".to_owned(),
                transient: true,
            }),
        }
    }
}
