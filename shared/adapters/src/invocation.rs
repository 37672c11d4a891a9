//! The Lambda invocation's deadline, read the same way by every function.

use std::time::Duration;
use tokio::time::Instant;

/// The longest a Lambda function may run: the bound when the deadline given is no time at all.
pub const LAMBDA_MAX_TIMEOUT: Duration = Duration::from_secs(900);
/// Time kept back from the invocation's deadline to write the answer and the logs.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);
/// 2000-01-01 in milliseconds since the epoch: a smaller deadline is not a time.
const PLAUSIBLE_DEADLINE_MS: u64 = 946_684_800_000;

/// The invocation's deadline as an instant, less the margin for answering. Lambda gives it in
/// milliseconds since the epoch. `cargo lambda watch` sends its timeout instead (`600000`):
/// read as a time, that deadline passed in 1970 and nothing would have time to run, so a value
/// that is no plausible time leaves Lambda's longest timeout (each function bounds its own
/// work within it).
pub fn invocation_deadline(deadline_ms: u64) -> Instant {
    if deadline_ms < PLAUSIBLE_DEADLINE_MS {
        return Instant::now() + LAMBDA_MAX_TIMEOUT;
    }
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + remaining.saturating_sub(DEADLINE_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_that_is_no_time_leaves_the_longest_timeout_but_a_past_one_leaves_none() {
        // cargo lambda watch sends its timeout (600000) where Lambda sends a time.
        let emulated = invocation_deadline(600_000);
        assert!(emulated > Instant::now() + Duration::from_secs(600));
        let now_ms = chrono::Utc::now().timestamp_millis();
        let passed = u64::try_from(now_ms - 5_000).unwrap_or(0);
        assert!(invocation_deadline(passed) <= Instant::now());
        let in_a_minute = u64::try_from(now_ms + 60_000).unwrap_or(0);
        let deadline = invocation_deadline(in_a_minute);
        assert!(deadline > Instant::now() + Duration::from_secs(55));
        assert!(deadline < Instant::now() + Duration::from_secs(60));
    }
}
