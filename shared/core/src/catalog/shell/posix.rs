use super::*;

mod commands;
mod files;
mod redirections;
mod tables;
mod words;

use commands::{CASE_UNREADABLE, UNBALANCED, arithmetic_error, check_parameter};
use tables::KEYWORDS;

#[derive(Debug, Default, Clone)]
struct Word {
    /// The literal characters, quotes removed (for names).
    text: String,
    hole: bool,
    /// `$…`, `$(…)` or backquotes outside single quotes.
    expansion: bool,
    /// A placeholder before any `=` (a value as a name).
    hole_before_eq: bool,
    /// A placeholder or an expansion before any `=` (a name that may come from a value).
    dynamic_name: bool,
    /// Starts with an unquoted `NAME=`.
    assignment: bool,
    /// No quotes, escapes, expansions or placeholders: a reserved word if it is one.
    literal: bool,
    /// `$'…'` or `$"…"`: the text kept is not the text the shell uses.
    unreadable: bool,
}

impl Word {
    fn is_static(&self) -> bool {
        !self.hole && !self.expansion
    }
}

/// What a command reads as code, besides its arguments.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reads {
    #[default]
    Nothing,
    /// Something other than a shell (an interpreter, an editor): its code cannot be checked.
    OtherCode,
    /// A shell: static code it reads is checked as a script of its own.
    ShellCode,
}

#[derive(Debug, Default)]
struct Command {
    words: Vec<Word>,
    /// Here-strings, here-document bodies and redirected files: what the command reads.
    input: Vec<Word>,
    /// Input the words above do not show: a duplicated descriptor (`<&3`) or a process
    /// substitution (`< <(…)`).
    hidden_input: bool,
    /// Reads a pipe, directly or through the compound command or subshell it stands in.
    piped_into: bool,
    /// A subshell or compound command ends in this command: the index in `seen` of its first
    /// command (its redirections feed the whole body).
    body_start: Option<usize>,
    /// A here-document with an unquoted delimiter: its body may expand a variable.
    expanding_heredoc: bool,
    /// The text of static here-strings (`bash <<< '…'`).
    here_strings: Vec<String>,
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    expands: bool,
    /// Index into `seen` of the command it feeds.
    command: usize,
}

/// A compound command being read: `if`, `while`, `until`, `for`, `select`, `case`, `{`.
struct Open {
    closer: &'static str,
    /// Index into `seen` of its first command.
    start: usize,
    /// It reads a pipe, so every command inside does.
    piped: bool,
    /// A `case` between arms: a pattern list (or `esac`) comes next.
    case_patterns: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    Newline,
    Semicolon,
    Background,
    Pipe,
    And,
    Or,
    /// `;;`, `;&` or `;;&`: the end of a case arm.
    CaseEnd,
    /// The `)` that closes the list being read.
    Close,
}

pub(super) struct Scanner<'a> {
    syms: &'a [Sym],
    pos: usize,
    depth: usize,
    heredocs: Vec<Heredoc>,
    /// For each command seen, what it reads as code, and its name.
    seen: Vec<(Reads, String)>,
    /// The list being read runs inside something that reads a pipe (its commands inherit
    /// their shell's input).
    inherited_piped: bool,
    /// Functions this script defines.
    functions: Vec<String>,
    /// Commands that read a pipe or redirected input: data reaches them.
    fed: Vec<String>,
    /// Literal paths this script writes to (`>`, `tee`, `cp`, `dd of=`, …).
    written: Vec<String>,
    /// Paths this script runs, sources or gives to a shell or interpreter.
    code_paths: Vec<String>,
    budget: Budget,
}

type Scan<T = ()> = Result<T, String>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Eof,
    Paren,
}

const CARRIAGE_RETURN: &str = "`commands` holds a carriage return: bash reads it as part of a word, not as the end of a line, so what it runs could differ from what is checked; end lines with a newline only";
const DELIMITER_EXPANDS: &str = "a here-document's delimiter holds `$` or a backquote: bash takes that text literally to end the body, so where it ends cannot be checked; in a script that reads parameters write a plain delimiter (<<'EOF')";

impl<'a> Scanner<'a> {
    pub(super) fn new(syms: &'a [Sym]) -> Self {
        Self {
            syms,
            pos: 0,
            depth: 0,
            heredocs: Vec::new(),
            seen: Vec::new(),
            inherited_piped: false,
            functions: Vec::new(),
            fed: Vec::new(),
            written: Vec::new(),
            code_paths: Vec::new(),
            budget: Budget::for_script(syms),
        }
    }

    /// A scanner for a script nested in this one (backquotes, code a command runs): it
    /// shares this check's budget.
    pub(super) fn nested<'b>(&self, syms: &'b [Sym], depth: usize) -> Scanner<'b> {
        let mut nested = Scanner::new(syms);
        nested.budget = self.budget.clone();
        nested.depth = depth;
        nested
    }

    /// The guard at the top of every scanning loop: no step without progress, and no more
    /// steps than the budget.
    pub(super) fn progress(&self, last: &mut Option<usize>) -> Scan {
        progress(&self.budget, last, self.pos, self.peek())
    }

    fn peek(&self) -> Option<Sym> {
        self.syms.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<Sym> {
        self.syms.get(self.pos + offset).copied()
    }

    fn is(&self, offset: usize, c: char) -> bool {
        self.peek_at(offset) == Some(Sym::Char(c))
    }

    pub(super) fn script(&mut self) -> Scan {
        if self.syms.contains(&Sym::Char('\r')) {
            return Err(CARRIAGE_RETURN.to_owned());
        }
        self.list(End::Eof)?;
        // A function's body runs wherever it is called, before or after its definition: data
        // fed to a function could reach any command that reads code.
        let reads_code = self.seen.iter().any(|(reads, _)| *reads != Reads::Nothing);
        if reads_code && let Some(name) = self.fed.iter().find(|name| self.functions.contains(name))
        {
            return Err(format!(
                "the function `{name}` reads a pipe or redirected input, and this script runs a command that reads code: in a script that reads parameters, that data could reach it"
            ));
        }
        self.written_then_run()
    }

    /// Commands until the end of input or a closing `)`. Returns whether a hole or an
    /// expansion was seen (for the word that holds a `$(…)`).
    fn list(&mut self, end: End) -> Scan<(bool, bool)> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(TOO_DEEP.to_owned());
        }
        let inherited = self.inherited_piped;
        let found = self.commands(end);
        self.inherited_piped = inherited;
        self.depth -= 1;
        found
    }

    /// What the commands from `start` on read as code (the most dangerous of them).
    fn body_reads(&self, start: usize) -> Reads {
        self.seen
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .map(|(reads, _)| *reads)
            .max()
            .unwrap_or_default()
    }

    fn commands(&mut self, end: End) -> Scan<(bool, bool)> {
        let inherited = self.inherited_piped;
        let (mut hole, mut expansion) = (false, false);
        let mut open: Vec<Open> = Vec::new();
        let mut piped = false;
        // The previous command ended with `|`, `&&` or `||`: newlines may come before the next.
        let mut continued = false;
        let mut step1 = None;
        loop {
            self.progress(&mut step1)?;
            let mut command = Command {
                piped_into: piped,
                ..Command::default()
            };
            let index = self.seen.len();
            self.seen.push((Reads::Nothing, String::new()));
            if open.last().is_some_and(|open| open.case_patterns) {
                if self.case_pattern()? {
                    Self::close(&mut open, "esac", &mut command)?;
                } else if let Some(case) = open.last_mut() {
                    case.case_patterns = false;
                }
            }
            let mut in_conditional = false;
            // One simple command.
            let mut step2 = None;
            let terminator = loop {
                self.progress(&mut step2)?;
                self.inherited_piped =
                    inherited || command.piped_into || open.iter().any(|open| open.piped);
                self.skip_blanks();
                let Some(sym) = self.peek() else {
                    break None;
                };
                let command_position = command.words.iter().all(|word| word.assignment);
                match sym {
                    Sym::Char('#') => {
                        self.comment()?;
                    }
                    Sym::Char('\n') => {
                        self.pos += 1;
                        if continued && command.words.is_empty() {
                            // `a |` at the end of a line: the pipeline goes on below.
                            self.heredoc_bodies()?;
                            continue;
                        }
                        break Some(Term::Newline);
                    }
                    Sym::Char(c @ (';' | '&' | '|')) if !in_conditional => {
                        self.pos += 1;
                        let doubled = self.is(0, c);
                        let then_ampersand = self.is(0, '&');
                        let term = match c {
                            ';' if doubled => {
                                self.pos += 1;
                                if self.is(0, '&') {
                                    self.pos += 1;
                                }
                                Term::CaseEnd
                            }
                            ';' if then_ampersand => {
                                self.pos += 1;
                                Term::CaseEnd
                            }
                            ';' => Term::Semicolon,
                            '&' if doubled => {
                                self.pos += 1;
                                Term::And
                            }
                            '&' => Term::Background,
                            '|' if doubled => {
                                self.pos += 1;
                                Term::Or
                            }
                            _ => {
                                if then_ampersand {
                                    self.pos += 1;
                                }
                                Term::Pipe
                            }
                        };
                        break Some(term);
                    }
                    Sym::Char(')') if !in_conditional => {
                        self.pos += 1;
                        if end == End::Paren {
                            break Some(Term::Close);
                        }
                        return Err(UNBALANCED.to_owned());
                    }
                    Sym::Char(c @ ('<' | '>')) if !in_conditional && self.is(1, '(') => {
                        let word = self.process_substitution(c)?;
                        hole |= word.hole;
                        expansion = true;
                        command.words.push(word);
                    }
                    Sym::Char('(') if !in_conditional => {
                        self.pos += 1;
                        if self.is(0, '(') && command_position {
                            self.pos += 1;
                            if self.arithmetic()? {
                                return Err(arithmetic_error());
                            }
                            continue;
                        }
                        if !command_position && self.is(0, ')') {
                            // `name()`: a function definition; its body follows.
                            self.pos += 1;
                            if let Some(name) = command.words.pop() {
                                self.functions.push(basename(&name.text).to_owned());
                            }
                            command.words.clear();
                            continue;
                        }
                        // A subshell: commands of their own, reading this command's input.
                        let start = self.seen.len();
                        let (h, e) = self.list(End::Paren)?;
                        hole |= h;
                        expansion |= e;
                        command.body_start = Some(start);
                    }
                    Sym::Char(c @ ('<' | '>')) if !in_conditional => {
                        self.redirection(c, &mut command, index)?;
                    }
                    _ => {
                        let word = self.word(in_conditional)?;
                        if !in_conditional
                            && word.literal
                            && !word.text.is_empty()
                            && word.text.chars().all(|c| c.is_ascii_digit())
                            && matches!(self.peek(), Some(Sym::Char('<' | '>')))
                        {
                            // `3<<EOF`, `2>&1`: a descriptor number, not a word.
                            continue;
                        }
                        hole |= word.hole;
                        expansion |= word.expansion;
                        if word.literal && command.words.is_empty() && !in_conditional {
                            match word.text.as_str() {
                                opener @ ("if" | "while" | "until" | "{" | "for" | "select") => {
                                    open.push(Open {
                                        closer: match opener {
                                            "if" => "fi",
                                            "{" => "}",
                                            _ => "done",
                                        },
                                        start: index,
                                        piped: command.piped_into,
                                        case_patterns: false,
                                    });
                                    if matches!(opener, "for" | "select") {
                                        self.skip_blanks();
                                        if self.is(0, '(') && self.is(1, '(') {
                                            self.pos += 2;
                                            if self.arithmetic()? {
                                                return Err(arithmetic_error());
                                            }
                                        } else {
                                            // `for NAME in WORDS`: arguments of `for`.
                                            command.words.push(word);
                                        }
                                    }
                                    continue;
                                }
                                "case" => {
                                    open.push(Open {
                                        closer: "esac",
                                        start: index,
                                        piped: command.piped_into,
                                        case_patterns: true,
                                    });
                                    self.skip_blanks();
                                    let subject = self.word(false)?;
                                    hole |= subject.hole;
                                    expansion |= subject.expansion;
                                    self.skip_blank_lines()?;
                                    let word_in = self.word(false)?;
                                    if !(word_in.literal && word_in.text == "in") {
                                        return Err(CASE_UNREADABLE.to_owned());
                                    }
                                    break Some(Term::Semicolon);
                                }
                                "function" => {
                                    self.skip_blanks();
                                    let name = self.word(false)?;
                                    if !name.is_static() {
                                        return Err(AS_COMMAND.to_owned());
                                    }
                                    self.functions.push(name.text);
                                    self.skip_blanks();
                                    if self.is(0, '(') && self.is(1, ')') {
                                        self.pos += 2;
                                    }
                                    continue;
                                }
                                closer @ ("fi" | "done" | "}" | "esac") => {
                                    Self::close(&mut open, closer, &mut command)?;
                                    continue;
                                }
                                keyword if KEYWORDS.contains(&keyword) => continue,
                                _ => {}
                            }
                        }
                        if command_position && word.literal && word.text == "[[" {
                            in_conditional = true;
                        } else if in_conditional && word.literal && word.text == "]]" {
                            in_conditional = false;
                        }
                        command.words.push(word);
                    }
                }
            };
            command.piped_into |= inherited || open.iter().any(|open| open.piped);
            let reads = self.analyse(&command, index)?;
            let name = command
                .words
                .iter()
                .find(|word| !word.assignment)
                .map(|word| basename(&word.text).to_owned())
                .unwrap_or_default();
            if let Some(slot) = self.seen.get_mut(index) {
                *slot = (reads, name);
            }
            continued = matches!(terminator, Some(Term::Pipe | Term::And | Term::Or));
            piped = terminator == Some(Term::Pipe);
            match terminator {
                Some(Term::Newline) => self.heredoc_bodies()?,
                Some(Term::CaseEnd) => match open.last_mut() {
                    Some(case) if case.closer == "esac" => case.case_patterns = true,
                    _ => return Err(UNBALANCED.to_owned()),
                },
                Some(Term::Close) | None => {
                    if !open.is_empty() {
                        return Err(UNBALANCED.to_owned());
                    }
                    return Ok((hole, expansion));
                }
                _ => {}
            }
        }
    }

    /// The end of a compound command: its redirections, which follow, feed its whole body.
    fn close(open: &mut Vec<Open>, closer: &str, command: &mut Command) -> Scan {
        match open.pop() {
            Some(compound) if compound.closer == closer => {
                command.body_start = Some(compound.start);
                Ok(())
            }
            _ => Err(UNBALANCED.to_owned()),
        }
    }

    /// Before a case arm: blank lines and comments, then `esac` (true) or a pattern list up to
    /// its `)`, with the optional `(` before it.
    fn case_pattern(&mut self) -> Scan<bool> {
        self.skip_blank_lines()?;
        let esac = "esac".chars().enumerate().all(|(i, c)| self.is(i, c))
            && matches!(
                self.peek_at(4),
                None | Some(Sym::Char(
                    ' ' | '\t' | '\n' | ';' | '&' | '|' | ')' | '<' | '>'
                ))
            );
        if esac {
            self.pos += 4;
            return Ok(true);
        }
        if self.is(0, '(') {
            self.pos += 1;
        }
        let mut step3 = None;
        loop {
            self.progress(&mut step3)?;
            self.skip_blanks();
            let start = self.pos;
            self.word(false)?;
            let read = self.pos > start;
            self.skip_blanks();
            match self.peek() {
                Some(Sym::Char('|')) if read => self.pos += 1,
                Some(Sym::Char(')')) if read => {
                    self.pos += 1;
                    return Ok(false);
                }
                _ => return Err(CASE_UNREADABLE.to_owned()),
            }
        }
    }

    /// Blanks, newlines and comments (where a command may not start yet).
    fn skip_blank_lines(&mut self) -> Scan {
        let mut step4 = None;
        loop {
            self.progress(&mut step4)?;
            self.skip_blanks();
            match self.peek() {
                Some(Sym::Char('\n')) => {
                    self.pos += 1;
                    self.heredoc_bodies()?;
                }
                Some(Sym::Char('#')) => self.comment()?,
                _ => return Ok(()),
            }
        }
    }

    /// `<(…)` or `>(…)`, from its `<` or `>`: a file name whose contents a list makes (or
    /// reads: what is written to `>(…)` is its input).
    fn process_substitution(&mut self, kind: char) -> Scan<Word> {
        self.pos += 2;
        let saved = self.inherited_piped;
        if kind == '>' {
            self.inherited_piped = true;
        }
        let found = self.list(End::Paren);
        self.inherited_piped = saved;
        let (hole, _) = found?;
        Ok(Word {
            text: "/dev/fd/63".to_owned(),
            hole,
            expansion: true,
            dynamic_name: true,
            ..Word::default()
        })
    }

    fn skip_blanks(&mut self) {
        while let Some(Sym::Char(' ' | '\t' | '\r')) = self.peek() {
            self.pos += 1;
        }
        // A line continuation.
        if self.is(0, '\\') && self.is(1, '\n') {
            self.pos += 2;
            self.skip_blanks();
        }
    }

    fn comment(&mut self) -> Scan {
        let mut step5 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step5)?;
            match sym {
                Sym::Char('\n') => return Ok(()),
                Sym::Hole => return Err(IN_COMMENT.to_owned()),
                Sym::Char(_) => self.pos += 1,
            }
        }
        Ok(())
    }
}
