//! What each POSIX command does with its arguments and input: the tables of commands that read
//! code, wrap other commands or take variable names, and the checks made on one command.

use super::tables::*;
use super::*;

pub(super) const UNBALANCED: &str = "`commands` has an `if`, `while`, `for`, `case`, `{` or `(` whose end the check cannot match (or an end without its start); in a script that reads parameters, compound commands must be complete";
pub(super) const CASE_UNREADABLE: &str = "`commands` has a `case` the check cannot follow (write `case WORD in PATTERN) commands ;; esac`)";

pub(super) fn arithmetic_error() -> String {
    "in a script that reads parameters, arithmetic ($(( )), (( )), [[ -eq ]], [[ -v ]], let, declare -i, array subscripts, ${s:offset:length}) may use only literal numbers: bash evaluates names in it as expressions, and runs substitutions in their subscripts".to_owned()
}

const NOT_PLAIN: &str = "in a script that reads parameters, a command name must be written plainly (no quotes, backslashes, $'…', braces or glob characters), and so must the options and operands of a command that runs another (`sudo`, `nice`, `env`, …): the check must read the name that runs";

/// No quotes, escapes, expansions, or characters that expand into other words.
pub(super) fn plain(word: &Word) -> bool {
    word.literal && !word.unreadable && !word.text.contains(EXPANDING)
}

/// Shells, interpreters and other commands that run their arguments or input as code.
pub(super) fn runs_code(name: &str) -> bool {
    SHELLS.contains(&name)
        || JOINING.contains(&name)
        || INTERPRETERS.contains(&name)
        || AWK.contains(&name)
        || name == "trap"
        || name.starts_with("python")
        || name.starts_with("perl")
        || name.starts_with("ruby")
}

/// A path that reads whatever was redirected to a descriptor.
fn descriptor_path(text: &str) -> bool {
    text.starts_with("/dev/fd/")
        || text == "/dev/stdin"
        || (text.starts_with("/proc/") && text.contains("/fd/"))
}

/// In a script that reads parameters, a variable programs run as code may be named only by a
/// plain assignment of a literal (`PS4='+ '`): `read PS4`, `printf -v PS4`, `for PS4 in`
/// and the like could set it from a value.
fn code_variables(command: &Command) -> Scan {
    for word in &command.words {
        if word.assignment && word.is_static() {
            continue;
        }
        let named = word
            .text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .find(|id| CODE_VARIABLES.contains(id));
        if let Some(name) = named {
            return Err(format!(
                "in a script that reads parameters, `{name}` may be named only in a plain assignment of a literal (`{name}=…`): programs run its value as code, and `{}` could set it from a value",
                word.text
            ));
        }
    }
    Ok(())
}

/// Database clients and git, whose options can carry code (`psql -c`, `git -c
/// core.sshCommand=…`): such an option may not take a placeholder or an expansion.
fn client_code(name: &str, rest: &[&Word]) -> Option<String> {
    let options: &[&str] = match name {
        "psql" => &["-c", "--command"],
        "mysql" | "mariadb" => &["-e", "--execute", "--init-command"],
        "git" => &["-c", "--config-env"],
        "sqlite3" => {
            return rest.iter().any(|word| !word.is_static()).then(|| {
                "`sqlite3` runs its SQL arguments, whose dot-commands (.shell, .system) run programs: in a script that reads parameters it may take no placeholder, variable or substitution".to_owned()
            });
        }
        _ => return None,
    };
    for (i, word) in rest.iter().enumerate() {
        let text = word.text.as_str();
        let joined = options.iter().any(|option| {
            text.starts_with(option) && text.len() > option.len() && !word.is_static()
        });
        let separate =
            options.contains(&text) && rest.get(i + 1).is_some_and(|next| !next.is_static());
        if joined || separate {
            return Some(format!(
                "`{name} {text}` runs the text it is given as code: in a script that reads parameters it may take no placeholder, variable or substitution"
            ));
        }
    }
    None
}

/// Why a command is refused outright in a script that reads parameters.
fn refused(name: &str) -> Option<&'static str> {
    Some(match name {
        "xargs" => "it splits and unquotes what it reads, so a value stops being one argument",
        "parallel" | "sem" => "it runs its arguments and the lines it reads as commands",
        "let" => "it evaluates names as arithmetic, which runs substitutions in subscripts",
        "alias" => {
            "an alias can make any later word run another command, which the check cannot follow"
        }
        "hash" => "`hash -p` makes a command name run another program",
        "enable" => "it turns builtins off or loads new ones from files",
        "bind" | "complete" | "compgen" | "fc" => {
            "it runs commands or expands word lists it is given as text"
        }
        "coproc" => "a coprocess runs with whatever the script writes to it as its input",
        _ => return None,
    })
}

/// `${…}` after its `{`: no indirection, and subscripts, offsets and lengths that are literal
/// numbers (bash evaluates them as arithmetic).
pub(super) fn check_parameter(inner: &str) -> Scan {
    let chars: Vec<char> = inner.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut i = 0;
    match at(0) {
        Some('!') if chars.len() > 1 => return Err(arithmetic_error()),
        Some('#') if chars.len() > 1 => i = 1,
        _ => {}
    }
    if at(i).is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
        while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            i += 1;
        }
    } else if at(i).is_some_and(|c| c.is_ascii_digit()) {
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    } else if at(i).is_some_and(|c| "@*#?$!-".contains(c)) {
        i += 1;
    }
    if at(i) == Some('[') {
        let Some(length) = chars
            .get(i..)
            .and_then(|rest| rest.iter().position(|c| *c == ']'))
        else {
            return Err(arithmetic_error());
        };
        let subscript: String = chars.get(i + 1..i + length).unwrap_or(&[]).iter().collect();
        if !(subscript == "@" || subscript == "*" || literal_number(&subscript)) {
            return Err(arithmetic_error());
        }
        i += length + 1;
    }
    if at(i) == Some('@') {
        // `${v@P}` expands the value as a prompt (running substitutions in it), `${v@K}`
        // and `${v@E}` quote or unescape it: only these transformations are known to be safe.
        return match at(i + 1) {
            Some('Q' | 'U' | 'u' | 'L' | 'a') if i + 2 == chars.len() => Ok(()),
            _ => Err("in a script that reads parameters, `${name@…}` may use only the transformations Q, U, u, L and a (`@P` runs the substitutions a value holds)".to_owned()),
        };
    }
    if at(i) == Some(':') && !at(i + 1).is_some_and(|c| "-=?+".contains(c)) {
        let offsets = chars.get(i + 1..).unwrap_or(&[]);
        if !offsets
            .iter()
            .all(|c| c.is_ascii_digit() || " \t:-".contains(*c))
        {
            return Err(arithmetic_error());
        }
    }
    Ok(())
}

fn literal_number(text: &str) -> bool {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// A name (`a`, `a[1]`) or an assignment (`a[1]=v`, `PS4=v`): subscripts must be literal
/// numbers, and a variable that programs run as code may not take a value.
fn check_assignment(word: &Word) -> Scan {
    let (name, value) = match word.text.split_once('=') {
        Some((name, _)) => (name.trim_end_matches('+'), true),
        None => (word.text.as_str(), false),
    };
    if let Some((base, subscript)) = name.split_once('[') {
        let subscript = subscript.strip_suffix(']').unwrap_or(subscript);
        if !literal_number(subscript) && !base.is_empty() {
            return Err(arithmetic_error());
        }
    }
    if value && !word.is_static() && CODE_VARIABLES.contains(&name) {
        return Err(format!(
            "in a script that reads parameters, `{name}` may not be set from a placeholder or an expansion: programs run its value as code"
        ));
    }
    Ok(())
}

/// Interpreter options that give code inline (`python -c`, `perl -e`, `vim +cmd`, …).
fn inline_code(text: &str) -> bool {
    if let Some(long) = text.strip_prefix("--") {
        return ["eval", "exec", "command", "cmd", "print", "code", "source"]
            .iter()
            .any(|option| long.starts_with(option));
    }
    if text.starts_with('+') && text.len() > 1 {
        return true;
    }
    text.strip_prefix('-')
        .is_some_and(|short| short.chars().any(|c| "ceEprRBFxS".contains(c)))
}

impl Scanner<'_> {
    /// Check static code that a command runs, as a script of its own.
    pub(super) fn scan_code(&self, text: &str, wrappers: usize, what: &str) -> Scan {
        self.budget.spend(text.len())?;
        let syms: Vec<Sym> = text.chars().map(Sym::Char).collect();
        let mut nested = self.nested(&syms, self.depth + wrappers + 1);
        if nested.depth > MAX_NESTING {
            return Err(TOO_DEEP.to_owned());
        }
        nested
            .script()
            .map_err(|problem| format!("in the code {what} runs: {problem}"))
    }

    /// What the command reads as code; an error if a placeholder or a possible value stands
    /// where it would be parsed again.
    pub(super) fn analyse(&mut self, command: &Command, index: usize) -> Scan<Reads> {
        for word in command.words.iter().take_while(|word| word.assignment) {
            check_assignment(word)?;
        }
        code_variables(command)?;
        let words: Vec<&Word> = command
            .words
            .iter()
            .skip_while(|word| word.assignment)
            .collect();
        self.record_files(&words, command);
        // An expanding here-document may hold a variable's value.
        let risky_input = command.hidden_input
            || command.expanding_heredoc
            || command.input.iter().any(|word| !word.is_static());
        let mut reads = Reads::Nothing;
        if let Some(start) = command.body_start {
            // `( … ) < <(…)`, `while …; done <<< "$v"`: the whole body reads that input.
            reads = self.seen.get(start..index).map_or(Reads::Nothing, |body| {
                body.iter()
                    .map(|(reads, _)| *reads)
                    .max()
                    .unwrap_or_default()
            });
            if risky_input || command.piped_into {
                if reads != Reads::Nothing {
                    return Err("a subshell or compound command that runs a command reading code reads a pipe or redirected input: in a script that reads parameters, that data could reach it".to_owned());
                }
                let names: Vec<String> = self
                    .seen
                    .get(start..index)
                    .unwrap_or(&[])
                    .iter()
                    .map(|(_, name)| name.clone())
                    .collect();
                self.fed.extend(names);
            }
        }
        let Some(first) = words.first() else {
            return Ok(reads);
        };
        if command.piped_into || risky_input {
            self.fed.push(basename(&first.text).to_owned());
        }
        if first.text == "exec" && words.len() == 1 && risky_input {
            return Err("`exec` with redirected input from a substitution or a descriptor makes it the script's input: in a script that reads parameters, a later command could read it as code".to_owned());
        }
        Ok(reads.max(self.analyse_words(&words, command, 0)?))
    }

    /// `depth` counts the wrappers peeled off (`sudo`, `nohup`, …): a catalog cannot make
    /// this recurse without bound.
    fn analyse_words(&self, words: &[&Word], command: &Command, depth: usize) -> Scan<Reads> {
        if depth > MAX_NESTING {
            return Err(TOO_DEEP.to_owned());
        }
        self.budget.spend(words.len() + 1)?;
        let Some((first, rest)) = words.split_first() else {
            return Ok(Reads::Nothing);
        };
        if first.hole {
            return Err(AS_COMMAND.to_owned());
        }
        if first.expansion {
            return Err(FROM_EXPANSION.to_owned());
        }
        if !(plain(first) || (first.literal && matches!(first.text.as_str(), "[" | "[["))) {
            return Err(NOT_PLAIN.to_owned());
        }
        // `/proc/self/exe` is this shell; any path under /proc may be a program's image.
        let name = if first.text.starts_with("/proc/") {
            "exe"
        } else {
            basename(&first.text)
        };
        if first.text == "[[" {
            if rest
                .iter()
                .any(|word| matches!(word.text.as_str(), "-v" | "-R"))
            {
                return Err(arithmetic_error());
            }
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
            return Ok(Reads::Nothing);
        }
        if matches!(name, "test" | "[")
            && rest
                .iter()
                .any(|word| matches!(word.text.as_str(), "-v" | "-R"))
        {
            return Err(arithmetic_error());
        }
        if let Some(why) = refused(name) {
            return Err(format!(
                "`{name}` is not allowed in a script that reads parameters: {why}"
            ));
        }
        if runs_code(name) {
            let dynamic = rest.iter().any(|word| !word.is_static())
                || command.input.iter().any(|word| !word.is_static())
                || command.hidden_input;
            if dynamic || command.piped_into {
                return Err(reparses(name));
            }
            if let Some(word) = rest
                .iter()
                .copied()
                .chain(&command.input)
                .find(|word| descriptor_path(&word.text))
            {
                return Err(format!(
                    "`{name}` is given `{}`, which reads whatever was redirected to that descriptor: in a script that reads parameters, a shell or interpreter may not read a descriptor path",
                    word.text
                ));
            }
            if !JOINING.contains(&name) && name != "trap" {
                for code in &command.here_strings {
                    if !SHELLS.contains(&name) {
                        return Err(format!(
                            "a here-string feeds `{name}`, which reads it as code the check cannot read: in a script that reads parameters, that code could read a value from a variable and run it"
                        ));
                    }
                    self.scan_code(code, depth, "a here-string")?;
                }
            }
            return self.static_code(name, rest, depth);
        }
        if let Some(problem) = client_code(name, rest) {
            return Err(problem);
        }
        if NAME_TAKING.contains(&name) {
            return self.names(name, rest).map(|()| Reads::Nothing);
        }
        if name == "printf" {
            if let Some(position) = rest.iter().position(|word| word.text == "-v")
                && let Some(target) = rest.get(position + 1)
            {
                if !target.is_static() {
                    return Err("a placeholder in `commands` would be the variable name of `printf -v`, which bash evaluates as arithmetic".to_owned());
                }
                check_assignment(target)?;
            }
            return Ok(Reads::Nothing);
        }
        if name == "tar" {
            let runs = rest.iter().enumerate().any(|(i, word)| {
                let text = word.text.as_str();
                TAR_RUNS.iter().any(|option| text.starts_with(option))
                    || (text.starts_with('-')
                        && !text.starts_with("--")
                        && text.contains(['I', 'F']))
                    || (i == 0 && !text.starts_with('-') && text.contains(['I', 'F']))
            });
            if runs {
                return Err("`tar` with an option that runs a program or a command (--checkpoint-action, --to-command, --use-compress-program/-I, --info-script/-F, --new-volume-script, --rsh-command) is not allowed in a script that reads parameters".to_owned());
            }
            return Ok(Reads::Nothing);
        }
        if name == "find" {
            // Each `-exec` segment (up to its `;` or `+`) is one command, checked once; the
            // scan goes on after it.
            let mut reads = Reads::Nothing;
            let mut i = 0;
            while let Some(word) = rest.get(i) {
                i += 1;
                if matches!(word.text.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir")
                    && !word.hole
                {
                    let inner: Vec<&Word> = rest
                        .get(i..)
                        .unwrap_or(&[])
                        .iter()
                        .copied()
                        .take_while(|word| !matches!(word.text.as_str(), ";" | "+"))
                        .collect();
                    i += inner.len() + 1;
                    reads = reads.max(self.analyse_words(&inner, command, depth + 1)?);
                }
            }
            return Ok(reads);
        }
        if let Some((wrapper, with_value, operands)) =
            WRAPPERS.iter().find(|(wrapper, _, _)| *wrapper == name)
        {
            return self.wrapped(wrapper, with_value, *operands, rest, command, depth);
        }
        // Anything else may run the words after it (`setarch x86_64 bash -c …`, `docker exec c
        // sh -c …`), whatever options come between: with a value among its words, no word may
        // name a shell or interpreter, or expand into one.
        if DATA_COMMANDS.contains(&name) {
            return Ok(Reads::Nothing);
        }
        let dynamic = rest.iter().any(|word| !word.is_static())
            || command.input.iter().any(|word| !word.is_static())
            || command.hidden_input
            || command.piped_into;
        for (i, word) in rest.iter().enumerate() {
            if word.hole {
                continue;
            }
            let candidate = basename(&word.text);
            if candidate == "." || candidate == "source" {
                continue;
            }
            let unclear = word.unreadable || (word.literal && word.text.contains(EXPANDING));
            if dynamic && (runs_code(candidate) || unclear) {
                return Err(format!(
                    "`{name}` may run the command named by a later word (`{}`), and a placeholder, variable or substitution is among its words: in a script that reads parameters that is not allowed",
                    word.text
                ));
            }
            let later = rest.get(i + 1..).unwrap_or(&[]);
            let code_option = later.iter().any(|next| {
                next.text.starts_with('-')
                    && !next.text.starts_with("--")
                    && (next.text.contains('c') || next.text.contains('e'))
            });
            if SHELLS.contains(&candidate) && code_option {
                return self.static_rest(later, candidate, depth);
            }
        }
        Ok(Reads::Nothing)
    }

    /// A wrapper's own options and operands, then the command it runs.
    fn wrapped(
        &self,
        wrapper: &str,
        with_value: &[&str],
        operands: usize,
        rest: &[&Word],
        command: &Command,
        depth: usize,
    ) -> Scan<Reads> {
        let mut i = 0;
        let mut operands_left = operands;
        while let Some(word) = rest.get(i) {
            let text = word.text.as_str();
            if word.hole {
                break;
            }
            if wrapper == "sudo"
                && (text == "--shell"
                    || text == "--login"
                    || (text.starts_with('-')
                        && !text.starts_with("--")
                        && (text.contains('s') || text.contains('i'))))
            {
                return self.static_rest(&rest[i + 1..], "sudo -s", depth);
            }
            if wrapper == "env" && (text == "-S" || text.starts_with("--split-string")) {
                return self.static_rest(&rest[i + 1..], "env -S", depth);
            }
            if wrapper == "flock" && (text == "-c" || text == "--command") {
                return self.static_rest(&rest[i + 1..], "flock -c", depth);
            }
            if text == "--" {
                i += 1;
                break;
            }
            if wrapper == "env" && word.assignment {
                if !word.is_static() || (word.literal && text.contains(EXPANDING)) {
                    return Err(NOT_PLAIN.to_owned());
                }
                check_assignment(word)?;
                i += 1;
                continue;
            }
            let consumed = if text.starts_with('-') && text.len() > 1 {
                if with_value.contains(&text) { 2 } else { 1 }
            } else if operands_left > 0 {
                operands_left -= 1;
                1
            } else {
                break;
            };
            // What a wrapper peels off decides which word is the command: it must be plain.
            for peeled in rest.get(i..i + consumed).unwrap_or(&[]) {
                if !plain(peeled) {
                    return Err(NOT_PLAIN.to_owned());
                }
            }
            i += consumed;
        }
        let inner: Vec<&Word> = rest.get(i..).unwrap_or(&[]).to_vec();
        self.analyse_words(&inner, command, depth + 1)
    }

    /// A command that reads code, with only static arguments: check what can be checked.
    fn static_code(&self, name: &str, rest: &[&Word], depth: usize) -> Scan<Reads> {
        let what = format!("`{name}`");
        if name == "trap" {
            // `trap - SIG`, `trap '' SIG`, `trap -l`, `trap -p`: no code.
            let code = rest.iter().find(|word| word.text != "--");
            return match code {
                Some(word) if !matches!(word.text.as_str(), "" | "-" | "-l" | "-p") => {
                    self.scan_code(&word.text, depth, &what)?;
                    Ok(Reads::ShellCode)
                }
                _ => Ok(Reads::Nothing),
            };
        }
        if JOINING.contains(&name) {
            let code: Vec<&str> = rest
                .iter()
                .map(|word| word.text.as_str())
                .skip_while(|text| {
                    name == "watch"
                        && (text.starts_with('-') || text.chars().all(|c| c.is_ascii_digit()))
                })
                .collect();
            self.scan_code(&code.join(" "), depth, &what)?;
            return Ok(Reads::ShellCode);
        }
        if SHELLS.contains(&name) {
            return self.static_rest(rest, name, depth);
        }
        if AWK.contains(&name) {
            let mut skip_value = false;
            for word in rest {
                let text = word.text.as_str();
                if skip_value {
                    skip_value = false;
                    continue;
                }
                if text.starts_with('-') {
                    skip_value = matches!(text, "-F" | "-v" | "-f");
                    continue;
                }
                if text.contains("system") || text.contains('|') {
                    return Err(format!(
                        "in a script that reads parameters, an `{name}` program may not run commands (system(), or a pipe to or from a command)"
                    ));
                }
            }
            return Ok(Reads::OtherCode);
        }
        // An interpreter: a script file is beyond this check (like any file), but code given
        // inline could read a value from the environment and run it.
        for word in rest {
            let text = word.text.as_str();
            if inline_code(text) || (matches!(name, "deno" | "bun") && text == "eval") {
                if name == "sed" {
                    break;
                }
                return Err(format!(
                    "in a script that reads parameters, `{name}` may run only a script file: code given inline ({text}) could read a value from a variable and run it"
                ));
            }
            if !text.starts_with('-') {
                break;
            }
        }
        Ok(Reads::OtherCode)
    }

    /// The arguments of something that runs a shell: each static argument that could be code
    /// is checked as a script.
    fn static_rest(&self, rest: &[&Word], what: &str, depth: usize) -> Scan<Reads> {
        if rest.iter().any(|word| !word.is_static()) {
            return Err(reparses(what));
        }
        let what = format!("`{what}`");
        for word in rest {
            self.scan_code(&word.text, depth, &what)?;
        }
        Ok(Reads::ShellCode)
    }

    /// The arguments of a builtin that takes variable names.
    fn names(&self, name: &str, rest: &[&Word]) -> Scan {
        let mut options = true;
        let mut nameref = false;
        for word in rest {
            let text = word.text.as_str();
            if options && word.is_static() && text.len() > 1 && text.starts_with(['-', '+']) {
                if text == "--" {
                    options = false;
                    continue;
                }
                let flags = &text[1..];
                if matches!(name, "declare" | "typeset" | "local") && flags.contains('i') {
                    // Every later assignment to the variable is evaluated as arithmetic.
                    return Err(arithmetic_error());
                }
                if matches!(name, "mapfile" | "readarray") && flags.contains('C') {
                    return Err(format!(
                        "`{name} -C` runs its callback as code: in a script that reads parameters it is not allowed"
                    ));
                }
                if matches!(name, "declare" | "typeset" | "local") && flags.contains('n') {
                    return Err(format!(
                        "`{name} -n` makes a name refer to another variable (`declare -n r=PS4`), which the check cannot follow: in a script that reads parameters it is not allowed"
                    ));
                }
                nameref |= flags.contains('n');
                continue;
            }
            if word.hole_before_eq || word.dynamic_name || (nameref && !word.is_static()) {
                return Err(format!(
                    "a placeholder or expansion in `commands` would be a variable name for `{name}`, which bash evaluates as arithmetic"
                ));
            }
            check_assignment(word)?;
        }
        Ok(())
    }
}
