//! A results topic in memory.

use crate::ports::results::{ResultMessage, ResultsPublisher};
use crate::{Error, Result};
use async_trait::async_trait;
use std::sync::Mutex;
use tokio::time::Instant;

/// Keeps what was published; the next publish fails with `fail_next` when set.
#[derive(Default)]
pub struct RecordingPublisher {
    pub published: Mutex<Vec<ResultMessage>>,
    pub fail_next: Mutex<Option<Error>>,
}

impl RecordingPublisher {
    pub fn published(&self) -> Vec<ResultMessage> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl ResultsPublisher for RecordingPublisher {
    async fn publish(&self, message: &ResultMessage, _deadline: Instant) -> Result<()> {
        if let Some(error) = self
            .fail_next
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message.clone());
        Ok(())
    }
}
