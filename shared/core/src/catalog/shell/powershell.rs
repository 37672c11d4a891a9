use super::*;

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

fn is_quote(c: char) -> bool {
    is_single_quote(c) || is_double_quote(c)
}

/// Commands (lowercase, without `.exe`) that parse text as code, or start a program whose
/// command line is parsed again.
const REPARSE: &[&str] = &[
    "invoke-expression",
    "iex",
    "powershell",
    "pwsh",
    "powershell_ise",
    "cmd",
    "start-process",
    "saps",
    "start",
    "add-type",
    "bash",
    "sh",
    "wsl",
    "ssh",
    "schtasks",
    "wmic",
    "cscript",
    "wscript",
    "mshta",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "invoke-command",
    "icm",
    "start-job",
    "new-scheduledtaskaction",
    "runas",
    "psexec",
    "psexec64",
];
/// Methods that turn text into code, refused anywhere in a script that reads parameters.
const REPARSE_METHODS: &[&str] = &[
    // The stop-parsing token: the rest of the line goes out verbatim, quotes included, so a
    // newline in a value would start PowerShell code.
    "--%",
    "::create(",
    ".expandstring(",
    ".invokescript(",
    ".newscriptblock(",
    "invoke-expression",
];

#[derive(Default)]
struct Statement {
    words: usize,
    command: Option<String>,
    /// A placeholder or an expansion after the command word (nested groups included).
    dynamic_args: bool,
    /// `&` or `.` at the start: the next word is invoked.
    call_operator: bool,
    piped_into: bool,
}

pub(super) struct Scanner<'a> {
    syms: &'a [Sym],
    pos: usize,
    depth: usize,
    /// Code text outside strings and comments, lowercase, for method names.
    code: String,
}

type Scan<T = ()> = Result<T, String>;

impl<'a> Scanner<'a> {
    pub(super) fn new(syms: &'a [Sym]) -> Self {
        Self {
            syms,
            pos: 0,
            depth: 0,
            code: String::new(),
        }
    }

    fn peek(&self) -> Option<Sym> {
        self.syms.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<Sym> {
        self.syms.get(self.pos + offset).copied()
    }

    fn char_at(&self, offset: usize) -> Option<char> {
        match self.peek_at(offset) {
            Some(Sym::Char(c)) => Some(c),
            _ => None,
        }
    }

    pub(super) fn script(&mut self) -> Scan {
        self.block(None)?;
        if REPARSE_METHODS
            .iter()
            .any(|method| self.code.contains(method))
        {
            return Err("in a script that reads parameters, no method that turns text into code ([scriptblock]::Create, ExpandString, InvokeScript, NewScriptBlock) and no stop-parsing token (--%) may appear".to_owned());
        }
        Ok(())
    }

    /// Statements until the closing character (or the end); returns whether a placeholder
    /// or an expansion was seen inside.
    fn block(&mut self, close: Option<char>) -> Scan<bool> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(TOO_DEEP.to_owned());
        }
        let found = self.statements(close);
        self.depth -= 1;
        found
    }

    fn statements(&mut self, close: Option<char>) -> Scan<bool> {
        let mut dynamic = false;
        let mut statement = Statement::default();
        while let Some(sym) = self.peek() {
            let c = match sym {
                Sym::Hole => {
                    let previous = self.pos.checked_sub(1).and_then(|i| self.syms.get(i));
                    if let Some(Sym::Char(p)) = previous
                        && (is_quote(*p) || matches!(p, '`' | '$' | '@'))
                    {
                        return Err(format!(
                            "a placeholder in `commands` follows `{p}`, which would change how its quotes are read"
                        ));
                    }
                    if let Some(Sym::Char(n)) = self.peek_at(1)
                        && is_quote(n)
                    {
                        return Err("a placeholder in `commands` is followed by a quote, which would join its quoted value".to_owned());
                    }
                    self.pos += 1;
                    dynamic = true;
                    self.word_seen(&mut statement, None, true, false)?;
                    self.bareword_rest(&mut statement)?;
                    continue;
                }
                Sym::Char(c) => c,
            };
            if Some(c) == close {
                self.pos += 1;
                self.end(&statement)?;
                return Ok(dynamic);
            }
            match c {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\n' | ';' => {
                    self.pos += 1;
                    self.end(&statement)?;
                    statement = Statement::default();
                }
                '|' | '&' if self.char_at(1) == Some(c) => {
                    self.pos += 2;
                    self.end(&statement)?;
                    statement = Statement::default();
                }
                '|' => {
                    self.pos += 1;
                    self.end(&statement)?;
                    statement = Statement {
                        piped_into: true,
                        ..Statement::default()
                    };
                }
                '&' | '.'
                    if statement.words == 0
                        && !statement.call_operator
                        && matches!(
                            self.peek_at(1),
                            Some(Sym::Char(' ' | '\t'))
                                | Some(Sym::Hole)
                                | Some(Sym::Char('$'))
                                | Some(Sym::Char('(' | '{'))
                        ) =>
                {
                    self.pos += 1;
                    statement.call_operator = true;
                }
                '#' => self.comment()?,
                '<' if self.char_at(1) == Some('#') => self.block_comment()?,
                '`' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(Sym::Hole) => {
                            return Err("a placeholder in `commands` follows a backtick, which would escape its opening quote".to_owned());
                        }
                        Some(Sym::Char(_)) => self.pos += 1,
                        None => {}
                    }
                }
                '@' if self.char_at(1).is_some_and(is_quote) && self.here_string_start() => {
                    let expands = self.here_string()?;
                    dynamic |= expands;
                    self.word_seen(&mut statement, None, false, expands)?;
                }
                q if is_single_quote(q) => {
                    self.pos += 1;
                    self.single_quoted()?;
                    self.word_seen(&mut statement, None, false, false)?;
                }
                q if is_double_quote(q) => {
                    self.pos += 1;
                    let expands = self.double_quoted()?;
                    dynamic |= expands;
                    self.word_seen(&mut statement, None, false, expands)?;
                }
                '$' | '@' if matches!(self.char_at(1), Some('(' | '{')) => {
                    let closing = if self.char_at(1) == Some('(') {
                        ')'
                    } else {
                        '}'
                    };
                    self.pos += 2;
                    self.code.push('(');
                    let inner = self.block(Some(closing))?;
                    dynamic = true;
                    self.word_seen(&mut statement, None, inner, true)?;
                }
                '$' => {
                    self.pos += 1;
                    while let Some(Sym::Char(c)) = self.peek() {
                        if c.is_alphanumeric() || matches!(c, '_' | ':' | '?' | '^' | '$') {
                            self.pos += 1;
                            self.code.push(c.to_ascii_lowercase());
                        } else {
                            break;
                        }
                    }
                    dynamic = true;
                    self.word_seen(&mut statement, None, false, true)?;
                }
                '(' | '{' => {
                    self.pos += 1;
                    self.code.push(c);
                    let inner = self.block(Some(if c == '(' { ')' } else { '}' }))?;
                    dynamic |= inner;
                    if inner {
                        if statement.command.is_some() {
                            statement.dynamic_args = true;
                        } else if statement.call_operator {
                            return Err(FROM_EXPANSION.to_owned());
                        }
                    }
                }
                ')' | '}' => {
                    // Unbalanced: stop this block.
                    self.pos += 1;
                    self.end(&statement)?;
                    statement = Statement::default();
                }
                _ => {
                    let word = self.bareword();
                    self.word_seen(&mut statement, Some(word), false, false)?;
                }
            }
        }
        self.end(&statement)?;
        Ok(dynamic)
    }

    /// After a placeholder: the rest of its word (`{{ x }}.txt`).
    fn bareword_rest(&mut self, _statement: &mut Statement) -> Scan {
        while let Some(Sym::Char(c)) = self.peek() {
            if c.is_whitespace() || is_quote(c) || "|;&(){}#`$@,".contains(c) {
                break;
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn bareword(&mut self) -> String {
        let mut word = String::new();
        while let Some(Sym::Char(c)) = self.peek() {
            if c.is_whitespace() || is_quote(c) || "|;&(){}#`$".contains(c) {
                break;
            }
            if c == '@' && !word.is_empty() {
                word.push(c);
                self.pos += 1;
                continue;
            }
            if c == '@' {
                break;
            }
            word.push(c);
            self.pos += 1;
        }
        if word.is_empty()
            && let Some(Sym::Char(c)) = self.peek()
        {
            // A lone character no rule above took (`@` not before a quote or group).
            self.pos += 1;
            word.push(c);
        }
        self.code.push_str(&word.to_lowercase());
        self.code.push(' ');
        word
    }

    /// Record one word of the current statement.
    fn word_seen(
        &mut self,
        statement: &mut Statement,
        bare: Option<String>,
        hole: bool,
        expansion: bool,
    ) -> Scan {
        statement.words += 1;
        if statement.command.is_none() {
            if hole {
                return Err(AS_COMMAND.to_owned());
            }
            if statement.call_operator && expansion {
                return Err(FROM_EXPANSION.to_owned());
            }
            // An expression (a string, a variable, a number) at the start is not a command.
            statement.command = Some(match bare {
                Some(word) => {
                    let name = basename(&word).to_lowercase();
                    name.strip_suffix(".exe").map(str::to_owned).unwrap_or(name)
                }
                None => String::new(),
            });
            return Ok(());
        }
        if hole || expansion {
            statement.dynamic_args = true;
        }
        Ok(())
    }

    fn end(&self, statement: &Statement) -> Scan {
        let Some(command) = &statement.command else {
            return Ok(());
        };
        if REPARSE.contains(&command.as_str()) && (statement.dynamic_args || statement.piped_into) {
            return Err(reparses(command));
        }
        Ok(())
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

    fn block_comment(&mut self) -> Scan {
        self.pos += 2;
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Hole => return Err(IN_COMMENT.to_owned()),
                Sym::Char('#') if self.char_at(0) == Some('>') => {
                    self.pos += 1;
                    return Ok(());
                }
                Sym::Char(_) => {}
            }
        }
        Ok(())
    }

    fn single_quoted(&mut self) -> Scan {
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                Sym::Char(c) if is_single_quote(c) => {
                    if self.char_at(0).is_some_and(is_single_quote) {
                        self.pos += 1;
                    } else {
                        return Ok(());
                    }
                }
                Sym::Char(_) => {}
            }
        }
        Ok(())
    }

    /// Returns whether the string expands anything.
    fn double_quoted(&mut self) -> Scan<bool> {
        let mut expands = false;
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                Sym::Char('`') => {
                    if let Some(Sym::Char(_)) = self.peek() {
                        self.pos += 1;
                    }
                }
                Sym::Char(c) if is_double_quote(c) => {
                    if self.char_at(0).is_some_and(is_double_quote) {
                        self.pos += 1;
                    } else {
                        return Ok(expands);
                    }
                }
                Sym::Char('$') => {
                    expands = true;
                    if self.char_at(0) == Some('(') {
                        self.pos += 1;
                        self.code.push('(');
                        self.block(Some(')'))?;
                    }
                }
                Sym::Char(_) => {}
            }
        }
        Ok(expands)
    }

    /// `@'` or `@"` followed by blanks and a newline.
    fn here_string_start(&self) -> bool {
        let mut offset = 2;
        loop {
            match self.char_at(offset) {
                Some(' ' | '\t' | '\r') => offset += 1,
                Some('\n') => return true,
                _ => return false,
            }
        }
    }

    /// A here-string, from its `@`; it ends at a line starting with its quote kind and `@`.
    /// Returns whether it expands anything.
    fn here_string(&mut self) -> Scan<bool> {
        let double = self.char_at(1).is_some_and(is_double_quote);
        self.pos += 2;
        while self.char_at(0).is_some_and(|c| c != '\n') {
            self.pos += 1;
        }
        let mut expands = false;
        let mut line_start = false;
        while let Some(sym) = self.peek() {
            self.pos += 1;
            match sym {
                Sym::Hole => {
                    return Err(
                        "a placeholder in `commands` stands inside a here-string".to_owned()
                    );
                }
                Sym::Char('\n') => {
                    line_start = true;
                    continue;
                }
                Sym::Char(c)
                    if line_start
                        && self.char_at(0) == Some('@')
                        && (if double {
                            is_double_quote(c)
                        } else {
                            is_single_quote(c)
                        }) =>
                {
                    self.pos += 1;
                    return Ok(expands);
                }
                Sym::Char('$') if double => expands = true,
                Sym::Char(_) => {}
            }
            line_start = false;
        }
        Ok(expands)
    }
}
