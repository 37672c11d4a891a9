//! Loading a catalog: from YAML text (checked, positions in every problem), and the prebuilt
//! form of the catalog compiled into a binary (checked when it was built).

use super::{BUILT_IN_CATALOG, BUILT_IN_CATALOG_NAME, Catalog, compile, index, pattern, raw};
use crate::{Error, Result};
use sha2::{Digest, Sha256};

impl Catalog {
    /// The compiled-in catalog. A unit test validates it, so this cannot fail in a build that
    /// passed its tests; still, a failure is an error, not a panic.
    pub fn built_in() -> Result<Self> {
        Self::parse(BUILT_IN_CATALOG, BUILT_IN_CATALOG_NAME)
    }

    /// Parse and validate. Every problem found is reported, each as `source:line:column: message`.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        let compile::Compiled {
            runbooks,
            custom_actions,
        } = compile::compile(text, source_name).map_err(|problems| Error::Catalog {
            source_name: source_name.to_owned(),
            problems,
        })?;
        let index = index::Index::build(&runbooks);
        Ok(Catalog {
            source_name: source_name.to_owned(),
            version: content_version(text),
            runbooks,
            custom_actions,
            index,
        })
    }

    /// The prebuilt form of a catalog, for a build script to compile into a binary: the catalog
    /// is checked here exactly as [`Catalog::parse`] checks it (a bad catalog fails the build,
    /// with its lines and columns), then written as JSON, so that the binary never parses YAML
    /// or checks patterns for it at start-up ([`Catalog::from_prebuilt`]).
    pub fn prebuild(text: &str, source_name: &str) -> Result<String> {
        let problems = |problems| Error::Catalog {
            source_name: source_name.to_owned(),
            problems,
        };
        let prebuilt = raw::Prebuilt {
            format: raw::PREBUILT_FORMAT,
            version: content_version(text),
            catalog: compile::parse(text, source_name).map_err(problems)?,
        };
        // Written before it is checked: checking consumes the parsed catalog.
        let json = serde_json::to_string(&prebuilt).map_err(|error| {
            problems(vec![format!("{source_name}: cannot be prebuilt: {error}")])
        })?;
        compile::compile_raw(prebuilt.catalog, source_name, pattern::Patterns::checked())
            .map_err(problems)?;
        Ok(json)
    }

    /// A catalog from [`Catalog::prebuild`]'s output, made by this same build: the text
    /// compiled into the binary, never one read at run time. The patterns of `when` (titles,
    /// names, globs) are not checked again: they were, at build time, with this same `regex`,
    /// and one that does not compile matches nothing. Every other check runs, parameters'
    /// patterns included, and anything amiss is an error, never a panic.
    pub fn from_prebuilt(prebuilt: &str, source_name: &str) -> Result<Self> {
        let problems = |problems| Error::Catalog {
            source_name: source_name.to_owned(),
            problems,
        };
        let unusable = |why: String| {
            problems(vec![format!(
                "{source_name}: the prebuilt catalog compiled into this binary {why}; rebuild it"
            )])
        };
        let prebuilt: raw::Prebuilt = serde_json::from_str(prebuilt)
            .map_err(|error| unusable(format!("does not read: {error}")))?;
        if prebuilt.format != raw::PREBUILT_FORMAT {
            return Err(unusable(format!(
                "has format {} (this build reads {})",
                prebuilt.format,
                raw::PREBUILT_FORMAT
            )));
        }
        let compile::Compiled {
            runbooks,
            custom_actions,
        } = compile::compile_raw(
            prebuilt.catalog,
            source_name,
            pattern::Patterns::checked_at_build(),
        )
        .map_err(|found| {
            unusable(format!(
                "fails checks it passed at build time: {}",
                found.join("; ")
            ))
        })?;
        let index = index::Index::build(&runbooks);
        Ok(Catalog {
            source_name: source_name.to_owned(),
            version: prebuilt.version,
            runbooks,
            custom_actions,
            index,
        })
    }
}

/// The first 12 hex digits of the SHA-256 of the catalog text.
pub fn content_version(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..6])
}
