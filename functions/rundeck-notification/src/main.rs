//! Rundeck job notifications (webhooks), behind a Lambda Function URL. The route, the secret
//! check and the answers are in this crate's library; this file wires them to the runtime.

use lambda_http::{Error, Request, run, service_fn};
use rundeck_notification::NotificationApp;
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    // Configuration, catalog and clients are built once per container; a bad setting fails the
    // cold start here, with the variable named.
    let app = NotificationApp::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(app.handle(request).await)
    }))
    .await
}
