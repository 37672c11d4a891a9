use super::*;

mod commands;
mod redirections;

use commands::{CASE_UNREADABLE, KEYWORDS, UNBALANCED, arithmetic_error, check_parameter};

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
        }
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
        Ok(())
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
        loop {
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
            let terminator = loop {
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
        loop {
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
        loop {
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
        while let Some(sym) = self.peek() {
            match sym {
                Sym::Char('\n') => return Ok(()),
                Sym::Hole => return Err(IN_COMMENT.to_owned()),
                Sym::Char(_) => self.pos += 1,
            }
        }
        Ok(())
    }

    /// `$(( … ))` or `(( … ))` after the opening parentheses; returns whether the
    /// expression names anything (a variable, a substitution, a placeholder).
    fn arithmetic(&mut self) -> Scan<bool> {
        let mut depth = 0usize;
        let mut names = false;
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Hole => names = true,
                Sym::Char('(') => depth += 1,
                Sym::Char(')') if depth == 0 => {
                    if self.is(0, ')') {
                        self.pos += 1;
                    }
                    return Ok(names);
                }
                Sym::Char(')') => depth -= 1,
                Sym::Char(c)
                    if c.is_alphabetic() || matches!(c, '$' | '`' | '_' | '[' | '\'' | '"') =>
                {
                    names = true
                }
                Sym::Char(_) => {}
            }
        }
        Ok(names)
    }

    /// One word: quotes, escapes, substitutions and placeholders, up to a blank or an
    /// operator. Inside `[[ ]]`, `&&`, `||`, `<`, `>`, `(`, `)` and `!` are words.
    fn word(&mut self, in_conditional: bool) -> Scan<Word> {
        let mut word = Word::default();
        let mut literal_name = true;
        if in_conditional
            && let Some(Sym::Char(c @ ('&' | '|' | '<' | '>' | '(' | ')' | '!'))) = self.peek()
        {
            self.pos += 1;
            word.text.push(c);
            if self.is(0, c) {
                self.pos += 1;
                word.text.push(c);
            }
            word.literal = true;
            return Ok(word);
        }
        while let Some(sym) = self.peek() {
            if (word.hole || word.expansion) && !word.text.contains('=') {
                word.dynamic_name = true;
            }
            match sym {
                Sym::Hole => {
                    self.pos += 1;
                    word.hole = true;
                    if !word.text.contains('=') {
                        word.hole_before_eq = true;
                    }
                    literal_name = false;
                }
                Sym::Char(' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')') => {
                    break;
                }
                Sym::Char('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(Sym::Hole) => {
                            return Err("a placeholder in `commands` follows a backslash, which would escape its opening quote".to_owned());
                        }
                        Some(Sym::Char('\n')) => self.pos += 1,
                        Some(Sym::Char(c)) => {
                            self.pos += 1;
                            word.text.push(c);
                        }
                        None => {}
                    }
                    literal_name = false;
                }
                Sym::Char('\'') => {
                    self.pos += 1;
                    self.single_quoted(&mut word.text)?;
                    literal_name = false;
                }
                Sym::Char('"') => {
                    self.pos += 1;
                    self.double_quoted(&mut word)?;
                    literal_name = false;
                }
                Sym::Char('`') => {
                    self.pos += 1;
                    self.backquoted()?;
                    word.expansion = true;
                    literal_name = false;
                }
                Sym::Char('$') => {
                    self.pos += 1;
                    self.dollar(&mut word)?;
                    literal_name = false;
                }
                Sym::Char(c) => {
                    self.pos += 1;
                    if c == '=' && literal_name && !word.text.is_empty() && !word.assignment {
                        let name = word.text.split('[').next().unwrap_or("");
                        word.assignment = name.chars().enumerate().all(|(i, c)| {
                            c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                        });
                    }
                    word.text.push(c);
                }
            }
        }
        if (word.hole || word.expansion) && !word.text.contains('=') {
            word.dynamic_name = true;
        }
        word.literal = literal_name;
        Ok(word)
    }

    fn single_quoted(&mut self, text: &mut String) -> Scan {
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Char('\'') => return Ok(()),
                Sym::Char(c) => text.push(c),
                Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
            }
        }
        Ok(())
    }

    fn double_quoted(&mut self, word: &mut Word) -> Scan {
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Char('"') => return Ok(()),
                Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                Sym::Char('\\') => {
                    if let Some(Sym::Char(c)) = self.peek() {
                        self.pos += 1;
                        word.text.push(c);
                    }
                }
                Sym::Char('`') => {
                    self.backquoted()?;
                    word.expansion = true;
                    word.dynamic_name |= !word.text.contains('=');
                }
                Sym::Char('$') => self.dollar(word)?,
                Sym::Char(c) => word.text.push(c),
            }
        }
        Ok(())
    }

    /// After a `$`.
    fn dollar(&mut self, word: &mut Word) -> Scan {
        // Before any `=` (even inside quotes: `declare "$v=1"`), an expansion is part of a name.
        let name_part = !word.text.contains('=');
        self.dollar_expansion(word)?;
        if name_part && (word.expansion || word.hole) {
            word.dynamic_name = true;
        }
        Ok(())
    }

    fn dollar_expansion(&mut self, word: &mut Word) -> Scan {
        match self.peek() {
            Some(Sym::Hole) => Err("a placeholder in `commands` follows a `$`, which would make its quotes ANSI-C quotes ($'…') that read backslash escapes".to_owned()),
            Some(Sym::Char('(')) => {
                self.pos += 1;
                word.expansion = true;
                if self.is(0, '(') {
                    self.pos += 1;
                    if self.arithmetic()? {
                        return Err(arithmetic_error());
                    }
                    return Ok(());
                }
                let (hole, _) = self.list(End::Paren)?;
                word.hole |= hole;
                Ok(())
            }
            Some(Sym::Char('[')) => {
                // `$[ … ]`: bash's old arithmetic.
                self.pos += 1;
                word.expansion = true;
                let mut names = false;
                while let Some(sym) = self.peek() {
                    self.pos += 1;
                    match sym {
                        Sym::Char(']') => break,
                        Sym::Char(c) if c.is_ascii_digit() || " \t+-*/%()<>=!&|^~".contains(c) => {}
                        _ => names = true,
                    }
                }
                if names {
                    return Err(arithmetic_error());
                }
                Ok(())
            }
            Some(Sym::Char('{')) => {
                self.pos += 1;
                word.expansion = true;
                let mut depth = 0usize;
                let mut inner = String::new();
                while let Some(sym) = self.peek() {
                    self.pos += 1;
                    match sym {
                        Sym::Hole => return Err("a placeholder in `commands` stands inside ${…}, where the shell reads quotes its own way".to_owned()),
                        Sym::Char('}') if depth == 0 => return check_parameter(&inner),
                        Sym::Char(c) => {
                            match c {
                                '{' => depth += 1,
                                '}' => depth -= 1,
                                _ => {}
                            }
                            inner.push(c);
                        }
                    }
                }
                check_parameter(&inner)
            }
            Some(Sym::Char('\'')) => {
                // ANSI-C quoting: backslash escapes, then a quote ends it.
                self.pos += 1;
                while let Some(sym) = self.peek() {
                    self.pos += 1;
                    match sym {
                        Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                        Sym::Char('\\') => {
                            if let Some(Sym::Char(_)) = self.peek() {
                                self.pos += 1;
                            }
                        }
                        Sym::Char('\'') => return Ok(()),
                        Sym::Char(c) => word.text.push(c),
                    }
                }
                Ok(())
            }
            Some(Sym::Char('"')) => {
                self.pos += 1;
                self.double_quoted(word)
            }
            Some(Sym::Char(c)) if c.is_alphanumeric() || "_@*#?$!-".contains(c) => {
                word.expansion = true;
                self.pos += 1;
                if c.is_alphabetic() || c == '_' {
                    while let Some(Sym::Char(c)) = self.peek() {
                        if c.is_alphanumeric() || c == '_' {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                Ok(())
            }
            _ => {
                word.text.push('$');
                Ok(())
            }
        }
    }

    /// Backquotes: their text is parsed again (after unescaping), so no placeholder; the
    /// text is checked as a script of its own.
    fn backquoted(&mut self) -> Scan {
        let mut inner = Vec::new();
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Hole => {
                    return Err("a placeholder in `commands` stands inside backquotes, whose text the shell parses again".to_owned());
                }
                Sym::Char('`') => break,
                Sym::Char('\\') => match self.peek() {
                    Some(Sym::Char(c @ ('$' | '`' | '\\'))) => {
                        self.pos += 1;
                        inner.push(Sym::Char(c));
                    }
                    _ => inner.push(Sym::Char('\\')),
                },
                other => inner.push(other),
            }
        }
        let mut nested = Scanner::new(&inner);
        nested.depth = self.depth + 1;
        nested.inherited_piped = self.inherited_piped;
        nested.script()?;
        // What it runs and feeds counts for this script's functions too.
        let reads = nested.body_reads(0);
        self.seen.push((reads, String::new()));
        self.fed.append(&mut nested.fed);
        Ok(())
    }
}
