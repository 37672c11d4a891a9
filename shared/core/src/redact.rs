//! Output excerpts that are safe to put on an incident: a script's output may echo a key, a
//! token or a parameter that its runbook marks secret, and an incident's notes are read by far
//! more people (and integrations) than the instance's logs.
//!
//! Redaction runs over the whole text before it is cut, so a secret that straddles the cut is
//! still found. It errs on the side of hiding: a long random-looking word is hidden even when it
//! is only a hash.

use regex::Regex;
use std::sync::LazyLock;

/// What a hidden value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// How much of an output goes into a note: enough to see what happened on a phone.
pub const EXCERPT_CHARS: usize = 1_200;

/// Shapes of secrets, each with what is kept of the match (`$name` groups) around the hidden part.
static SHAPES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let shapes: [(&str, &str); 8] = [
        // A PEM private key block, whole.
        (
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)",
            REDACTED,
        ),
        // A quoted value after a secret's name, up to its closing quote (spaces and all).
        (
            r#"(?i)(?P<name>\b[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|auth)[A-Za-z0-9_.-]*["']?\s*[:=]\s*)(?P<quote>["'])(?:[^"'\\\n]|\\.)*["']"#,
            "${name}${quote}[redacted]${quote}",
        ),
        // `password=...`, `api_key: ...`, `Authorization: ...`, `SECRET_TOKEN=...`: the name
        // is kept, its value hidden.
        (
            r#"(?i)(?P<name>\b[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|auth)[A-Za-z0-9_.-]*["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Token)\s+)?[^\s"',;]+"#,
            "${name}[redacted]",
        ),
        // Bearer and Basic credentials wherever they appear.
        (
            r"(?i)\b(?P<name>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}",
            "${name} [redacted]",
        ),
        // AWS access key ids.
        (r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b", REDACTED),
        // JSON Web Tokens.
        (
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            REDACTED,
        ),
        // GitHub, Slack and similar prefixed tokens.
        (
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}|glpat-[A-Za-z0-9_-]{20,})",
            REDACTED,
        ),
        // Credentials in URLs: scheme://user:password@host.
        (
            r"(?P<scheme>[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@",
            "${scheme}[redacted]@",
        ),
    ];
    shapes
        .into_iter()
        .filter_map(|(pattern, replacement)| match Regex::new(pattern) {
            Ok(regex) => Some((regex, replacement)),
            // Fixed patterns, covered by the tests: this never happens.
            Err(_) => None,
        })
        .collect()
});

/// What a runbook marks secret: a parameter's values, to hide wherever they appear.
#[derive(Debug, Clone)]
pub enum SecretValues {
    /// Every match of the parameter's pattern (unanchored): the value itself is not kept.
    Pattern(Regex),
    /// Each allowed value of an enum parameter.
    Literal(String),
}

/// `text` with every secret shape and every secret value replaced by [`REDACTED`].
pub fn redact(text: &str, secrets: &[SecretValues]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        out = match secret {
            // An empty match would put the marker between every two characters.
            SecretValues::Pattern(regex) => replace_non_empty(regex, &out),
            SecretValues::Literal(value) if !value.is_empty() => out.replace(value, REDACTED),
            SecretValues::Literal(_) => out,
        };
    }
    for (shape, replacement) in SHAPES.iter() {
        out = shape.replace_all(&out, *replacement).into_owned();
    }
    static RANDOM_LOOKING: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/]{32,}={0,2}").ok());
    if let Some(random_looking) = RANDOM_LOOKING.as_ref() {
        out = random_looking
            .replace_all(&out, |found: &regex::Captures<'_>| {
                let word = &found[0];
                if looks_like_a_key(word) {
                    REDACTED.to_owned()
                } else {
                    word.to_owned()
                }
            })
            .into_owned();
    }
    out
}

/// A long unbroken word of base64 that mixes upper case, lower case and digits: an AWS secret
/// key, an API key. Paths (they start with `/` or are lower case), hex digests, and ids with
/// dashes (UUIDs, instance ids) stay readable.
fn looks_like_a_key(word: &str) -> bool {
    !word.starts_with('/')
        && word.chars().any(|c| c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_lowercase())
        && word.chars().any(|c| c.is_ascii_digit())
}

fn replace_non_empty(regex: &Regex, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in regex.find_iter(text) {
        if found.as_str().is_empty() {
            continue;
        }
        out.push_str(&text[last..found.start()]);
        out.push_str(REDACTED);
        last = found.end();
    }
    out.push_str(&text[last..]);
    out
}

/// The first `max_chars` characters of `text`, redacted, with control characters (terminal
/// colours, carriage returns) removed, and a line saying how much was left out.
pub fn excerpt(text: &str, secrets: &[SecretValues], max_chars: usize) -> Option<String> {
    let cleaned = strip_controls(text);
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace());
    if trimmed.is_empty() {
        return None;
    }
    let redacted = redact(trimmed, secrets);
    let total = redacted.chars().count();
    if total <= max_chars {
        return Some(redacted);
    }
    let kept: String = redacted.chars().take(max_chars).collect();
    Some(format!(
        "{kept}\n… ({} more characters in the console)",
        total - max_chars
    ))
}

/// Without ANSI escape sequences and control characters other than newlines and tabs.
fn strip_controls(text: &str) -> String {
    static ANSI: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07").ok());
    let without_escapes = match ANSI.as_ref() {
        Some(ansi) => ansi.replace_all(text, "").into_owned(),
        None => text.to_owned(),
    };
    without_escapes
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(text: &str) -> String {
        redact(text, &[])
    }

    #[test]
    fn every_fixed_shape_compiles() {
        assert_eq!(SHAPES.len(), 8);
    }

    #[test]
    fn named_secrets_keep_their_name_and_lose_their_value() {
        assert_eq!(hidden("password=hunter2 ok"), "password=[redacted] ok");
        assert_eq!(
            hidden(r#"{"api_key": "abc123def"}"#),
            r#"{"api_key": "[redacted]"}"#
        );
        assert_eq!(hidden("DB_PASSWORD: s3cr3t!"), "DB_PASSWORD: [redacted]");
        assert_eq!(
            hidden("Authorization: Bearer abc.def.ghi"),
            "Authorization: [redacted]"
        );
    }

    #[test]
    fn quoted_values_are_hidden_whole() {
        assert_eq!(
            hidden(r#"{"password": "correct horse battery"}"#),
            r#"{"password": "[redacted]"}"#
        );
        assert_eq!(hidden("TOKEN='a b;c' next"), "TOKEN='[redacted]' next");
    }

    #[test]
    fn known_token_shapes_are_hidden() {
        for secret in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "xoxb-1234567890-abcdefghij",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ] {
            let text = format!("found {secret} here");
            let out = hidden(&text);
            assert!(!out.contains(secret), "{secret} survived: {out}");
            assert!(out.starts_with("found ") && out.ends_with(" here"), "{out}");
        }
    }

    #[test]
    fn a_private_key_block_is_hidden_whole_even_when_cut_short() {
        let text = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\nxyz\n-----END RSA PRIVATE KEY-----\nafter";
        assert_eq!(hidden(text), "key:\n[redacted]\nafter");
        let cut = "-----BEGIN PRIVATE KEY-----\nMIIEabc";
        assert_eq!(hidden(cut), REDACTED);
    }

    #[test]
    fn passwords_in_urls_are_hidden() {
        assert_eq!(
            hidden("connecting to postgres://app:pa55w0rd@db:5432/x"),
            "connecting to postgres://app:[redacted]@db:5432/x"
        );
    }

    #[test]
    fn ordinary_output_is_left_alone() {
        let text = "nginx.service: active (running) since Tue 2026-12-01 10:00:00 UTC\n\
                    i-0abc1234def567890 3f2a1b4c-1111-2222-3333-444455556666 exit 0\n\
                    /opt/app/releases/20261201/current/bin/server sha256 \
                    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(hidden(text), text);
    }

    #[test]
    fn secret_parameters_are_hidden_by_pattern_and_by_value() {
        let by_pattern = SecretValues::Pattern(Regex::new("tok-[0-9]{4}").expect("valid"));
        let by_value = SecretValues::Literal("blue".to_owned());
        assert_eq!(
            redact("a tok-1234 b blue c", &[by_pattern, by_value]),
            "a [redacted] b [redacted] c"
        );
        // A pattern that matches the empty string does not spray markers.
        let loose = SecretValues::Pattern(Regex::new("[0-9]*").expect("valid"));
        assert_eq!(redact("ab 12 cd", &[loose]), "ab [redacted] cd");
    }

    #[test]
    fn an_excerpt_is_redacted_before_it_is_cut() {
        let secret = "AKIAIOSFODNN7EXAMPLE";
        let text = format!("{}{secret}", "x ".repeat(5));
        let out = excerpt(&text, &[], 12).expect("text");
        assert!(!out.contains("AKIA"), "{out}");
        assert!(out.contains("more characters"), "{out}");
    }

    #[test]
    fn an_excerpt_drops_terminal_escapes_and_blank_output() {
        assert_eq!(
            excerpt("\x1b[32mOK\x1b[0m\r\n", &[], 100).as_deref(),
            Some("OK")
        );
        assert_eq!(excerpt(" \n\t ", &[], 100), None);
    }

    #[test]
    fn an_excerpt_cuts_on_character_boundaries() {
        let text = "é".repeat(50);
        let out = excerpt(&text, &[], 10).expect("text");
        assert!(out.starts_with(&"é".repeat(10)));
    }
}
