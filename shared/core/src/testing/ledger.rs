//! The ledger's semantics in memory, for unit tests.

use crate::finish::{FollowUp, RunEnding};
use crate::ids::DedupeId;
use crate::ledger::{Claim, ClaimResult, Ledger, RunHistory, RunRecord, new_claim_token};
use crate::outcome::{Outcome, Report};
use crate::ports::runs::{FinishClaim, RunFinishes};
use crate::trigger::Trigger;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone)]
enum MemoryClaim {
    InProgress {
        token: String,
        hold_until: DateTime<Utc>,
    },
    Completed(Report),
}

/// The same semantics in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    claims: Mutex<HashMap<DedupeId, MemoryClaim>>,
    records: Mutex<Vec<RunRecord>>,
    marks: Mutex<HashMap<String, String>>,
    finish_holds: Mutex<HashMap<DedupeId, FinishHold>>,
}

impl InMemoryLedger {
    pub fn records(&self) -> Vec<RunRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Put a run record in, as a completed start would have left it.
    pub fn insert_record(&self, record: RunRecord) {
        self.claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                record.trigger_id.clone(),
                MemoryClaim::Completed(Report::new(record.outcome, record.reason.clone())),
            );
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }

    pub fn completed(&self, dedupe_id: &str) -> Option<Report> {
        match self
            .claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(dedupe_id)
        {
            Some(MemoryClaim::Completed(report)) => Some(report.clone()),
            _ => None,
        }
    }

    pub fn is_held(&self, dedupe_id: &str) -> bool {
        matches!(
            self.claims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(dedupe_id),
            Some(MemoryClaim::InProgress { .. })
        )
    }
}

#[async_trait]
impl Ledger for InMemoryLedger {
    async fn claim(
        &self,
        dedupe_id: &DedupeId,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        match claims.get(dedupe_id) {
            Some(MemoryClaim::Completed(report)) => {
                return Ok(ClaimResult::Completed(report.clone()));
            }
            Some(MemoryClaim::InProgress { hold_until, .. }) if *hold_until >= now => {
                return Ok(ClaimResult::InProgress {
                    hold_until: *hold_until,
                });
            }
            _ => {}
        }
        let token = new_claim_token();
        let taken_over = claims.contains_key(dedupe_id);
        claims.insert(
            dedupe_id.clone(),
            MemoryClaim::InProgress {
                token: token.clone(),
                hold_until: now + hold_for,
            },
        );
        Ok(ClaimResult::Claimed(Claim {
            dedupe_id: dedupe_id.to_owned(),
            token,
            taken_over,
        }))
    }

    async fn complete(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        match claims.get(&claim.dedupe_id) {
            Some(MemoryClaim::InProgress { token, .. }) if *token == claim.token => {
                claims.insert(
                    claim.dedupe_id.clone(),
                    MemoryClaim::Completed(report.clone()),
                );
                self.records
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(RunRecord::new(trigger, report, now));
                Ok(())
            }
            _ => Err(Error::ClaimLost {
                dedupe_id: claim.dedupe_id.clone(),
            }),
        }
    }

    async fn mark_once(&self, key: &str, owner: &DedupeId, _now: DateTime<Utc>) -> Result<bool> {
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let holder = marks
            .entry(key.to_owned())
            .or_insert_with(|| owner.to_string());
        Ok(holder == owner.as_str())
    }

    async fn release(&self, claim: &Claim) -> Result<()> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(claims.get(&claim.dedupe_id), Some(MemoryClaim::InProgress { token, .. }) if *token == claim.token)
        {
            claims.remove(&claim.dedupe_id);
        }
        Ok(())
    }
}

/// A run's ending in progress: who holds its follow-ups, until when.
#[derive(Debug, Clone)]
struct FinishHold {
    token: String,
    hold_until: DateTime<Utc>,
}

impl InMemoryLedger {
    fn with_record<T>(
        &self,
        trigger_id: &DedupeId,
        change: impl FnOnce(&mut RunRecord) -> T,
    ) -> Option<T> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records
            .iter_mut()
            .rev()
            .find(|record| &record.trigger_id == trigger_id)
            .map(change)
    }
}

#[async_trait]
impl RunHistory for InMemoryLedger {
    async fn runs_for_incident(&self, incident_id: &str) -> Result<Vec<RunRecord>> {
        Ok(self
            .records()
            .into_iter()
            .filter(|record| record.incident_id.as_deref() == Some(incident_id))
            .collect())
    }

    async fn runs_for_runbook(
        &self,
        runbook: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>> {
        Ok(self
            .runs_between(from, to)
            .await?
            .into_iter()
            .filter(|record| record.runbook.as_deref() == Some(runbook))
            .collect())
    }

    async fn runs_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RunRecord>> {
        Ok(self
            .records()
            .into_iter()
            .filter(|record| (from..=to).contains(&record.decided_at))
            .collect())
    }

    async fn run_by_handle(&self, handle: &str) -> Result<Option<RunRecord>> {
        Ok(self
            .records()
            .into_iter()
            .find(|record| record.command_id.as_deref() == Some(handle)))
    }
}

#[async_trait]
impl RunFinishes for InMemoryLedger {
    async fn open_runs(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<RunRecord>> {
        let mut open: Vec<RunRecord> = self
            .records()
            .into_iter()
            .filter(|record| {
                record.outcome == Outcome::Executed
                    && record.command_id.is_some()
                    && (record.ending.is_none() || !record.pending.is_empty())
                    && record.decided_at < before
            })
            .collect();
        open.sort_by_key(|record| record.decided_at);
        open.truncate(limit);
        Ok(open)
    }

    async fn begin_finish(
        &self,
        trigger_id: &DedupeId,
        ending: &RunEnding,
        wanted: &[FollowUp],
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<FinishClaim> {
        let mut holds = self.finish_holds.lock().unwrap_or_else(|p| p.into_inner());
        let held = holds
            .get(trigger_id)
            .is_some_and(|hold| hold.hold_until >= now);
        let token = new_claim_token();
        let claim = self.with_record(trigger_id, |record| match &record.ending {
            None if record.outcome == Outcome::Executed && record.command_id.is_some() => {
                record.ending = Some(ending.clone());
                record.run_state = ending.state.as_str().to_owned();
                record.pending = wanted.to_vec();
                FinishClaim::Claimed {
                    token: token.clone(),
                    pending: wanted.to_vec(),
                    ending: ending.clone(),
                }
            }
            None => FinishClaim::NotStarted,
            Some(_) if record.pending.is_empty() => FinishClaim::Done,
            Some(_) if held => FinishClaim::Busy,
            Some(recorded) => FinishClaim::Claimed {
                token: token.clone(),
                pending: record.pending.clone(),
                ending: recorded.clone(),
            },
        });
        let claim = claim.unwrap_or(FinishClaim::NotStarted);
        if matches!(claim, FinishClaim::Claimed { .. }) {
            holds.insert(
                trigger_id.clone(),
                FinishHold {
                    token,
                    hold_until: now + hold_for,
                },
            );
        }
        Ok(claim)
    }

    async fn end_finish(
        &self,
        trigger_id: &DedupeId,
        token: &str,
        left: &[FollowUp],
        _now: DateTime<Utc>,
    ) -> Result<()> {
        let mut holds = self.finish_holds.lock().unwrap_or_else(|p| p.into_inner());
        if holds.get(trigger_id).is_none_or(|hold| hold.token != token) {
            return Err(Error::ClaimLost {
                dedupe_id: trigger_id.clone(),
            });
        }
        holds.remove(trigger_id);
        self.with_record(trigger_id, |record| record.pending = left.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_claim_semantics() {
        let ledger = InMemoryLedger::default();
        let now = Utc::now();
        let hold = Duration::seconds(30);
        let ClaimResult::Claimed(claim) = ledger.claim(&"t1".into(), now, hold).await.unwrap()
        else {
            panic!("first claim must win");
        };
        assert!(matches!(
            ledger.claim(&"t1".into(), now, hold).await.unwrap(),
            ClaimResult::InProgress { .. }
        ));
        // After the hold expires, a redelivery takes over; the old holder can no longer complete.
        let later = now + Duration::seconds(31);
        let ClaimResult::Claimed(takeover) = ledger.claim(&"t1".into(), later, hold).await.unwrap()
        else {
            panic!("expired claim must be taken over");
        };
        assert!(!claim.taken_over);
        assert!(takeover.taken_over);
        let report = Report::new(Outcome::Executed, None);
        let trigger = Trigger {
            source: crate::trigger::Source::PagerDutyV3,
            dedupe_id: "t1".into(),
            event_type: "incident.triggered".into(),
            action: None,
            occurred_at: now,
            incident: None,
            actor: None,
            alarm: None,
            event: None,
            workflow: None,
        };
        assert!(
            ledger
                .complete(&claim, &trigger, &report, later)
                .await
                .is_err()
        );
        ledger
            .complete(&takeover, &trigger, &report, later)
            .await
            .unwrap();
        let records = ledger.records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].run_state, "started");
        assert_eq!(records[0].trigger_id, "t1");
        assert_eq!(
            ledger.claim(&"t1".into(), later, hold).await.unwrap(),
            ClaimResult::Completed(report)
        );
        // A released claim is free at once.
        let ClaimResult::Claimed(other) = ledger.claim(&"t2".into(), now, hold).await.unwrap()
        else {
            panic!()
        };
        ledger.release(&other).await.unwrap();
        assert!(matches!(
            ledger.claim(&"t2".into(), now, hold).await.unwrap(),
            ClaimResult::Claimed(_)
        ));
    }
}
