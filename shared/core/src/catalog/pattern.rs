//! The catalog's regular expressions (titles, alarm names, globs, parameter patterns): checked
//! when the catalog loads, compiled the first time something is matched against them.
//!
//! Compiling is most of what loading a catalog costs: about 1.7 M instructions for a title like
//! `(?i)(latency|errors) on shard-7\b` (literal prefilters, a full DFA for small patterns), where
//! parsing it takes about 0.1 M, and a container only ever matches against the few runbooks its
//! triggers reach. So a catalog pays at load for what makes a pattern invalid, and nothing more:
//! - its syntax, parsed by `regex-syntax` with the configuration `regex` itself uses, so that the
//!   same patterns are refused with the same messages;
//! - its size: `regex` refuses a pattern whose automata would outgrow [`REGEX_SIZE_LIMIT`], and
//!   that too must fail the load, not the first match. [`bound`] gives, from the parsed pattern,
//!   an upper bound of that size without building anything; a pattern whose bound passes the
//!   limit (rare: long counted repetitions of Unicode classes) is compiled at load, exactly as
//!   before.
//!
//! Patterns are shared within a catalog by their text ([`Patterns`]), so a pattern written on
//! many runbooks is checked once and compiled once.
//!
//! The catalog compiled into a binary ran these checks when it was built
//! (`Catalog::prebuild`), and does not run them again at start-up, except for parameters'
//! patterns ([`Patterns::get_checked`]).

mod bound;

use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// A pattern compiles to at most this much memory (each of its forward and reverse automata):
/// a catalog cannot exhaust a function.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A regular expression of the catalog, compiled on first use.
#[derive(Clone)]
pub struct Pattern(Arc<Lazy>);

struct Lazy {
    source: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// The pattern as it is matched (for a glob or a parameter, the generated, anchored text).
    pub fn as_str(&self) -> &str {
        &self.0.source
    }

    /// Whether `haystack` holds a match. A pattern that could not be compiled (the checks at load
    /// make that unreachable) matches nothing: a title that cannot be checked starts nothing, and
    /// a value that cannot be checked is refused.
    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex().is_some_and(|regex| regex.is_match(haystack))
    }

    /// The compiled expression, compiled now if this is its first use.
    pub fn regex(&self) -> Option<&Regex> {
        self.0
            .compiled
            .get_or_init(|| match build(&self.0.source) {
                Ok(regex) => Some(regex),
                Err(error) => {
                    tracing::error!(pattern = self.0.source, %error, "a catalog pattern that passed its checks does not compile; it matches nothing");
                    None
                }
            })
            .as_ref()
    }

    /// Whether it has been compiled yet (for tests and diagnostics).
    pub fn is_compiled(&self) -> bool {
        self.0.compiled.get().is_some()
    }

    /// Whether two patterns are one shared value (the same text in one catalog).
    pub fn shares(&self, other: &Pattern) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pattern").field(&self.0.source).finish()
    }
}

/// Why a pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not a regular expression: `regex`'s own message, on one line.
    Syntax(String),
    /// Valid, but its automata would outgrow [`REGEX_SIZE_LIMIT`].
    TooBig(String),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Syntax(message) | Invalid::TooBig(message) => f.write_str(message),
        }
    }
}

/// The patterns of one catalog being loaded, by text: each distinct text is checked once, and
/// every runbook that writes it shares one [`Pattern`] (so it is compiled once, too).
pub(crate) struct Patterns {
    by_source: HashMap<String, Pattern>,
    /// False only for a catalog prebuilt into the binary: its patterns passed these same checks,
    /// with this same `regex`, when the binary was built, and checking them again is a quarter
    /// of what loading a large catalog costs. Parameters' patterns are checked all the same
    /// ([`Patterns::get_checked`]).
    check: bool,
    /// With `check` false: the texts [`Patterns::get_checked`] has checked all the same.
    checked_anyway: HashSet<String>,
}

impl Patterns {
    /// Every pattern is checked before it is accepted.
    pub(crate) fn checked() -> Self {
        Patterns {
            by_source: HashMap::new(),
            check: true,
            checked_anyway: HashSet::new(),
        }
    }

    /// Patterns of a catalog checked when the binary was built: accepted as they are.
    pub(crate) fn checked_at_build() -> Self {
        Patterns {
            by_source: HashMap::new(),
            check: false,
            checked_anyway: HashSet::new(),
        }
    }

    /// The pattern for `source`, checked whichever way this catalog's patterns are: a
    /// parameter's pattern is what stands between incident text and a command, so a catalog is
    /// not taken on trust there, even one checked at build time. Cheap: parameters are few, and
    /// their patterns are mostly shared.
    pub(crate) fn get_checked(&mut self, source: &str) -> Result<Pattern, Invalid> {
        if !self.check && !self.checked_anyway.contains(source) {
            check(source)?;
            self.checked_anyway.insert(source.to_owned());
        }
        self.get(source)
    }

    /// The pattern for `source`, checked (see the module's documentation). Refusals are not
    /// remembered: each place that writes a bad pattern gets its own error.
    pub(crate) fn get(&mut self, source: &str) -> Result<Pattern, Invalid> {
        if let Some(pattern) = self.by_source.get(source) {
            return Ok(pattern.clone());
        }
        let compiled = OnceLock::new();
        if self.check
            && let Some(regex) = check(source)?
        {
            // Compiled already to learn its size: keep it.
            let _ = compiled.set(Some(regex));
        }
        let pattern = Pattern(Arc::new(Lazy {
            source: source.to_owned(),
            compiled,
        }));
        self.by_source.insert(source.to_owned(), pattern.clone());
        Ok(pattern)
    }
}

/// Everything that would make [`build`] fail, found without building: `Ok(None)`. A pattern
/// whose size cannot be vouched for that way is built, and returned.
fn check(source: &str) -> Result<Option<Regex>, Invalid> {
    // `regex` parses with regex-syntax's defaults (Unicode on, UTF-8 only, nest limit 250), and
    // reports a syntax error as regex-syntax's message.
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(source)
        .map_err(|error| Invalid::Syntax(one_line(&error.to_string())))?;
    if bound::nfa_bytes(&hir) <= REGEX_SIZE_LIMIT {
        return Ok(None);
    }
    build(source).map(Some).map_err(|error| match error {
        regex::Error::CompiledTooBig(_) => Invalid::TooBig(one_line(&error.to_string())),
        other => Invalid::Syntax(one_line(&other.to_string())),
    })
}

fn build(source: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Messages of `regex` span several lines (the pattern, a caret, the reason).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
