//! Time as a port, so that windows, expiries and trigger ages are testable.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, for the functions.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The earliest time an inbound event may carry: before it, a time is a mistake or an attack.
const EARLIEST_PLAUSIBLE: i64 = 946_684_800; // 2000-01-01T00:00:00Z
/// The latest: far enough ahead for any clock skew, near enough that adding a few days of
/// windows and holds to it can never overflow.
const LATEST_PLAUSIBLE: i64 = 7_258_118_400; // 2200-01-01T00:00:00Z

/// Whether an inbound time is one a real sender could have meant. Parsers refuse the rest, so
/// that no arithmetic on a time from a payload can overflow (a panic would abort the process).
pub fn is_plausible(at: DateTime<Utc>) -> bool {
    (EARLIEST_PLAUSIBLE..LATEST_PLAUSIBLE).contains(&at.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_times_are_this_era_only() {
        let parse = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert!(is_plausible(parse("2026-11-25T03:12:07Z")));
        assert!(is_plausible(parse("2000-01-01T00:00:00Z")));
        assert!(!is_plausible(parse("1999-12-31T23:59:59Z")));
        assert!(!is_plausible(parse("2200-01-01T00:00:00Z")));
        assert!(!is_plausible(DateTime::<Utc>::MAX_UTC));
        assert!(!is_plausible(DateTime::<Utc>::MIN_UTC));
    }
}
