use super::*;

mod tables;

use tables::{ALIASES, ASSIGNMENTS, REPARSE, REPARSE_METHODS};

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

fn is_quote(c: char) -> bool {
    is_single_quote(c) || is_double_quote(c)
}

const JOINED_NAME: &str = "a command name in `commands` is joined to a quote, backtick or variable, so the check cannot read which command runs; write the name plainly";
/// Stands in `code` for a string literal (`$x.'Name'(…)` calls a method named by a string).
const STRING: char = '\u{1}';

#[derive(Default)]
struct Statement {
    words: usize,
    command: Option<String>,
    /// A placeholder or an expansion after the command word (nested groups included).
    dynamic_args: bool,
    /// `&` or `.` at the start: the next word is invoked.
    call_operator: bool,
    piped_into: bool,
    /// After an assignment operator, `return`, `throw` or `exit`: a value may come first.
    value_position: bool,
}

pub(super) struct Scanner<'a> {
    syms: &'a [Sym],
    pos: usize,
    depth: usize,
    /// Code text outside strings and comments, lowercase, for method names.
    code: String,
    budget: Budget,
}

type Scan<T = ()> = Result<T, String>;

impl<'a> Scanner<'a> {
    pub(super) fn new(syms: &'a [Sym]) -> Self {
        Self {
            syms,
            pos: 0,
            depth: 0,
            code: String::new(),
            budget: Budget::for_script(syms),
        }
    }

    /// The guard at the top of every scanning loop: no step without progress, and no more
    /// steps than the budget.
    fn progress(&self, last: &mut Option<usize>) -> Scan {
        progress(&self.budget, last, self.pos, self.peek())
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
        let code: Vec<char> = self.code.chars().filter(|c| !c.is_whitespace()).collect();
        let text: String = code.iter().collect();
        if REPARSE_METHODS.iter().any(|method| text.contains(method)) {
            return Err("in a script that reads parameters, no method that turns text into code ([scriptblock]::Create or any ::Create, ExpandString, InvokeScript, NewScriptBlock, GetScriptBlock, ::Start, CreatePipeline, CreateNestedPipeline, AddScript), no `function:` path and no stop-parsing token (--%) may appear".to_owned());
        }
        // `$o.$name(…)`, `$o.'Name'(…)`, `[t]::$name`: a member named at run time could be any
        // of the methods above (`..` is the range operator, not member access).
        let dynamic_member = code
            .windows(3)
            .any(|w| w[0] != '.' && w[1] == '.' && (w[2] == '$' || w[2] == STRING))
            || code
                .windows(3)
                .any(|w| w[0] == ':' && w[1] == ':' && (w[2] == '$' || w[2] == STRING));
        if dynamic_member {
            return Err("in a script that reads parameters, a member name may not come from a variable or a string ($o.$name, $o.'Name'): it could name a method that turns text into code".to_owned());
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
        let mut step1 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step1)?;
            let c = match sym {
                Sym::Hole => {
                    let previous = self.pos.checked_sub(1).and_then(|i| self.syms.get(i));
                    if let Some(Sym::Char(p)) = previous
                        && (is_quote(*p) || matches!(p, '`' | '$' | '@' | '#'))
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
                ' ' | '\t' | '\r' => {
                    self.pos += 1;
                    self.code.push(' ');
                }
                // `a |` at the end of a line: the pipeline goes on below.
                '\n' if statement.piped_into && statement.command.is_none() => {
                    self.pos += 1;
                    self.code.push(' ');
                }
                '\n' | ';' => {
                    self.code.push(' ');
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
                // `&iex`: `&` joined to a name is the call operator too.
                '&' if statement.words == 0 && !statement.call_operator => {
                    self.pos += 1;
                    statement.call_operator = true;
                }
                '&' | '.'
                    if statement.words == 0
                        && !statement.call_operator
                        && (matches!(
                            self.peek_at(1),
                            Some(Sym::Char(' ' | '\t'))
                                | Some(Sym::Hole)
                                | Some(Sym::Char('$'))
                                | Some(Sym::Char('(' | '{'))
                        ) || self.char_at(1).is_some_and(is_quote)) =>
                {
                    self.pos += 1;
                    statement.call_operator = true;
                }
                '#' => {
                    // PowerShell starts a comment only at the start of a token; after a
                    // variable, a string or a bracket, whether it does is not clear.
                    let previous = self.pos.checked_sub(1).and_then(|i| self.syms.get(i));
                    if let Some(Sym::Char(p)) = previous
                        && !p.is_whitespace()
                        && !";|&({".contains(*p)
                    {
                        return Err("a `#` in `commands` is joined to the text before it, so whether it starts a comment is unclear; in a script that reads parameters put a blank before a comment".to_owned());
                    }
                    self.comment()?;
                }
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
                q if is_quote(q) => {
                    self.pos += 1;
                    let (text, expands) = if is_single_quote(q) {
                        (self.single_quoted()?, false)
                    } else {
                        self.double_quoted()?
                    };
                    self.code.push(STRING);
                    if text.to_lowercase().contains("function:") {
                        // A `function:` path is refused in strings too.
                        self.code.push_str(" function: ");
                    }
                    dynamic |= expands;
                    let name_position = statement.command.is_none();
                    let called = statement.call_operator;
                    // `& 'pwsh.exe' …`: the string is the command's name.
                    let name = called.then_some(text);
                    self.word_seen(&mut statement, name, false, expands)?;
                    if name_position {
                        self.name_ends()?;
                        // `& 'i'ex`: anything but a blank or an operator joins the name.
                        if called
                            && let Some(Sym::Char(c)) = self.peek()
                            && !c.is_whitespace()
                            && !";|&)}".contains(c)
                        {
                            return Err(JOINED_NAME.to_owned());
                        }
                    }
                }
                '$' if self.char_at(1) == Some('{') => {
                    // `${any name}`: a variable name up to an unescaped `}`.
                    self.pos += 2;
                    let mut name = String::new();
                    let mut step = None;
                    while let Some(sym) = self.peek() {
                        self.progress(&mut step)?;
                        self.pos += 1;
                        match sym {
                            Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                            Sym::Char('}') => break,
                            Sym::Char('`') => {
                                if let Some(Sym::Char(c)) = self.peek() {
                                    self.pos += 1;
                                    name.push(c);
                                }
                            }
                            Sym::Char(c) => name.push(c.to_ascii_lowercase()),
                        }
                    }
                    self.code.push('$');
                    self.code.push_str(&name.replace(char::is_whitespace, "_"));
                    self.code.push(' ');
                    dynamic = true;
                    self.word_seen(&mut statement, None, false, true)?;
                }
                '@' if self
                    .char_at(1)
                    .is_some_and(|c| c.is_alphanumeric() || c == '_') =>
                {
                    // `@name`: splatting, the variable's values as arguments.
                    self.pos += 1;
                    self.code.push('@');
                    while let Some(Sym::Char(c)) = self.peek() {
                        if !(c.is_alphanumeric() || matches!(c, '_' | ':')) {
                            break;
                        }
                        self.pos += 1;
                        self.code.push(c.to_ascii_lowercase());
                    }
                    dynamic = true;
                    self.word_seen(&mut statement, None, false, true)?;
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
                    self.code.push('$');
                    let mut step2 = None;
                    while let Some(Sym::Char(c)) = self.peek() {
                        self.progress(&mut step2)?;
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
                '(' if statement.call_operator && statement.command.is_none() => {
                    return Err("in a script that reads parameters, `&` or `.` may not run a command named by an expression (`& (Get-Command iex)`): the check cannot know what it runs".to_owned());
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
                _ if statement.words > 0 && self.assignment_operator().is_some() => {
                    // `$r = iex …`: the value is a statement of its own.
                    let length = self.assignment_operator().unwrap_or(1);
                    self.pos += length;
                    self.code.push_str(" = ");
                    self.end(&statement)?;
                    statement = Statement {
                        value_position: true,
                        ..Statement::default()
                    };
                }
                _ => {
                    let name_position = statement.command.is_none();
                    let word = self.bareword();
                    let keyword = name_position
                        && matches!(word.to_lowercase().as_str(), "return" | "throw" | "exit");
                    self.word_seen(&mut statement, Some(word), false, false)?;
                    if name_position {
                        self.name_ends()?;
                    }
                    if keyword {
                        // What follows is a pipeline of its own.
                        self.end(&statement)?;
                        statement = Statement {
                            value_position: true,
                            ..Statement::default()
                        };
                    }
                }
            }
        }
        self.end(&statement)?;
        Ok(dynamic)
    }

    /// After a placeholder: the rest of its word (`{{ x }}.txt`).
    fn bareword_rest(&mut self, _statement: &mut Statement) -> Scan {
        let mut step3 = None;
        while let Some(Sym::Char(c)) = self.peek() {
            self.progress(&mut step3)?;
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
            if c.is_whitespace() || is_quote(c) || "|;&(){}`$".contains(c) {
                break;
            }
            // `#` inside a token is part of it (`status#ok`); at a token's start, a comment.
            if c == '#' && word.is_empty() {
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
        word
    }

    /// The length of an assignment operator at the current position, if one stands there
    /// (not `==`, and not an operator such as `-eq`).
    fn assignment_operator(&self) -> Option<usize> {
        ASSIGNMENTS.iter().find_map(|op| {
            let matches = op
                .chars()
                .enumerate()
                .all(|(i, c)| self.char_at(i) == Some(c));
            let length = op.chars().count();
            (matches && self.char_at(length) != Some('=')).then_some(length)
        })
    }

    /// After a command's name: a quote, backtick or variable right after it would join it
    /// (`i'e'x`, ``i`ex``), so the name read would not be the one run.
    fn name_ends(&self) -> Scan {
        match self.peek() {
            Some(Sym::Char(c)) if is_quote(c) || matches!(c, '`' | '$' | '@') => {
                Err(JOINED_NAME.to_owned())
            }
            // `Get-Serv{{ x }}`: the value would pick the command.
            Some(Sym::Hole) => Err(AS_COMMAND.to_owned()),
            _ => Ok(()),
        }
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
            if hole && !statement.value_position {
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
        if ALIASES.contains(&command.as_str()) {
            return Err(format!(
                "`{command}` is not allowed in a script that reads parameters: an alias can make any later word run another command, which the check cannot follow"
            ));
        }
        if REPARSE.contains(&command.as_str()) && (statement.dynamic_args || statement.piped_into) {
            return Err(reparses(command));
        }
        Ok(())
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

    fn block_comment(&mut self) -> Scan {
        self.pos += 2;
        let mut step6 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step6)?;
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

    /// Returns the string's text.
    fn single_quoted(&mut self) -> Scan<String> {
        let mut text = String::new();
        let mut step7 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step7)?;
            self.pos += 1;
            match sym {
                Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                Sym::Char(c) if is_single_quote(c) => {
                    if self.char_at(0).is_some_and(is_single_quote) {
                        self.pos += 1;
                        text.push(c);
                    } else {
                        return Ok(text);
                    }
                }
                Sym::Char(c) => text.push(c),
            }
        }
        Ok(text)
    }

    /// Returns the string's text (escapes read, expansions left out) and whether it expands
    /// anything.
    fn double_quoted(&mut self) -> Scan<(String, bool)> {
        let mut expands = false;
        let mut text = String::new();
        let mut step8 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step8)?;
            self.pos += 1;
            match sym {
                Sym::Hole => return Err(INSIDE_QUOTES.to_owned()),
                Sym::Char('`') => {
                    if let Some(Sym::Char(c)) = self.peek() {
                        self.pos += 1;
                        text.push(c);
                    }
                }
                Sym::Char(c) if is_double_quote(c) => {
                    if self.char_at(0).is_some_and(is_double_quote) {
                        self.pos += 1;
                        text.push(c);
                    } else {
                        return Ok((text, expands));
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
                Sym::Char(c) => text.push(c),
            }
        }
        Ok((text, expands))
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
        let mut step10 = None;
        while self.char_at(0).is_some_and(|c| c != '\n') {
            self.progress(&mut step10)?;
            self.pos += 1;
        }
        let mut expands = false;
        let mut line_start = false;
        let mut step11 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step11)?;
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
