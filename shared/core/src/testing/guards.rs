//! Guard state (cooldowns, rate windows) in memory.

use crate::Result;
use crate::guards::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// (runbook, target).
type CooldownKey = (String, String);

/// Guard state in memory: unit tests, and the CLI.
#[derive(Debug, Default)]
pub struct InMemoryGuards {
    cooldowns: Mutex<HashMap<CooldownKey, (DateTime<Utc>, String)>>,
    windows: Mutex<HashMap<(String, i64), std::collections::HashSet<String>>>,
    noted: Mutex<std::collections::HashSet<(String, String, i64)>>,
}

impl GuardView for InMemoryGuards {
    fn cooldown_until(&self, runbook: &str, target: &str) -> Option<DateTime<Utc>> {
        self.cooldowns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(runbook.to_owned(), target.to_owned()))
            .map(|(until, _)| *until)
    }

    fn runs_in_window(&self, runbook: &str, window_start: DateTime<Utc>) -> u32 {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(runbook.to_owned(), window_start.timestamp()))
            .map_or(0, |runs| u32::try_from(runs.len()).unwrap_or(u32::MAX))
    }
}

#[async_trait]
impl GuardStore for InMemoryGuards {
    async fn reserve(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<Reserved> {
        // One lock over both maps: the check and the take are one step.
        let mut cooldowns = self.cooldowns.lock().unwrap_or_else(|p| p.into_inner());
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let cooldown_key = (reservation.runbook.clone(), reservation.target.clone());
        // A cooldown of this very run (its holder died after reserving) does not hold it back;
        // its window place below is counted once either way.
        if reservation.cooldown_seconds.is_some()
            && let Some((until, holder)) = cooldowns.get(&cooldown_key)
            && *until > now
            && *holder != reservation.run_id
        {
            return Ok(Reserved::CoolingDown { until: *until });
        }
        if let Some(limit) = reservation.max_runs {
            let start = window_start(now, limit.window_seconds);
            let runs = windows
                .entry((reservation.runbook.clone(), start.timestamp()))
                .or_default();
            // Each run counts once, however often its place is taken (a retry, a takeover).
            if !runs.contains(&reservation.run_id) {
                if runs.len() >= limit.count as usize {
                    return Ok(Reserved::WindowFull {
                        limit,
                        window_start: start,
                    });
                }
                runs.insert(reservation.run_id.clone());
            }
        }
        if let Some(seconds) = reservation.cooldown_seconds {
            cooldowns.insert(
                cooldown_key,
                (after(now, seconds), reservation.run_id.clone()),
            );
        }
        Ok(Reserved::Granted)
    }

    async fn first_suppression(
        &self,
        reservation: &Reservation,
        held_until: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(self
            .noted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((
                reservation.runbook.clone(),
                reservation.target.clone(),
                held_until.timestamp(),
            )))
    }

    async fn release(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<()> {
        let mut cooldowns = self.cooldowns.lock().unwrap_or_else(|p| p.into_inner());
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let cooldown_key = (reservation.runbook.clone(), reservation.target.clone());
        // Only the run that holds the cooldown gives it back (a late release by an earlier run
        // must not free a later run's).
        if reservation.cooldown_seconds.is_some()
            && cooldowns
                .get(&cooldown_key)
                .is_some_and(|(_, holder)| *holder == reservation.run_id)
        {
            cooldowns.remove(&cooldown_key);
        }
        if let Some(limit) = reservation.max_runs {
            let key = (
                reservation.runbook.clone(),
                window_start(now, limit.window_seconds).timestamp(),
            );
            if let Some(runs) = windows.get_mut(&key) {
                runs.remove(&reservation.run_id);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::RateLimit;
    use chrono::Duration;

    fn reservation(cooldown: Option<u64>, max_runs: Option<RateLimit>) -> Reservation {
        Reservation {
            runbook: "restart-web".into(),
            run_id: "run-1".into(),
            target: "i-0abc".into(),
            cooldown_seconds: cooldown,
            max_runs,
        }
    }

    #[tokio::test]
    async fn cooldown_holds_until_it_expires() {
        let guards = InMemoryGuards::default();
        let now: DateTime<Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
        let r = reservation(Some(600), None);
        assert_eq!(guards.reserve(&r, now).await.unwrap(), Reserved::Granted);
        let next_run = Reservation {
            run_id: "run-4".into(),
            ..r.clone()
        };
        assert!(matches!(
            guards
                .reserve(&next_run, now + Duration::seconds(599))
                .await
                .unwrap(),
            Reserved::CoolingDown { .. }
        ));
        assert_eq!(
            guards
                .reserve(&next_run, now + Duration::seconds(600))
                .await
                .unwrap(),
            Reserved::Granted
        );
        let other_target = Reservation {
            target: "i-0def".into(),
            ..r.clone()
        };
        assert_eq!(
            guards.reserve(&other_target, now).await.unwrap(),
            Reserved::Granted
        );
    }

    #[tokio::test]
    async fn a_takeover_of_the_same_run_is_not_held_back_by_its_own_cooldown() {
        let guards = InMemoryGuards::default();
        let now: DateTime<Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
        let r = reservation(Some(600), None);
        assert_eq!(guards.reserve(&r, now).await.unwrap(), Reserved::Granted);
        assert_eq!(
            guards
                .reserve(&r, now + Duration::seconds(130))
                .await
                .unwrap(),
            Reserved::Granted
        );
        let other_run = Reservation {
            run_id: "run-9".into(),
            ..r.clone()
        };
        assert!(matches!(
            guards
                .reserve(&other_run, now + Duration::seconds(130))
                .await
                .unwrap(),
            Reserved::CoolingDown { .. }
        ));
    }

    #[tokio::test]
    async fn window_counts_and_releases() {
        let guards = InMemoryGuards::default();
        let now: DateTime<Utc> = "2026-11-25T03:10:00Z".parse().unwrap();
        let limit = RateLimit {
            count: 2,
            window_seconds: 3600,
        };
        let run = |id: &str| Reservation {
            run_id: id.into(),
            ..reservation(None, Some(limit))
        };
        let r = run("run-1");
        assert_eq!(guards.reserve(&r, now).await.unwrap(), Reserved::Granted);
        assert_eq!(
            guards.reserve(&r, now).await.unwrap(),
            Reserved::Granted,
            "the same run again counts once"
        );
        assert_eq!(
            guards.reserve(&run("run-2"), now).await.unwrap(),
            Reserved::Granted
        );
        assert!(matches!(
            guards.reserve(&run("run-3"), now).await.unwrap(),
            Reserved::WindowFull { .. }
        ));
        guards.release(&run("run-2"), now).await.unwrap();
        assert_eq!(
            guards.reserve(&run("run-3"), now).await.unwrap(),
            Reserved::Granted
        );
        // The next clock hour is a new window.
        assert_eq!(
            guards
                .reserve(&r, now + Duration::minutes(50))
                .await
                .unwrap(),
            Reserved::Granted
        );
        assert_eq!(
            guards.runs_in_window("restart-web", window_start(now, 3600)),
            2
        );
    }

    #[tokio::test]
    async fn a_late_release_leaves_a_later_runs_cooldown() {
        let guards = InMemoryGuards::default();
        let now: DateTime<Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
        let a = reservation(Some(60), None);
        let b = Reservation {
            run_id: "run-b".into(),
            ..a.clone()
        };
        let later = now + Duration::seconds(61);
        assert_eq!(guards.reserve(&a, now).await.unwrap(), Reserved::Granted);
        assert_eq!(guards.reserve(&b, later).await.unwrap(), Reserved::Granted);
        guards.release(&a, later).await.unwrap();
        assert!(guards.cooldown_until("restart-web", "i-0abc").is_some());
        guards.release(&b, later).await.unwrap();
        assert!(guards.cooldown_until("restart-web", "i-0abc").is_none());
    }

    #[tokio::test]
    async fn huge_catalog_numbers_saturate_instead_of_panicking() {
        let guards = InMemoryGuards::default();
        let now: DateTime<Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
        let r = reservation(
            Some(u64::MAX),
            Some(RateLimit {
                count: 1,
                window_seconds: u64::MAX,
            }),
        );
        assert_eq!(guards.reserve(&r, now).await.unwrap(), Reserved::Granted);
        assert_eq!(after(now, u64::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(after(now, 60), now + Duration::seconds(60));
    }

    #[test]
    fn windows_align_to_the_epoch() {
        let now: DateTime<Utc> = "2026-11-25T03:59:59Z".parse().unwrap();
        assert_eq!(
            window_start(now, 3600).to_rfc3339(),
            "2026-11-25T03:00:00+00:00"
        );
    }
}
