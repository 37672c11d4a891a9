//! SSM's status-change events for commands and automations, from an EventBridge rule. The
//! reading and the answer are in this crate's library; this file wires them to the runtime.

use execution_events::EventsApp;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Configuration, catalog and clients are built once per container; a bad setting fails the
    // cold start here, with the variable named.
    let app = EventsApp::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        app.handle(event).await
    }))
    .await
}
