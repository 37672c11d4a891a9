//! Hello world on the Lambda runtime: answers every event with `{"hello": "world"}`. It is what
//! every function's init, first invocation, peak memory and size are compared with in
//! scripts/bench (built with the same release profile in the same run).

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "hello": "world" }))
    }))
    .await
}
