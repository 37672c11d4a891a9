//! Custom Incident Action tokens: the secret header PagerDuty sends with each tap.
//!
//! The token parameter holds one token per line (rotation). A line `action-name=token` is good
//! for that action only, so a token leaked from one extension cannot start another's runbook; a
//! bare line is good for every action. Tokens are compared in constant time, before the body is
//! parsed.

use remediate_core::secrets::Secret;
use subtle::ConstantTimeEq;

/// The answer of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    /// The request carries no token header.
    Missing,
    /// No usable line of the parameter matches; `unusable` lines could never match (too short).
    Mismatch {
        unusable: usize,
    },
}

/// Tokens shorter than this are not tokens anyone generated: such lines are ignored (and said so).
const MIN_ACTION_TOKEN_LEN: usize = 16;

/// What one line of the action token parameter holds.
#[derive(Debug, PartialEq, Eq)]
enum TokenLine<'a> {
    /// `action-name=token`: good for that action only.
    Scoped { action: &'a str, token: &'a str },
    /// A bare token: good for every action.
    Bare(&'a str),
    /// Neither (too short, empty token): never accepted.
    Unusable,
}

/// A line whose part before the first `=` is an action name is scoped to that action, whatever
/// follows; one token per action means a token leaked from one extension cannot start another's
/// runbook. Anything else is a bare token. Either way the token must be long enough to have been
/// generated, so `restart-web=` or a short bare line never authenticates anything.
fn token_line(line: &str) -> TokenLine<'_> {
    let line = line.trim();
    let parsed = match line.split_once('=') {
        Some((name, token)) if is_action_name(name.trim()) => TokenLine::Scoped {
            action: name.trim(),
            token: token.trim(),
        },
        _ => TokenLine::Bare(line),
    };
    match parsed {
        TokenLine::Scoped { token, .. } | TokenLine::Bare(token)
            if token.len() < MIN_ACTION_TOKEN_LEN =>
        {
            TokenLine::Unusable
        }
        usable => usable,
    }
}

pub fn is_action_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `presented` (the header's value) is a token for `action`.
pub fn verify(presented: Option<&[u8]>, action: &str, tokens: &[Secret]) -> TokenCheck {
    let Some(presented) = presented else {
        return TokenCheck::Missing;
    };
    let mut matched = subtle::Choice::from(0u8);
    let mut unusable = 0;
    for line in tokens {
        let token = match token_line(line.expose()) {
            TokenLine::Scoped {
                action: scope,
                token,
            } if scope == action => token,
            TokenLine::Scoped { .. } => continue,
            TokenLine::Bare(token) => token,
            TokenLine::Unusable => {
                unusable += 1;
                continue;
            }
        };
        matched |= token.as_bytes().ct_eq(presented);
    }
    if bool::from(matched) {
        TokenCheck::Valid
    } else {
        TokenCheck::Mismatch { unusable }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lines_are_scoped_bare_or_unusable_never_ambiguous() {
        let scoped = |action, token| TokenLine::Scoped { action, token };
        assert_eq!(
            token_line("restart-web=0123456789abcdef0123"),
            scoped("restart-web", "0123456789abcdef0123")
        );
        assert_eq!(
            token_line(" restart-web = 0123456789abcdef0123 "),
            scoped("restart-web", "0123456789abcdef0123")
        );
        // An empty or short token is never a token, for any action.
        assert_eq!(token_line("restart-web="), TokenLine::Unusable);
        assert_eq!(token_line("restart-web= "), TokenLine::Unusable);
        assert_eq!(token_line("short"), TokenLine::Unusable);
        // A base64 token whose head looks like an action name is read as scoped with a short
        // token: unusable (and logged), never a token for every action.
        assert_eq!(token_line("abc123=="), TokenLine::Unusable);
        // Bare tokens: hex, or base64 whose head is no action name.
        assert_eq!(
            token_line("9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c"),
            TokenLine::Bare("9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c")
        );
        assert_eq!(
            token_line("Zm9vYmFyYmF6cXV4cXV1eA=="),
            TokenLine::Bare("Zm9vYmFyYmF6cXV4cXV1eA==")
        );
    }
}
