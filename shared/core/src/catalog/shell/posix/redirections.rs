//! Redirections and here-documents: what a command reads besides its arguments.

use super::*;

impl Scanner<'_> {
    pub(super) fn redirection(&mut self, first: char, command: &mut Command, index: usize) -> Scan {
        self.pos += 1;
        if first == '<' && self.is(0, '<') {
            self.pos += 1;
            if self.is(0, '<') {
                // A here-string: the word is the command's input.
                self.pos += 1;
                self.skip_blanks();
                let word = self.word(false)?;
                if word.is_static() {
                    command.here_strings.push(word.text.clone());
                }
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
            let raw = self.syms.get(start..self.pos).unwrap_or(&[]);
            if raw.iter().any(|sym| matches!(sym, Sym::Char('$' | '`'))) {
                return Err(DELIMITER_EXPANDS.to_owned());
            }
            // Any quote or backslash anywhere makes the whole body literal; the delimiter is
            // the word with its quotes removed.
            let quoted = raw
                .iter()
                .any(|sym| matches!(sym, Sym::Char('\'' | '"' | '\\')));
            command.expanding_heredoc |= !quoted;
            self.heredocs.push(Heredoc {
                delimiter: word.text,
                strip_tabs,
                expands: !quoted,
                command: index,
            });
            return Ok(());
        }
        // `>`, `>>`, `>&`, `<&`, `<>`, `>|`, `&>`: then the target word.
        let mut duplicate = false;
        let mut writes = first == '>';
        while let Some(Sym::Char(c @ ('>' | '&' | '|'))) = self.peek() {
            duplicate |= first == '<' && c == '&';
            writes |= c == '>';
            self.pos += 1;
        }
        self.skip_blanks();
        if let Some(Sym::Char(kind @ ('<' | '>'))) = self.peek()
            && self.is(1, '(')
        {
            let target = self.process_substitution(kind)?;
            if first == '<' {
                command.hidden_input = true;
                command.input.push(target);
            }
            return Ok(());
        }
        if matches!(
            self.peek(),
            None | Some(Sym::Char('\n' | ';' | '|' | '&' | ')'))
        ) {
            return Ok(());
        }
        let target = self.word(false)?;
        if writes
            && target.is_static()
            && !target.text.chars().all(|c| c.is_ascii_digit() || c == '-')
        {
            self.written.push(target.text.clone());
        }
        if first == '<' {
            command.hidden_input |= duplicate;
            command.input.push(target);
        }
        Ok(())
    }

    /// Read the bodies of the here-documents started on the line just ended.
    pub(super) fn heredoc_bodies(&mut self) -> Scan {
        let pending = std::mem::take(&mut self.heredocs);
        for heredoc in pending {
            let (feeds, name) = self
                .seen
                .get(heredoc.command)
                .cloned()
                .unwrap_or((Reads::ShellCode, String::new()));
            let mut body = String::new();
            let mut step1 = None;
            loop {
                self.progress(&mut step1)?;
                if self.peek().is_none() {
                    break;
                }
                let start = self.pos;
                let mut line = String::new();
                let mut hole = false;
                let mut step2 = None;
                while let Some(sym) = self.peek() {
                    self.progress(&mut step2)?;
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
                if feeds != Reads::Nothing && expands {
                    return Err("a here-document with substitutions feeds a command that reads it as code; in a script that reads parameters, quote its delimiter (<<'EOF')".to_owned());
                }
                body.push_str(text);
                body.push('\n');
            }
            match feeds {
                Reads::Nothing => {}
                // A shell runs the body: it is a script of its own, checked as one.
                Reads::ShellCode => self.scan_code(&body, 0, "a here-document")?,
                Reads::OtherCode => {
                    return Err(format!(
                        "a here-document feeds `{name}`, which reads it as code the check cannot read: in a script that reads parameters, that code could read a value from a variable or a file and run it"
                    ));
                }
            }
        }
        Ok(())
    }
}
