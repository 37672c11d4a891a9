//! Prebuilds the catalog compiled into every function (`infra/runbooks.yaml`, through
//! `remediate_core::catalog::BUILT_IN_CATALOG`).
//!
//! The catalog is checked here, exactly as a function would check it at start-up, so a bad
//! catalog fails `cargo build` (and `sam build`) with its lines and columns instead of failing
//! every cold start. What passes is written into `OUT_DIR` as JSON for
//! `config::built_in_catalog`: a function then neither parses YAML nor checks patterns for it.

use remediate_core::catalog::{BUILT_IN_CATALOG_NAME, Catalog};

fn main() {
    // The text comes from remediate-core's `include_str!`, which rebuilds this script when the
    // file changes; saying so here too keeps cargo from rerunning it for any other file.
    println!("cargo::rerun-if-changed=../../infra/runbooks.yaml");
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        fail(&["OUT_DIR is not set: this script runs under cargo only".to_owned()]);
    };
    let prebuilt = match Catalog::prebuild(
        remediate_core::catalog::BUILT_IN_CATALOG,
        BUILT_IN_CATALOG_NAME,
    ) {
        Ok(prebuilt) => prebuilt,
        Err(remediate_core::Error::Catalog { problems, .. }) => fail(&problems),
        Err(other) => fail(&[other.to_string()]),
    };
    let path = std::path::Path::new(&out_dir).join("built_in_catalog.json");
    if let Err(error) = std::fs::write(&path, prebuilt) {
        fail(&[format!("cannot write {}: {error}", path.display())]);
    }
}

fn fail(problems: &[String]) -> ! {
    eprintln!("the built-in catalog (infra/runbooks.yaml) cannot be compiled into the functions:");
    for problem in problems {
        eprintln!("  {problem}");
    }
    std::process::exit(1);
}
