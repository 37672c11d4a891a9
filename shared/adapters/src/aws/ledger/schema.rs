//! The ledger table's shape, created on demand for local runs and tests.

use super::*;
use remediate_core::Result;

/// Create the ledger table as infra/template.yaml defines it (keys and the four sparse indexes),
/// on demand: for local runs and tests against an emulator. Deployments use the template.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let build_error = |error: aws_sdk_dynamodb::error::BuildError| Error::Aws {
        service: "dynamodb",
        operation: "CreateTable",
        message: error.to_string(),
        transient: false,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let index = |name: &str, hash: &str, range: Option<&str>| {
        let mut builder = GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if let Some(range) = range {
            builder = builder.key_schema(key(range, KeyType::Range)?);
        }
        builder.build()
    };
    let mut call = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash).map_err(build_error)?)
        .key_schema(key("sk", KeyType::Range).map_err(build_error)?)
        .global_secondary_indexes(
            index(INDEX_BY_INCIDENT, "incident_id", Some("decided_at")).map_err(build_error)?,
        )
        .global_secondary_indexes(
            index(INDEX_BY_RUNBOOK, "runbook", Some("decided_at")).map_err(build_error)?,
        )
        .global_secondary_indexes(index(INDEX_BY_HANDLE, "command_id", None).map_err(build_error)?)
        .global_secondary_indexes(
            index(INDEX_BY_OPEN, "open_run", Some("decided_at")).map_err(build_error)?,
        );
    for attribute in [
        "pk",
        "sk",
        "incident_id",
        "runbook",
        "decided_at",
        "command_id",
        "open_run",
    ] {
        call = call.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)?,
        );
    }
    call.send()
        .await
        .map(|_| ())
        .map_err(|error| from_sdk("dynamodb", "CreateTable", error))
}

/// Index names, as infra/template.yaml defines them.
pub const INDEX_BY_INCIDENT: &str = "by_incident";
pub const INDEX_BY_RUNBOOK: &str = "by_runbook";
pub const INDEX_BY_HANDLE: &str = "by_handle";
pub const INDEX_BY_OPEN: &str = "by_open";
