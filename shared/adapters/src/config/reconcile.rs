//! The reconciler's settings: `RECONCILE_OVERDUE_SECONDS`, `RECONCILE_GIVE_UP_SECONDS`,
//! `RECONCILE_BATCH`.

use super::Env;
use remediate_core::pipeline::ReconcileSettings;
use remediate_core::{Error, Result};
use std::time::Duration;

/// The most runs one pass reads: a pass must end well within the function's timeout.
pub const MAX_RECONCILE_BATCH: usize = 100;

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn reconcile_settings(&self) -> Result<ReconcileSettings> {
        let defaults = ReconcileSettings::default();
        let as_chrono = |name: &'static str, duration: Duration| {
            chrono::Duration::from_std(duration)
                .map_err(|error| Error::config(name, error.to_string()))
        };
        let overdue = self.seconds(
            "RECONCILE_OVERDUE_SECONDS",
            defaults
                .overdue_after
                .to_std()
                .unwrap_or(Duration::from_secs(900)),
        )?;
        let give_up = self.seconds(
            "RECONCILE_GIVE_UP_SECONDS",
            defaults
                .give_up_after
                .to_std()
                .unwrap_or(Duration::from_secs(86_400)),
        )?;
        if give_up <= overdue {
            return Err(Error::config(
                "RECONCILE_GIVE_UP_SECONDS",
                "must be longer than RECONCILE_OVERDUE_SECONDS",
            ));
        }
        let batch = match self.optional("RECONCILE_BATCH") {
            None => defaults.batch,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|batch| (1..=MAX_RECONCILE_BATCH).contains(batch))
                .ok_or_else(|| {
                    Error::config(
                        "RECONCILE_BATCH",
                        format!(
                            "{text:?} is not a number of runs between 1 and {MAX_RECONCILE_BATCH}"
                        ),
                    )
                })?,
        };
        Ok(ReconcileSettings {
            overdue_after: as_chrono("RECONCILE_OVERDUE_SECONDS", overdue)?,
            give_up_after: as_chrono("RECONCILE_GIVE_UP_SECONDS", give_up)?,
            batch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Env(move |name: &str| map.get(name).cloned())
    }

    #[test]
    fn defaults_and_bad_values_name_the_variable() {
        let settings = env(&[]).reconcile_settings().expect("defaults");
        assert_eq!(settings.overdue_after, chrono::Duration::minutes(15));
        assert_eq!(settings.give_up_after, chrono::Duration::hours(24));
        assert_eq!(settings.batch, 25);
        let set = env(&[
            ("RECONCILE_OVERDUE_SECONDS", "600"),
            ("RECONCILE_BATCH", "10"),
        ])
        .reconcile_settings()
        .expect("valid");
        assert_eq!((settings.batch, set.batch), (25, 10));
        assert_eq!(set.overdue_after, chrono::Duration::minutes(10));
        for (pairs, name) in [
            (vec![("RECONCILE_BATCH", "0")], "RECONCILE_BATCH"),
            (vec![("RECONCILE_BATCH", "500")], "RECONCILE_BATCH"),
            (
                vec![("RECONCILE_OVERDUE_SECONDS", "soon")],
                "RECONCILE_OVERDUE_SECONDS",
            ),
            (
                vec![
                    ("RECONCILE_GIVE_UP_SECONDS", "60"),
                    ("RECONCILE_OVERDUE_SECONDS", "600"),
                ],
                "RECONCILE_GIVE_UP_SECONDS",
            ),
        ] {
            let error = env(&pairs).reconcile_settings().expect_err("refused");
            assert!(error.to_string().contains(name), "{error}");
        }
    }
}
