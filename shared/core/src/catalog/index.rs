//! The index that keeps matching sub-linear in the size of the catalog: runbooks are bucketed by
//! the services they name (a hash lookup finds the bucket of a trigger's service id and name), and
//! the titles of each bucket are one compiled `RegexSet`, matched once per trigger. Only the few
//! candidates that survive both are checked condition by condition, in file order, so the result
//! is exactly the linear first match ([`super::Catalog::evaluate_all`] agrees, by property test).
//!
//! A bucket's set is compiled the first time a trigger reaches the bucket, not at load: compiling
//! is most of what a catalog costs (see [`super::pattern`]), and a container sees few services.

use super::Runbook;
use crate::trigger::Trigger;
use regex::RegexSet;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Buckets with fewer titled runbooks than this test titles one by one: cheaper than a set.
const MIN_TITLES_FOR_SET: usize = 4;
const REGEX_SET_SIZE_LIMIT: usize = 8 << 20;

#[derive(Debug, Clone, Default)]
pub struct Index {
    by_service: HashMap<String, Bucket>,
    any_service: Bucket,
}

#[derive(Debug, Clone, Default)]
struct Bucket {
    /// Runbook positions without a title condition, ascending.
    untitled: Vec<usize>,
    /// Runbook positions with a title condition, ascending, aligned with `titles`.
    titled: Vec<usize>,
    /// Built on first use, for buckets of at least [`MIN_TITLES_FOR_SET`] titles; `None` inside
    /// when the set could not be built (too large): the bucket then tests titles one by one.
    titles: OnceLock<Option<RegexSet>>,
}

impl Bucket {
    fn add(&mut self, position: usize, runbook: &Runbook) {
        if runbook.when.title.is_some() {
            self.titled.push(position);
        } else {
            self.untitled.push(position);
        }
    }

    /// The set of this bucket's titles, built now if this is its first use.
    fn titles(&self, runbooks: &[Runbook]) -> Option<&RegexSet> {
        if self.titled.len() < MIN_TITLES_FOR_SET {
            return None;
        }
        self.titles
            .get_or_init(|| {
                let patterns = self.titled.iter().filter_map(|&position| {
                    runbooks
                        .get(position)
                        .and_then(|runbook| runbook.when.title.as_ref())
                        .map(|title| title.as_str())
                });
                // A set too large to build is not an error: the bucket falls back to one by one.
                regex::RegexSetBuilder::new(patterns)
                    .size_limit(REGEX_SET_SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Whether this bucket's set of titles has been built (for tests).
    fn has_built_titles(&self) -> bool {
        self.titles.get().is_some_and(Option::is_some)
    }

    /// The first runbook of this bucket, in file order and before `before`, that matches.
    fn first_match(&self, trigger: &Trigger, runbooks: &[Runbook], before: usize) -> Option<usize> {
        let title = trigger
            .incident
            .as_ref()
            .map(|incident| incident.title.as_str());
        let titled: Vec<usize> = match title {
            // A title condition never holds for a trigger without an incident.
            None => Vec::new(),
            Some(title) => match self.titles(runbooks) {
                Some(set) => set
                    .matches(title)
                    .iter()
                    .map(|slot| self.titled[slot])
                    .collect(),
                None => self.titled.clone(),
            },
        };
        // Merge the two ascending lists, checking each candidate fully (title included: cheap
        // for the few left, and it keeps one definition of "matches").
        let (mut left, mut right) = (self.untitled.iter().peekable(), titled.iter().peekable());
        loop {
            let next = match (left.peek(), right.peek()) {
                (Some(&&a), Some(&&b)) if a < b => left.next().copied(),
                (Some(_), Some(_)) => right.next().copied(),
                (Some(_), None) => left.next().copied(),
                (None, Some(_)) => right.next().copied(),
                (None, None) => None,
            }?;
            if next >= before {
                return None;
            }
            if runbooks[next].when.first_mismatch(trigger).is_none() {
                return Some(next);
            }
        }
    }
}

impl Index {
    pub fn build(runbooks: &[Runbook]) -> Self {
        let mut index = Index::default();
        for (position, runbook) in runbooks.iter().enumerate() {
            if runbook.when.services.is_empty() {
                index.any_service.add(position, runbook);
            } else {
                let mut seen = std::collections::HashSet::new();
                for service in &runbook.when.services {
                    if seen.insert(service) {
                        index
                            .by_service
                            .entry(service.clone())
                            .or_default()
                            .add(position, runbook);
                    }
                }
            }
        }
        index
    }

    /// How many buckets have built their set of titles so far (for tests: sets are built on
    /// first use).
    pub fn built_title_sets(&self) -> usize {
        self.by_service
            .values()
            .chain([&self.any_service])
            .filter(|bucket| bucket.has_built_titles())
            .count()
    }

    /// The position of the first runbook in file order whose `when` matches.
    pub fn first_match(&self, trigger: &Trigger, runbooks: &[Runbook]) -> Option<usize> {
        let service = trigger
            .incident
            .as_ref()
            .and_then(|incident| incident.service.as_ref());
        let mut best = usize::MAX;
        let mut consider = |bucket: Option<&Bucket>| {
            if let Some(found) =
                bucket.and_then(|bucket| bucket.first_match(trigger, runbooks, best))
            {
                best = best.min(found);
            }
        };
        consider(Some(&self.any_service));
        if let Some(service) = service {
            consider(self.by_service.get(&service.id));
            if service.name != service.id {
                consider(self.by_service.get(&service.name));
            }
        }
        (best != usize::MAX).then_some(best)
    }
}
