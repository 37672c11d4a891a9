use super::*;
use proptest::prelude::*;

/// What `regex` itself says of `source`, as the catalog used to report it.
fn regex_verdict(source: &str) -> Result<(), Invalid> {
    match build(source) {
        Ok(_) => Ok(()),
        Err(error @ regex::Error::CompiledTooBig(_)) => {
            Err(Invalid::TooBig(one_line(&error.to_string())))
        }
        Err(error) => Err(Invalid::Syntax(one_line(&error.to_string()))),
    }
}

fn checked(source: &str) -> Result<Pattern, Invalid> {
    Patterns::checked().get(source)
}

#[test]
fn a_pattern_is_compiled_on_first_use_not_at_load() {
    let pattern = checked(r"(?i)(latency|errors) on shard-7\b").unwrap();
    assert!(!pattern.is_compiled());
    assert!(pattern.is_match("High LATENCY on shard-7 in eu-west-1"));
    assert!(pattern.is_compiled());
    assert!(!pattern.is_match("latency on shard-77"));
    assert!(
        !pattern.is_match("latency on shard-7é"),
        "a Unicode word boundary"
    );
    assert_eq!(pattern.as_str(), r"(?i)(latency|errors) on shard-7\b");
}

#[test]
fn one_text_is_one_pattern_checked_and_compiled_once() {
    let mut patterns = Patterns::checked();
    let first = patterns.get("service-[0-9]+").unwrap();
    let second = patterns.get("service-[0-9]+").unwrap();
    let other = patterns.get("service-[0-9]*").unwrap();
    assert!(first.shares(&second));
    assert!(!first.shares(&other));
    assert!(second.is_match("service-1"));
    assert!(
        first.is_compiled(),
        "compiled through the other runbook's use"
    );
    assert!(!other.is_compiled());
}

#[test]
fn invalid_patterns_are_refused_with_the_message_regex_gives() {
    for source in [
        "(",
        "x)|(.*",
        "[z-a]",
        "a{2,1}",
        r"\p{NotAProperty}",
        r"\p{Zz}",
        "(?-u:\\xFF)",
        "(?-u:.)",
        "(?-u)[^a]",
        r"(?-u)\pL",
        "(?P<a>x)(?P<a>y)",
        "*",
        r"\",
        "(?z)",
        &"(".repeat(300),
        &format!("{}x{}", "(".repeat(251), ")".repeat(251)),
    ] {
        let refused = checked(source).expect_err(source);
        assert!(
            matches!(refused, Invalid::Syntax(_)),
            "{source}: {refused:?}"
        );
        assert_eq!(Err(refused), regex_verdict(source), "{source}");
    }
}

#[test]
fn a_pattern_too_large_to_compile_is_refused_at_load_as_regex_refuses_it() {
    for source in [
        r"\w{500}",
        r"(?:\pL\pN){300}",
        r"[\w\d]{1,2000}",
        "((a{100}){100}){100}",
    ] {
        let refused = checked(source).expect_err(source);
        assert!(
            matches!(refused, Invalid::TooBig(_)),
            "{source}: {refused:?}"
        );
        assert_eq!(Err(refused), regex_verdict(source), "{source}");
        assert!(refused_message(source).contains("exceeds size limit"));
    }
}

fn refused_message(source: &str) -> String {
    checked(source).unwrap_err().to_string()
}

#[test]
fn a_pattern_whose_size_cannot_be_vouched_for_is_compiled_at_load() {
    // Its bound passes the limit; the pattern itself fits, so it is accepted, compiled already.
    let source = r"\w{8}";
    let hir = regex_syntax::Parser::new().parse(source).unwrap();
    assert!(bound::nfa_bytes(&hir) > REGEX_SIZE_LIMIT);
    let pattern = checked(source).unwrap();
    assert!(pattern.is_compiled());
    assert!(pattern.is_match("abcdefgh"));
}

#[test]
fn a_pattern_that_does_not_compile_matches_nothing_and_does_not_panic() {
    // Unreachable through `Patterns`; built by hand to see the fail-closed path.
    let broken = Pattern(Arc::new(Lazy {
        source: "(".to_owned(),
        compiled: OnceLock::new(),
    }));
    assert!(!broken.is_match("("));
    assert!(broken.is_compiled());
    assert!(broken.regex().is_none());
}

#[test]
fn the_bound_holds_for_the_largest_shapes_the_compiler_makes() {
    for source in [
        r"(?i)(latency|errors) on shard-7\b",
        r"\w",
        r"\W+",
        r"[^a]*",
        r".{1,3}",
        r"(?s).",
        r"(?i)[\pL\pN]{3,5}",
        r"(?:a|b|cd|efg){4}",
        r"(?:alpha|beta|gamma|delta|epsilon)",
        r"(?:(?:a*)*)*",
        r"(?:a?){9}",
        r"\bx\b|\By\B",
        r"(?m)^$",
        r"()",
        r"(|a|)",
        r"a{0}",
        r"\d{2,}",
        r"(?-u:[\x00-\x7F])+",
        r"\p{Greek}+",
        r"[\u{10000}-\u{10FFFF}]",
        r"\A(?:service-[0-9]+)\z",
    ] {
        assert_bound_holds(source);
    }
}

/// `regex` builds the pattern with the bound as its size limit: the bound is at least what
/// `regex` counts.
fn assert_bound_holds(source: &str) {
    let Ok(hir) = regex_syntax::Parser::new().parse(source) else {
        return;
    };
    let bound = bound::nfa_bytes(&hir);
    let built = regex::RegexBuilder::new(source).size_limit(bound).build();
    assert!(
        !matches!(built, Err(regex::Error::CompiledTooBig(_))),
        "{source:?}: bound {bound} is below what regex counts"
    );
}

/// Pattern text, valid or not, from pieces that exercise every kind of expression the bound
/// follows: literals, ASCII and Unicode classes, repetitions with counts, groups, alternations,
/// look-arounds, flags.
fn pattern_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "x",
        "ab",
        "é",
        "ſ",
        "(",
        ")",
        "(?:",
        "|",
        ".",
        ".*",
        "[a-z]",
        "[^;]",
        r"\d",
        r"\w",
        r"\W",
        r"\s",
        r"\pL",
        r"\p{Greek}",
        r"\b",
        r"\B",
        "^",
        "$",
        r"\A",
        r"\z",
        "?",
        "+",
        "*",
        "*?",
        "{2}",
        "{3,}",
        "{0,4}",
        "{1,12}",
        "(?i)",
        "(?-u)",
        "(?x)",
        "(?s)",
        "(?m)",
        r"\",
        "#",
        " ",
        "[",
        "]",
        "-",
        r"\x7F",
        r"\u{1F600}",
    ]);
    prop::collection::vec(pieces, 0..10).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, .. ProptestConfig::default() })]

    /// The checks at load refuse exactly the patterns `regex` refuses, with its message, and an
    /// accepted pattern compiles on first use.
    #[test]
    fn checks_at_load_agree_with_regex(source in pattern_text()) {
        match checked(&source) {
            Ok(pattern) => {
                prop_assert!(pattern.regex().is_some(), "{:?} accepted but does not compile", source);
                prop_assert_eq!(regex_verdict(&source), Ok(()), "{:?}", source);
            }
            Err(refused) => prop_assert_eq!(regex_verdict(&source), Err(refused), "{:?}", source),
        }
    }

    #[test]
    fn the_bound_is_at_least_what_regex_counts(source in pattern_text()) {
        assert_bound_holds(&source);
    }
}
