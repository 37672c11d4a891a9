//! CloudWatch alarms and AWS findings delivered by SNS. The record loop and its report are in
//! this crate's library; this file wires them to the runtime.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use sns_alarm::AlarmApp;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Configuration, catalog, clients and the certificate cache are built once per container; a
    // bad setting fails the cold start here, with the variable named.
    let app = AlarmApp::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        app.handle(event).await
    }))
    .await
}
