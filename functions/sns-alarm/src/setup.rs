//! The function built from its environment, once per container: configuration, the catalog,
//! the certificate source, one client per AWS service, the adapters behind the pipeline's ports.

use crate::{AlarmApp, Authentication};
use remediate_adapters::aws::secrets::{DEFAULT_SECRET_TTL, ParameterStoreSecrets};
use remediate_adapters::config::Env;
use remediate_adapters::tls::SharedTls;
use remediate_adapters::{aws, startup};
use remediate_core::secrets::SecretStore;
use remediate_core::{Error, Result};
use remediate_sns_signature::{
    CertificateSource, DirectoryCertificates, HttpsCertificates, Verifier,
};
use std::sync::Arc;

impl AlarmApp {
    /// Build the real app from the environment: called once per container, at cold start. A bad
    /// setting fails here, with the variable named.
    pub async fn from_env() -> Result<Self> {
        let env = Env(|name: &str| std::env::var(name).ok());
        let settings = env.alarm_settings()?;
        let authentication = if settings.verify_signatures {
            let source: Box<dyn CertificateSource> = match DirectoryCertificates::from_env() {
                Some(directory) => {
                    tracing::info!(dir = %directory.dir().display(), "SNS certificates are read from SNS_CERTIFICATES_DIR");
                    Box::new(directory)
                }
                None => {
                    let builder = SharedTls::process()?.reqwest_builder();
                    Box::new(
                        HttpsCertificates::with_client_builder(builder).map_err(|error| {
                            Error::config("SNS_CERTIFICATES_DIR", format!("HTTPS client: {error}"))
                        })?,
                    )
                }
            };
            Authentication::Verify(Verifier::new(source))
        } else {
            Authentication::Unverified
        };
        // Every cold start, so that nobody forgets it is off.
        if !settings.verify_signatures {
            tracing::warn!(
                "SNS_VERIFY_SIGNATURES is false: SNS signatures are not verified; anyone who can invoke this function can make it run runbooks"
            );
        }
        let aws = aws::function_config(&env.aws_settings()?)?;
        let secrets: Arc<dyn SecretStore> = Arc::new(ParameterStoreSecrets::new(
            aws_sdk_ssm::Client::new(&aws),
            DEFAULT_SECRET_TTL,
        ));
        // Alarms have no taps to confirm and no PagerDuty actor.
        let pipeline_settings = settings.run.pipeline(false, None);
        let pipeline =
            startup::pipeline(&env, &settings.run, pipeline_settings, &aws, secrets).await?;
        Ok(Self {
            pipeline,
            authentication,
            settings,
        })
    }
}
