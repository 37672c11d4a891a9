//! The reconciler, on an EventBridge schedule. The pass is the core's
//! (`Finisher::reconcile`); this file wires it to the runtime.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use reconciler::ReconcilerApp;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Configuration, catalog and clients are built once per container; a bad setting fails the
    // cold start here, with the variable named.
    let app = ReconcilerApp::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        app.handle(event).await
    }))
    .await
}
