//! Run records read back through the sparse indexes: by incident, by runbook, by handle.

use super::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use remediate_core::Result;
use remediate_core::ledger::RunHistory;

impl DynamoLedger {
    async fn query_index(
        &self,
        index: &str,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<RunRecord>> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let mut call = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(key_condition)
                .set_exclusive_start_key(start);
            for (name, value) in &values {
                call = call.expression_attribute_values(*name, value.clone());
            }
            let page = call
                .send()
                .await
                .map_err(|error| from_sdk("dynamodb", "Query", error))?;
            records.extend(page.items().iter().filter_map(record_from_item));
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        records.sort_by_key(|record| record.decided_at);
        Ok(records)
    }
}

#[async_trait]
impl RunHistory for DynamoLedger {
    async fn runs_for_incident(&self, incident_id: &str) -> Result<Vec<RunRecord>> {
        self.query_index(
            INDEX_BY_INCIDENT,
            "incident_id = :id",
            vec![(":id", AttributeValue::S(incident_id.to_owned()))],
        )
        .await
    }

    async fn runs_for_runbook(
        &self,
        runbook: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>> {
        self.query_index(
            INDEX_BY_RUNBOOK,
            "runbook = :runbook AND decided_at BETWEEN :from AND :to",
            vec![
                (":runbook", AttributeValue::S(runbook.to_owned())),
                (":from", iso(from)),
                (":to", iso(to)),
            ],
        )
        .await
    }

    /// A time range crosses every partition: a filtered scan. Fine for a person's occasional
    /// question; the functions never call it.
    async fn runs_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RunRecord>> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix) AND decided_at BETWEEN :from AND :to")
                .expression_attribute_values(":prefix", AttributeValue::S("TRIGGER#".into()))
                .expression_attribute_values(":from", iso(from))
                .expression_attribute_values(":to", iso(to))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| from_sdk("dynamodb", "Scan", error))?;
            records.extend(page.items().iter().filter_map(record_from_item));
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        records.sort_by_key(|record| record.decided_at);
        Ok(records)
    }

    async fn run_by_handle(&self, handle: &str) -> Result<Option<RunRecord>> {
        Ok(self
            .query_index(
                INDEX_BY_HANDLE,
                "command_id = :handle",
                vec![(":handle", AttributeValue::S(handle.to_owned()))],
            )
            .await?
            .into_iter()
            .next())
    }
}
