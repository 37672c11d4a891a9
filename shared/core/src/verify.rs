//! "Did it work?": after an alarm-triggered run succeeded, what the alarm's state says about it.
//!
//! Pure: the reconciler reads the alarm ([`crate::ports::AlarmStates`]) once the run's settle
//! time has passed and asks [`decide`]; the note comes from [`crate::notes::verified`].
//!
//! Decisions:
//! - only the state now counts: an alarm that went OK and then back to ALARM after the run is
//!   still in ALARM, however many times it changed in between;
//! - an alarm already OK when the run ended (it recovered while the run was finishing, or the
//!   SSM status event came late) is recovered, after no time at all;
//! - `INSUFFICIENT_DATA` is not a recovery: a dead instance stops sending the metric, and an
//!   alarm without data says nothing good about the run;
//! - nothing is read or said before the settle time: metrics need a period or two to show a
//!   fix, so an early ALARM would be the one the run was started for.

use crate::ports::alarms::{AlarmReading, AlarmState};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// OK now. `after`: from the run's end to the change to OK; zero when it was OK already.
    Recovered { after: Duration },
    /// ALARM now. `for_`: from the run's end to the reading.
    StillAlarm { for_: Duration },
    /// INSUFFICIENT_DATA now: not a recovery.
    NoData,
    /// No alarm has this name any more (deleted or renamed): nothing can be said.
    AlarmGone,
    /// The settle time has not passed: read again at `due`.
    NotYet { due: DateTime<Utc> },
}

impl Verdict {
    /// Whether the run did not fix what the alarm watches: what `on_failure` acts on. An alarm
    /// that is gone is not a failure: nobody can tell.
    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::StillAlarm { .. } | Verdict::NoData)
    }
}

/// When the alarm is to be read: the run's end plus the settle time.
pub fn due(run_ended_at: DateTime<Utc>, settle: Duration) -> DateTime<Utc> {
    run_ended_at
        .checked_add_signed(settle)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What the reading says about the run that ended at `run_ended_at`. `reading` is `None` when
/// the alarm no longer exists; it is not looked at before the settle time has passed.
pub fn decide(
    run_ended_at: DateTime<Utc>,
    settle: Duration,
    reading: Option<&AlarmReading>,
    now: DateTime<Utc>,
) -> Verdict {
    let due = due(run_ended_at, settle);
    if now < due {
        return Verdict::NotYet { due };
    }
    let Some(reading) = reading else {
        return Verdict::AlarmGone;
    };
    match reading.state {
        AlarmState::Ok => Verdict::Recovered {
            after: (reading.updated_at - run_ended_at).max(Duration::zero()),
        },
        AlarmState::Alarm => Verdict::StillAlarm {
            for_: now - run_ended_at,
        },
        AlarmState::InsufficientData => Verdict::NoData,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 1, 12, minute, second)
            .single()
            .expect("a valid time")
    }

    fn reading(state: AlarmState, updated_at: DateTime<Utc>) -> AlarmReading {
        AlarmReading {
            state,
            updated_at,
            reason: Some("Threshold Crossed".into()),
        }
    }

    const ENDED: (u32, u32) = (10, 0);
    fn ended() -> DateTime<Utc> {
        at(ENDED.0, ENDED.1)
    }
    fn settle() -> Duration {
        Duration::seconds(300)
    }

    #[test]
    fn ok_after_the_run_is_recovered_after_the_time_it_took() {
        let ok = reading(AlarmState::Ok, at(12, 10));
        assert_eq!(
            decide(ended(), settle(), Some(&ok), at(15, 0)),
            Verdict::Recovered {
                after: Duration::seconds(130)
            }
        );
    }

    #[test]
    fn ok_before_the_run_ended_is_recovered_after_no_time() {
        let ok = reading(AlarmState::Ok, at(9, 30));
        assert_eq!(
            decide(ended(), settle(), Some(&ok), at(15, 0)),
            Verdict::Recovered {
                after: Duration::zero()
            }
        );
    }

    #[test]
    fn alarm_is_still_alarm_for_the_time_since_the_run_ended() {
        // Unchanged since before the run: the ALARM the run was started for.
        let unchanged = reading(AlarmState::Alarm, at(8, 0));
        assert_eq!(
            decide(ended(), settle(), Some(&unchanged), at(15, 0)),
            Verdict::StillAlarm {
                for_: Duration::minutes(5)
            }
        );
        // Went OK after the run and came back: its last change is after the run, still ALARM.
        let relapsed = reading(AlarmState::Alarm, at(13, 0));
        assert_eq!(
            decide(ended(), settle(), Some(&relapsed), at(16, 0)),
            Verdict::StillAlarm {
                for_: Duration::minutes(6)
            }
        );
    }

    #[test]
    fn insufficient_data_is_not_a_recovery() {
        let no_data = reading(AlarmState::InsufficientData, at(12, 0));
        let verdict = decide(ended(), settle(), Some(&no_data), at(15, 0));
        assert_eq!(verdict, Verdict::NoData);
        assert!(verdict.is_failure());
    }

    #[test]
    fn a_missing_alarm_is_gone_and_not_a_failure() {
        let verdict = decide(ended(), settle(), None, at(15, 0));
        assert_eq!(verdict, Verdict::AlarmGone);
        assert!(!verdict.is_failure());
    }

    #[test]
    fn nothing_is_decided_before_the_settle_time_whatever_the_reading() {
        let ok = reading(AlarmState::Ok, at(11, 0));
        for state in [Some(&ok), None] {
            assert_eq!(
                decide(ended(), settle(), state, at(14, 59)),
                Verdict::NotYet { due: at(15, 0) }
            );
        }
        // Exactly at the due time it is decided.
        assert!(matches!(
            decide(ended(), settle(), Some(&ok), at(15, 0)),
            Verdict::Recovered { .. }
        ));
    }

    #[test]
    fn only_alarm_and_no_data_are_failures() {
        assert!(
            Verdict::StillAlarm {
                for_: Duration::zero()
            }
            .is_failure()
        );
        assert!(
            !Verdict::Recovered {
                after: Duration::zero()
            }
            .is_failure()
        );
        assert!(!Verdict::NotYet { due: at(0, 0) }.is_failure());
    }

    #[test]
    fn a_due_time_past_the_calendar_saturates_instead_of_panicking() {
        assert_eq!(
            due(DateTime::<Utc>::MAX_UTC, Duration::seconds(60)),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
