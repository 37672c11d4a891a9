//! Where a placeholder may stand in a shell script, so that quoting it is enough.
//!
//! Quoting makes a value one literal word for the shell that reads the script. It is not enough
//! where something parses the text *again*: a here-document body, backquotes, `eval`, `sh -c`,
//! `ssh`, `Invoke-Expression`, arithmetic (bash evaluates `a[$(cmd)]` inside `(( ))`), or a
//! comment (which a newline in the value ends). This module reads the `commands` of a runbook
//! (all lines of one document run in one shell, so they are one script) with a small,
//! deliberately conservative lexer for POSIX shell or PowerShell, and finds the first placement
//! that quoting cannot protect.
//!
//! Threat model: the check catches a runbook author's mistakes, places where a value that a
//! PagerDuty incident or an alarm controls would become code. It is not a sandbox against a
//! malicious catalog author, who writes the script anyway. So it aims at realistic patterns,
//! but where it cannot be sure in a script that reads parameters it refuses, with a message
//! for the author; every bypass found is fixed or refused. It must also stay cheap and total at
//! catalog load (a Lambda cold start): every scanning loop must make progress, and the work of
//! one check is bounded in proportion to the script's length ("too complex to check").
//!
//! No maintained Rust crate parses both shells (and none PowerShell), so this is hand-written; it
//! is strict where it cannot be sure, and never panics (every read is bounds-checked; property
//! tests feed it arbitrary text).
//!
//! A value can also travel through a variable (`v={{ params.x }}; eval "$v"`), a pipe or a file.
//! Variables cannot be followed statically, so in a script that reads parameters a re-parsing
//! command may take no expansion at all among its arguments, arithmetic may name no variable,
//! and a command word may not come from an expansion. Data can also reach a re-parsing command
//! without being one of its arguments: through a pipe into a group, subshell, compound command
//! or function whose body runs one, or through a process substitution or a duplicated
//! descriptor; those are refused too. Static code that a shell runs (`bash -c '…'`, `trap`,
//! `eval`, a quoted here-document) is checked as a script of its own, since it may expand a
//! variable that holds a value; code for other interpreters cannot be read, so it may only come
//! from a script file.

use crate::template::{Segment, Template};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Char(char),
    Hole,
}

/// The script as one sequence: the templates joined by newlines, placeholders as holes.
fn symbols(templates: &[Template]) -> Vec<Sym> {
    let mut syms = Vec::new();
    for (i, template) in templates.iter().enumerate() {
        if i > 0 {
            syms.push(Sym::Char('\n'));
        }
        for segment in template.segments() {
            match segment {
                Segment::Text(text) => syms.extend(text.chars().map(Sym::Char)),
                Segment::Placeholder(_) => syms.push(Sym::Hole),
            }
        }
    }
    syms
}

/// The first placement in a POSIX shell script that quoting cannot protect.
pub(crate) fn check_posix(templates: &[Template]) -> Option<String> {
    let syms = symbols(templates);
    if !syms.contains(&Sym::Hole) {
        return None;
    }
    let mut scanner = posix::Scanner::new(&syms);
    scanner.script().err()
}

/// The first placement in a PowerShell script that quoting cannot protect.
pub(crate) fn check_powershell(templates: &[Template]) -> Option<String> {
    let syms = symbols(templates);
    if !syms.contains(&Sym::Hole) {
        return None;
    }
    let mut scanner = powershell::Scanner::new(&syms);
    scanner.script().err()
}

fn basename(word: &str) -> &str {
    word.rsplit(['/', '\\']).next().unwrap_or(word)
}

/// Deeper nesting than this is refused rather than followed: the scanners recurse, and a stack
/// overflow would abort the function.
const MAX_NESTING: usize = 64;
const TOO_DEEP: &str = "`commands` nests substitutions, groups or blocks too deeply to check";

/// Work allowed per symbol of the script (loop steps, words analysed), across nested scripts:
/// a bound on the time one check may take, whatever the catalog holds.
const STEPS_PER_SYMBOL: usize = 256;
const TOO_COMPLEX: &str = "`commands` is too complex to check (the check gives up rather than run long at a cold start); in a script that reads parameters, write it more simply";

/// The work left for one check, shared by the scanners of nested scripts.
#[derive(Clone)]
struct Budget(std::rc::Rc<std::cell::Cell<usize>>);

impl Budget {
    fn for_script(syms: &[Sym]) -> Self {
        let steps = syms
            .len()
            .saturating_add(64)
            .saturating_mul(STEPS_PER_SYMBOL);
        Self(std::rc::Rc::new(std::cell::Cell::new(steps)))
    }

    fn spend(&self, steps: usize) -> Result<(), String> {
        let left = self.0.get();
        if left < steps {
            self.0.set(0);
            return Err(TOO_COMPLEX.to_owned());
        }
        self.0.set(left - steps);
        Ok(())
    }
}

/// A loop step that consumed nothing would repeat forever: every scanning loop calls this
/// first, with the position its previous step started at.
fn progress(
    budget: &Budget,
    last: &mut Option<usize>,
    pos: usize,
    at: Option<Sym>,
) -> Result<(), String> {
    if *last == Some(pos) {
        let what = match at {
            Some(Sym::Char(c)) => format!("`{c}`"),
            Some(Sym::Hole) => "a placeholder".to_owned(),
            None => "the end".to_owned(),
        };
        return Err(format!(
            "the check cannot read `commands` past {what} here (for example `;` inside `[[ ]]`); in a script that reads parameters, write it more plainly"
        ));
    }
    *last = Some(pos);
    budget.spend(1)
}

/// Message endings shared by both shells.
const INSIDE_QUOTES: &str =
    "a placeholder in `commands` stands inside quotes; values are quoted for you, so write it bare";
const IN_COMMENT: &str =
    "a placeholder in `commands` stands in a comment, which a newline in the value would end";
const AS_COMMAND: &str =
    "a placeholder in `commands` would be the command itself: a value may only be an argument";
const FROM_EXPANSION: &str = "in a script that reads parameters, a command name may not come from an expansion (a variable could hold a value)";

fn reparses(command: &str) -> String {
    format!(
        "`{command}` parses its arguments or input as code: in a script that reads parameters it may take no placeholder, variable or substitution"
    )
}

mod posix;

mod powershell;
