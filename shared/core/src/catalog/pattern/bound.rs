//! An upper bound of the memory `regex` counts against its size limit for a pattern, computed
//! from the parsed pattern without building anything.
//!
//! `regex` (regex-automata's meta engine) compiles a pattern into a forward Thompson NFA (with
//! captures) and a reverse one (without), and refuses the pattern when either builder's memory
//! passes the limit. That memory is a sum over the builder's states: a fixed size per state, plus
//! 8 bytes per transition of a sparse state and 4 per alternate of a union. The bound below
//! follows the compiler's construction of each kind of expression (regex-automata's
//! `nfa/thompson/compiler.rs`) and counts, generously, the states, transitions and alternates it
//! can add in either direction. The property test beside it checks the bound against `regex`
//! itself: every pattern builds with its bound as the size limit.

use regex_syntax::hir::{Class, Hir, HirKind};
use regex_syntax::utf8::Utf8Sequences;

/// Bytes counted per builder state (32 on 64-bit targets), per sparse transition (8) and per
/// union alternate (4), with room to spare.
const STATE_BYTES: u64 = 48;
const TRANSITION_BYTES: u64 = 8;
const ALTERNATE_BYTES: u64 = 4;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    states: u64,
    transitions: u64,
    alternates: u64,
}

impl Cost {
    fn states(states: u64) -> Self {
        Cost {
            states,
            ..Cost::default()
        }
    }

    fn plus(self, other: Cost) -> Self {
        Cost {
            states: self.states.saturating_add(other.states),
            transitions: self.transitions.saturating_add(other.transitions),
            alternates: self.alternates.saturating_add(other.alternates),
        }
    }

    fn times(self, copies: u64) -> Self {
        Cost {
            states: self.states.saturating_mul(copies),
            transitions: self.transitions.saturating_mul(copies),
            alternates: self.alternates.saturating_mul(copies),
        }
    }

    fn bytes(self) -> u64 {
        self.states
            .saturating_mul(STATE_BYTES)
            .saturating_add(self.transitions.saturating_mul(TRANSITION_BYTES))
            .saturating_add(self.alternates.saturating_mul(ALTERNATE_BYTES))
    }
}

/// At least the memory either of the pattern's NFAs takes while it is built.
pub(super) fn nfa_bytes(hir: &Hir) -> usize {
    // Around the pattern: the unanchored prefix `(?s-u:.)*?` (three states, one transition, an
    // alternate), group 0's two capture states, the match state, and the patches joining them.
    let around = Cost {
        states: 8,
        transitions: 1,
        alternates: 4,
    };
    usize::try_from(cost(hir).plus(around).bytes()).unwrap_or(usize::MAX)
}

/// Recursion follows the expression's nesting, which the parser limits (250 levels).
fn cost(hir: &Hir) -> Cost {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Cost::states(1),
        // One state per byte.
        HirKind::Literal(literal) => Cost::states(len(literal.0.len()).max(1)),
        // An empty state and one sparse state with a transition per range.
        HirKind::Class(Class::Bytes(class)) => Cost {
            states: 2,
            transitions: len(class.ranges().len()),
            alternates: 0,
        },
        HirKind::Class(Class::Unicode(class)) if class.is_ascii() => Cost {
            states: 2,
            transitions: len(class.ranges().len()),
            alternates: 0,
        },
        // Compiled as UTF-8 sequences of byte ranges: forwards, at most one state and one
        // transition per byte range of every sequence, and two more states; backwards (no
        // shrinking), a union with an alternate per sequence, an empty state, and a state per
        // byte range.
        HirKind::Class(Class::Unicode(class)) => {
            let (mut sequences, mut ranges) = (0u64, 0u64);
            for range in class.iter() {
                for sequence in Utf8Sequences::new(range.start(), range.end()) {
                    sequences += 1;
                    ranges += len(sequence.as_slice().len());
                }
            }
            Cost {
                states: ranges + 3,
                transitions: ranges + 1,
                alternates: sequences,
            }
        }
        // Two capture states (forwards only), and a patch that may add an alternate.
        HirKind::Capture(capture) => cost(&capture.sub).plus(Cost {
            states: 2,
            transitions: 0,
            alternates: 1,
        }),
        // Each link may add an alternate (when a part ends in a union); none at all is an empty
        // state.
        HirKind::Concat(parts) => parts.iter().fold(
            Cost {
                states: 1,
                transitions: 0,
                alternates: len(parts.len()),
            },
            |total, part| total.plus(cost(part)),
        ),
        HirKind::Alternation(branches) => {
            let parts = branches
                .iter()
                .fold(Cost::default(), |total, branch| total.plus(cost(branch)));
            // A union and an empty state, two patches per branch.
            let mut total = parts.plus(Cost {
                states: 2,
                transitions: 0,
                alternates: len(branches.len()).saturating_mul(2),
            });
            if branches
                .iter()
                .all(|branch| matches!(branch.kind(), HirKind::Literal(_)))
            {
                // Literals become a trie: per trie state a union and a state per chunk of its
                // transitions; `parts.states` is their total length.
                let bytes = parts.states;
                total = total.plus(Cost {
                    states: bytes.saturating_mul(3).saturating_add(3),
                    transitions: bytes,
                    alternates: bytes.saturating_mul(4).saturating_add(2),
                });
            }
            total
        }
        // Up to `max` copies (`min` for an unbounded one, at least one), a union and a few
        // patches per copy, and the states joining them.
        HirKind::Repetition(repetition) => {
            let copies = u64::from(repetition.max.unwrap_or(repetition.min).max(1));
            cost(&repetition.sub).times(copies).plus(Cost {
                states: copies.saturating_add(4),
                transitions: 0,
                alternates: copies.saturating_mul(3).saturating_add(6),
            })
        }
    }
}

fn len(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}
