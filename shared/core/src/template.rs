//! The catalog's small template language: literal text with `{{ name }}` placeholders.
//!
//! Parameters read trigger fields (`from: "{{ alarm.dimensions.InstanceId }}"`); actions read only
//! parameters (`{{ params.instance }}`), so every byte of incident or alarm text that reaches an
//! action has matched its parameter's pattern or enum first. Values placed into a shell command
//! are quoted for that shell as well.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(String),
}

/// One piece of a template: literal text or a placeholder's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'t> {
    Text(&'t str),
    Placeholder(&'t str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a rendered value is written into the text around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quoting {
    /// As it is (a document parameter that is not a shell command).
    None,
    /// POSIX shell single quotes: `'it'\''s'`.
    Posix,
    /// PowerShell single quotes: every single quote, including the typographic ones PowerShell
    /// also accepts as quotes (U+2018 to U+201B), is doubled.
    Powershell,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| TemplateError(format!("unclosed placeholder in {text:?}")))?;
            let name = after[..end].trim();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/'));
            if !valid {
                return Err(TemplateError(format!(
                    "{{{{ {name} }}}} is not a field name"
                )));
            }
            parts.push(Part::Placeholder(name.to_owned()));
            rest = &after[end + 2..];
        }
        if rest.contains("}}") {
            return Err(TemplateError(format!("stray }} in {text:?}")));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The text and placeholders in order, for checks of the text around placeholders.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_>> {
        self.parts.iter().map(|part| match part {
            Part::Text(text) => Segment::Text(text),
            Part::Placeholder(name) => Segment::Placeholder(name),
        })
    }

    /// The names of every placeholder, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Placeholder(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    pub fn is_literal(&self) -> bool {
        self.placeholders().next().is_none()
    }

    /// Render with values from `lookup`; a placeholder without a value is an error naming it.
    pub fn render(
        &self,
        quoting: Quoting,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(name) => {
                    let value = lookup(name)
                        .ok_or_else(|| TemplateError(format!("{name} has no value")))?;
                    out.push_str(&quote(&value, quoting));
                }
            }
        }
        Ok(out)
    }
}

pub fn quote(value: &str, quoting: Quoting) -> String {
    match quoting {
        Quoting::None => value.to_owned(),
        Quoting::Posix => format!("'{}'", value.replace('\'', r"'\''")),
        Quoting::Powershell => {
            let mut out = String::with_capacity(value.len() + 2);
            out.push('\'');
            for c in value.chars() {
                out.push(c);
                if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
                    out.push(c);
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_placeholders() {
        let template = Template::parse("restart {{ params.service }} on {{params.host}}!").unwrap();
        assert_eq!(
            template.placeholders().collect::<Vec<_>>(),
            ["params.service", "params.host"]
        );
        let rendered = template
            .render(Quoting::None, |name| {
                Some(name.trim_start_matches("params.").to_uppercase())
            })
            .unwrap();
        assert_eq!(rendered, "restart SERVICE on HOST!");
        assert!(Template::parse("plain text").unwrap().is_literal());
    }

    #[test]
    fn rejects_malformed_templates() {
        for text in [
            "{{ unclosed",
            "{{ }}",
            "{{ a b }}",
            "{{ $(x) }}",
            "a }} b",
            "{{ a }} }}",
        ] {
            assert!(Template::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn missing_values_are_errors() {
        let template = Template::parse("{{ params.x }}").unwrap();
        assert_eq!(
            template.render(Quoting::None, |_| None).unwrap_err().0,
            "params.x has no value"
        );
    }

    #[test]
    fn posix_quoting_survives_a_real_shell() {
        for value in [
            "plain",
            "it's",
            "$(touch /tmp/x)",
            "`id`",
            "a;b|c&&d",
            "new\nline",
            "'",
            "",
            "\\'\"",
        ] {
            let quoted = quote(value, Quoting::Posix);
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&output.stdout), value, "{quoted}");
        }
    }

    #[test]
    fn powershell_quoting_doubles_every_quote_kind() {
        assert_eq!(quote("it's", Quoting::Powershell), "'it''s'");
        assert_eq!(
            quote("a\u{2019}b", Quoting::Powershell),
            "'a\u{2019}\u{2019}b'"
        );
        assert_eq!(quote("$env:PATH", Quoting::Powershell), "'$env:PATH'");
    }
}
