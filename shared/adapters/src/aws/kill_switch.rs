//! The kill switch's value, read from an SSM parameter.

use crate::aws::from_sdk;
use async_trait::async_trait;
use remediate_core::Result;
use remediate_core::clock::Clock;
use remediate_core::kill_switch::{KillSwitch, SwitchSource};
use std::sync::Arc;

pub struct ParameterSwitch {
    client: aws_sdk_ssm::Client,
    parameter: String,
}

#[async_trait]
impl SwitchSource for ParameterSwitch {
    fn describe(&self) -> &str {
        &self.parameter
    }

    async fn read(&self) -> Result<String> {
        let output = self
            .client
            .get_parameter()
            .name(&self.parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| from_sdk("ssm", "GetParameter", error))?;
        Ok(output.parameter.and_then(|p| p.value).unwrap_or_default())
    }
}

/// The kill switch kept in the SSM parameter `parameter`.
pub fn parameter_switch(
    client: aws_sdk_ssm::Client,
    parameter: String,
    clock: Arc<dyn Clock>,
) -> KillSwitch {
    KillSwitch::new(Box::new(ParameterSwitch { client, parameter }), clock)
}
