//! Words: quotes, escapes, parameter expansions, substitutions and arithmetic.

use super::*;

const BRACED_QUOTES: &str = "in a script that reads parameters, `${…}` may hold no quote, backslash, backquote or substitution: bash reads them there by rules of its own, so what the check reads could differ from what runs";

impl Scanner<'_> {
    /// `$(( … ))` or `(( … ))` after the opening parentheses; returns whether the
    /// expression names anything (a variable, a substitution, a placeholder).
    pub(super) fn arithmetic(&mut self) -> Scan<bool> {
        let mut depth = 0usize;
        let mut names = false;
        let mut step1 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step1)?;
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
    pub(super) fn word(&mut self, in_conditional: bool) -> Scan<Word> {
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
        let mut step2 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step2)?;
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
        let mut step3 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step3)?;
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
        let mut step4 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step4)?;
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
                let mut step5 = None;
                while let Some(sym) = self.peek() {
                    self.progress(&mut step5)?;
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
                let mut step6 = None;
                while let Some(sym) = self.peek() {
                    self.progress(&mut step6)?;
                    self.pos += 1;
                    match sym {
                        Sym::Hole => return Err("a placeholder in `commands` stands inside ${…}, where the shell reads quotes its own way".to_owned()),
                        // bash reads quotes, escapes and substitutions inside `${…}` by rules
                        // of their own (`${u:-'}'}`): not followed, refused.
                        Sym::Char('\'' | '"' | '\\' | '`') => return Err(BRACED_QUOTES.to_owned()),
                        Sym::Char('$') if matches!(self.peek(), Some(Sym::Char('(' | '[' | '\'' | '"'))) => {
                            return Err(BRACED_QUOTES.to_owned());
                        }
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
                // ANSI-C quoting: backslash escapes, then a quote ends it. The text kept here
                // leaves the escapes out, so it is not what runs.
                self.pos += 1;
                word.unreadable = true;
                let mut step7 = None;
                while let Some(sym) = self.peek() {
                    self.progress(&mut step7)?;
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
                // `$"…"`: translated by the locale, so not the text read.
                self.pos += 1;
                word.unreadable = true;
                self.double_quoted(word)
            }
            Some(Sym::Char(c)) if c.is_alphanumeric() || "_@*#?$!-".contains(c) => {
                word.expansion = true;
                self.pos += 1;
                if c.is_alphabetic() || c == '_' {
                    let mut step8 = None;
                    while let Some(Sym::Char(c)) = self.peek() {
                        self.progress(&mut step8)?;
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
        let mut step9 = None;
        while let Some(sym) = self.peek() {
            self.progress(&mut step9)?;
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
        let mut nested = self.nested(&inner, self.depth + 1);
        nested.inherited_piped = self.inherited_piped;
        nested.script()?;
        // What it runs and feeds counts for this script's functions too.
        let reads = nested.body_reads(0);
        self.seen.push((reads, String::new()));
        self.fed.append(&mut nested.fed);
        self.written.append(&mut nested.written);
        self.code_paths.append(&mut nested.code_paths);
        Ok(())
    }
}
