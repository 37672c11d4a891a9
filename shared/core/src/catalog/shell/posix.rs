use super::*;

/// Shells, and interpreters whose arguments may be read as program text.
const REPARSE: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "ksh93",
    "mksh",
    "pdksh",
    "ash",
    "yash",
    "fish",
    "csh",
    "tcsh",
    "rbash",
    "busybox",
    "toybox",
    "eval",
    "source",
    ".",
    "trap",
    "alias",
    "watch",
    "ssh",
    "su",
    "runuser",
    "script",
    "at",
    "batch",
    "crontab",
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "luajit",
    "Rscript",
    "tclsh",
    "wish",
    "expect",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "sed",
    "dc",
    "ed",
    "ex",
    "vi",
    "vim",
    "nvim",
    "gdb",
    "pwsh",
    "powershell",
];
/// Refused outright in a script that reads parameters: `xargs` splits and unquotes what it
/// reads, `let` evaluates names as arithmetic.
const REFUSED: &[&str] = &["xargs", "let"];
/// Builtins that take variable names (bash evaluates subscripts in names: `a[$(cmd)]`).
const NAME_TAKING: &[&str] = &[
    "unset",
    "read",
    "mapfile",
    "readarray",
    "getopts",
    "declare",
    "typeset",
    "local",
    "export",
    "readonly",
];
/// Commands that run the command given after their own options and operands.
/// (name, options that take a value, operands before the command)
const WRAPPERS: &[(&str, &[&str], usize)] = &[
    (
        "sudo",
        &["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"],
        0,
    ),
    ("doas", &["-u", "-C"], 0),
    ("env", &["-u", "-C", "--unset", "--chdir"], 0),
    ("nohup", &[], 0),
    ("exec", &["-a"], 0),
    ("command", &[], 0),
    ("builtin", &[], 0),
    ("time", &["-f", "-o"], 0),
    ("nice", &["-n"], 0),
    ("ionice", &["-c", "-n", "-p"], 0),
    ("setsid", &[], 0),
    ("stdbuf", &[], 0),
    ("unbuffer", &[], 0),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"], 1),
    ("chroot", &["--userspec", "--groups"], 1),
    ("flock", &["-w", "-E"], 1),
    ("taskset", &[], 1),
    ("chrt", &[], 1),
    ("nsenter", &["-t", "-S", "-G"], 0),
    ("systemd-run", &["-u", "-p", "--unit", "--property"], 0),
    ("strace", &["-o", "-e", "-p", "-s"], 0),
];
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "in", "esac",
];
const ARITHMETIC_OPERATORS: &[&str] = &["-eq", "-ne", "-lt", "-le", "-gt", "-ge"];

#[derive(Debug, Default, Clone)]
struct Word {
    /// The literal characters, quotes removed (for names).
    text: String,
    hole: bool,
    /// `$…`, `$(…)` or backquotes outside single quotes.
    expansion: bool,
    /// A placeholder before any `=` (a value as a name).
    hole_before_eq: bool,
    /// Starts with an unquoted `NAME=`.
    assignment: bool,
}

impl Word {
    fn is_static(&self) -> bool {
        !self.hole && !self.expansion
    }
}

#[derive(Debug, Default)]
struct Command {
    words: Vec<Word>,
    /// Here-strings and here-document bodies: what the command reads as input.
    input: Vec<Word>,
    piped_into: bool,
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    expands: bool,
    /// Index into `code_readers` of the command it feeds.
    command: usize,
}

pub(super) struct Scanner<'a> {
    syms: &'a [Sym],
    pos: usize,
    depth: usize,
    heredocs: Vec<Heredoc>,
    /// For each command seen, whether it reads its input as code.
    code_readers: Vec<bool>,
}

type Scan<T = ()> = Result<T, String>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Eof,
    Paren,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(syms: &'a [Sym]) -> Self {
        Self {
            syms,
            pos: 0,
            depth: 0,
            heredocs: Vec::new(),
            code_readers: Vec::new(),
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
        self.list(End::Eof).map(|_| ())
    }

    /// Commands until the end of input or a closing `)`. Returns whether a hole or an
    /// expansion was seen (for the word that holds a `$(…)`).
    fn list(&mut self, end: End) -> Scan<(bool, bool)> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(TOO_DEEP.to_owned());
        }
        let found = self.commands(end);
        self.depth -= 1;
        found
    }

    fn commands(&mut self, end: End) -> Scan<(bool, bool)> {
        let (mut hole, mut expansion) = (false, false);
        let mut piped = false;
        let mut case_pattern = false;
        loop {
            let mut command = Command {
                piped_into: piped,
                ..Command::default()
            };
            piped = false;
            let index = self.code_readers.len();
            self.code_readers.push(false);
            let mut in_conditional = false;
            // One simple command.
            let terminator = loop {
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
                        break Some('\n');
                    }
                    Sym::Char(c @ (';' | '&' | '|')) if !in_conditional => {
                        self.pos += 1;
                        let doubled = self.is(0, c);
                        if doubled || (c == '|' && self.is(0, '&')) || (c == ';' && self.is(0, '&'))
                        {
                            self.pos += 1;
                        }
                        if c == ';' && doubled {
                            case_pattern = true;
                        }
                        if c == '|' && !doubled {
                            piped = true;
                        }
                        break Some(c);
                    }
                    Sym::Char(')') if !in_conditional => {
                        self.pos += 1;
                        if end == End::Paren {
                            break Some(')');
                        }
                        // A case pattern's `)`: what follows is a command.
                        case_pattern = false;
                        break Some(';');
                    }
                    Sym::Char('(') if !in_conditional => {
                        self.pos += 1;
                        if self.is(0, '(') && command_position {
                            self.pos += 1;
                            let names = self.arithmetic()?;
                            if names {
                                return Err(arithmetic_error());
                            }
                            continue;
                        }
                        if !command_position && self.is(0, ')') {
                            // `name()`: a function definition.
                            self.pos += 1;
                            command.words.clear();
                        } else {
                            // A subshell, or a process substitution (`<(…)`, `>(…)`):
                            // commands of their own.
                            let (h, e) = self.list(End::Paren)?;
                            hole |= h;
                            expansion |= e;
                        }
                    }
                    Sym::Char(c @ ('<' | '>')) if !in_conditional => {
                        self.redirection(c, &mut command, index)?;
                    }
                    _ => {
                        let word = self.word(in_conditional)?;
                        hole |= word.hole;
                        expansion |= word.expansion;
                        if case_pattern && !in_conditional {
                            if word.text == "esac" {
                                case_pattern = false;
                            }
                            continue;
                        }
                        if command_position && word.text == "[[" && !word.hole {
                            in_conditional = true;
                        } else if in_conditional && word.text == "]]" {
                            in_conditional = false;
                        }
                        if command_position
                            && command.words.is_empty()
                            && !word.hole
                            && !word.expansion
                            && KEYWORDS.contains(&word.text.as_str())
                        {
                            continue;
                        }
                        if command_position && word.text == "case" && !word.hole {
                            // `case WORD in`: then patterns until `)`.
                            self.skip_blanks();
                            let subject = self.word(false)?;
                            hole |= subject.hole;
                            expansion |= subject.expansion;
                            self.skip_blanks();
                            let _in = self.word(false)?;
                            case_pattern = true;
                            continue;
                        }
                        command.words.push(word);
                    }
                }
            };
            let code = self.analyse(&command)?;
            if let Some(slot) = self.code_readers.get_mut(index) {
                *slot = code;
            }
            match terminator {
                Some('\n') => self.heredoc_bodies()?,
                Some(')') => return Ok((hole, expansion)),
                None => return Ok((hole, expansion)),
                _ => {}
            }
        }
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

    fn redirection(&mut self, first: char, command: &mut Command, index: usize) -> Scan {
        self.pos += 1;
        if first == '<' && self.is(0, '<') {
            self.pos += 1;
            if self.is(0, '<') {
                // A here-string: the word is the command's input.
                self.pos += 1;
                self.skip_blanks();
                let word = self.word(false)?;
                command.input.push(word);
                return Ok(());
            }
            let strip_tabs = self.is(0, '-');
            if strip_tabs {
                self.pos += 1;
            }
            self.skip_blanks();
            let start = self.pos;
            let word = self.word(false)?;
            if word.hole {
                return Err(
                    "a placeholder in `commands` stands in a here-document's delimiter".to_owned(),
                );
            }
            let quoted = self.syms[start.min(self.pos)..self.pos]
                .iter()
                .any(|sym| matches!(sym, Sym::Char('\'' | '"' | '\\')));
            self.heredocs.push(Heredoc {
                delimiter: word.text,
                strip_tabs,
                expands: !quoted,
                command: index,
            });
            return Ok(());
        }
        // `>`, `>>`, `>&`, `<&`, `<>`, `>|`, `&>`: then the target word.
        while let Some(Sym::Char('>' | '&' | '|')) = self.peek() {
            self.pos += 1;
        }
        self.skip_blanks();
        if matches!(
            self.peek(),
            None | Some(Sym::Char('\n' | ';' | '|' | '&' | ')'))
        ) {
            return Ok(());
        }
        let target = self.word(false)?;
        if first == '<' {
            command.input.push(target);
        }
        Ok(())
    }

    /// Read the bodies of the here-documents started on the line just ended.
    fn heredoc_bodies(&mut self) -> Scan {
        let pending = std::mem::take(&mut self.heredocs);
        for heredoc in pending {
            let feeds_code = self
                .code_readers
                .get(heredoc.command)
                .copied()
                .unwrap_or(true);
            loop {
                if self.peek().is_none() {
                    break;
                }
                let start = self.pos;
                let mut line = String::new();
                let mut hole = false;
                while let Some(sym) = self.peek() {
                    self.pos += 1;
                    match sym {
                        Sym::Char('\n') => break,
                        Sym::Char(c) => line.push(c),
                        Sym::Hole => hole = true,
                    }
                }
                let text = if heredoc.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if !hole && text == heredoc.delimiter {
                    break;
                }
                if hole {
                    return Err("a placeholder in `commands` stands in a here-document, whose text the shell expands again (or a command reads as input)".to_owned());
                }
                let expands = heredoc.expands
                    && self.syms[start..self.pos]
                        .iter()
                        .any(|sym| matches!(sym, Sym::Char('$' | '`')));
                if feeds_code && expands {
                    return Err("a here-document with substitutions feeds a command that reads it as code; in a script that reads parameters, quote its delimiter (<<'EOF')".to_owned());
                }
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
            return Ok(word);
        }
        while let Some(sym) = self.peek() {
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
                }
                Sym::Char('$') => self.dollar(word)?,
                Sym::Char(c) => word.text.push(c),
            }
        }
        Ok(())
    }

    /// After a `$`.
    fn dollar(&mut self, word: &mut Word) -> Scan {
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
                while let Some(sym) = self.peek() {
                    self.pos += 1;
                    match sym {
                        Sym::Hole => return Err("a placeholder in `commands` stands inside ${…}, where the shell reads quotes its own way".to_owned()),
                        Sym::Char('{') => depth += 1,
                        Sym::Char('}') if depth == 0 => return Ok(()),
                        Sym::Char('}') => depth -= 1,
                        Sym::Char(_) => {}
                    }
                }
                Ok(())
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
        nested.script()
    }

    /// Whether the command reads its input as code; an error if a placeholder or a
    /// possible value stands where it would be parsed again.
    fn analyse(&self, command: &Command) -> Scan<bool> {
        let words: Vec<&Word> = command
            .words
            .iter()
            .skip_while(|word| word.assignment)
            .collect();
        self.analyse_words(&words, command, 0)
    }

    /// `depth` counts the wrappers peeled off (`sudo`, `nohup`, …): a catalog cannot make
    /// this recurse without bound.
    fn analyse_words(&self, words: &[&Word], command: &Command, depth: usize) -> Scan<bool> {
        if depth > MAX_NESTING {
            return Err(TOO_DEEP.to_owned());
        }
        let Some((first, rest)) = words.split_first() else {
            return Ok(false);
        };
        if first.hole {
            return Err(AS_COMMAND.to_owned());
        }
        if first.expansion {
            return Err(FROM_EXPANSION.to_owned());
        }
        let name = basename(&first.text);
        if matches!(name, "function" | "coproc") {
            // `function NAME { …`: what follows the name and brace is a command.
            let body: Vec<&Word> = rest
                .iter()
                .skip(1)
                .skip_while(|word| word.text == "{" && word.is_static())
                .copied()
                .collect();
            return self.analyse_words(&body, command, depth + 1);
        }
        if first.text == "[[" {
            let arithmetic = rest
                .iter()
                .any(|word| ARITHMETIC_OPERATORS.contains(&word.text.as_str()));
            let plain = rest.iter().all(|word| {
                word.is_static()
                    && (ARITHMETIC_OPERATORS.contains(&word.text.as_str())
                        || word.text.chars().all(|c| c.is_ascii_digit())
                        || word.text.starts_with('-')
                        || matches!(word.text.as_str(), "]]" | "&&" | "||" | "!" | "(" | ")"))
            });
            if arithmetic && !plain {
                return Err(arithmetic_error());
            }
            return Ok(false);
        }
        if REFUSED.contains(&name) {
            return Err(format!(
                "`{name}` is not allowed in a script that reads parameters: {}",
                if name == "xargs" {
                    "it splits and unquotes what it reads, so a value stops being one argument"
                } else {
                    "it evaluates names as arithmetic, which runs substitutions in subscripts"
                }
            ));
        }
        if REPARSE.contains(&name)
            || name.starts_with("python")
            || name.starts_with("perl")
            || name.starts_with("ruby")
        {
            let dynamic = rest.iter().any(|word| !word.is_static())
                || command.input.iter().any(|word| !word.is_static());
            if dynamic || command.piped_into {
                return Err(reparses(name));
            }
            return Ok(true);
        }
        if NAME_TAKING.contains(&name) {
            let integer = rest.iter().any(|word| {
                (word.text.starts_with('-') || word.text.starts_with('+'))
                    && (word.text.contains('i') || word.text.contains('n'))
            });
            for word in rest {
                if word.hole_before_eq || (integer && !word.is_static()) {
                    return Err(format!(
                        "a placeholder in `commands` would be a variable name (or an integer) for `{name}`, which bash evaluates as arithmetic"
                    ));
                }
            }
            return Ok(false);
        }
        if name == "printf" {
            if let Some(position) = rest.iter().position(|word| word.text == "-v")
                && rest.get(position + 1).is_some_and(|word| !word.is_static())
            {
                return Err("a placeholder in `commands` would be the variable name of `printf -v`, which bash evaluates as arithmetic".to_owned());
            }
            return Ok(false);
        }
        if name == "find" {
            for (i, word) in rest.iter().enumerate() {
                if matches!(word.text.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir")
                    && !word.hole
                {
                    let inner: Vec<&Word> = rest[i + 1..]
                        .iter()
                        .copied()
                        .take_while(|word| !matches!(word.text.as_str(), ";" | "+"))
                        .collect();
                    self.analyse_words(&inner, command, depth + 1)?;
                }
            }
            return Ok(false);
        }
        if let Some((wrapper, with_value, operands)) =
            WRAPPERS.iter().find(|(wrapper, _, _)| *wrapper == name)
        {
            let mut i = 0;
            let mut operands_left = *operands;
            while let Some(word) = rest.get(i) {
                let text = word.text.as_str();
                if word.hole {
                    break;
                }
                if *wrapper == "sudo"
                    && (text == "--shell"
                        || text == "--login"
                        || (text.starts_with('-')
                            && !text.starts_with("--")
                            && (text.contains('s') || text.contains('i'))))
                {
                    return self.static_rest(&rest[i + 1..], "sudo -s");
                }
                if *wrapper == "env" && (text == "-S" || text.starts_with("--split-string")) {
                    return self.static_rest(&rest[i + 1..], "env -S");
                }
                if *wrapper == "flock" && (text == "-c" || text == "--command") {
                    return self.static_rest(&rest[i + 1..], "flock -c");
                }
                if text == "--" {
                    i += 1;
                    break;
                }
                if text.starts_with('-') && text.len() > 1 {
                    i += if with_value.contains(&text) { 2 } else { 1 };
                    continue;
                }
                if *wrapper == "env" && word.assignment {
                    i += 1;
                    continue;
                }
                if operands_left > 0 {
                    operands_left -= 1;
                    i += 1;
                    continue;
                }
                break;
            }
            let inner: Vec<&Word> = rest.get(i..).unwrap_or(&[]).to_vec();
            return self.analyse_words(&inner, command, depth + 1);
        }
        // Anything else that runs a shell on its own terms (`docker exec c sh -c …`).
        for (i, word) in rest.iter().enumerate() {
            let candidate = basename(&word.text);
            let shell_like =
                REPARSE.contains(&candidate) && candidate != "." && candidate != "source";
            let option = rest.get(i + 1).is_some_and(|next| {
                next.text.starts_with('-') && (next.text.contains('c') || next.text.contains('e'))
            });
            if shell_like && option && !word.hole {
                return self.static_rest(&rest[i + 1..], candidate);
            }
        }
        Ok(false)
    }

    fn static_rest(&self, rest: &[&Word], what: &str) -> Scan<bool> {
        if rest.iter().any(|word| !word.is_static()) {
            return Err(reparses(what));
        }
        Ok(true)
    }
}

fn arithmetic_error() -> String {
    "in a script that reads parameters, arithmetic ($(( )), (( )), [[ -eq ]], let, declare -i) may use only literal numbers: bash evaluates names in it as expressions, and runs substitutions in their subscripts".to_owned()
}
