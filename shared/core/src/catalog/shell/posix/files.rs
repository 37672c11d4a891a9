//! Files the script writes and then runs: a value written to a file (`echo A={{ x }} > f`)
//! comes back as code when a later command (or a later run) sources or executes that file.

use super::tables::{SHELLS, WRAPPERS};
use super::*;

fn normal(path: &str) -> &str {
    path.strip_prefix("./").unwrap_or(path)
}

impl Scanner<'_> {
    /// Record the literal paths a command writes, and the words it may run or read as code.
    pub(super) fn record_files(&mut self, words: &[&Word], command: &Command) {
        for (i, word) in words.iter().enumerate() {
            let later = words.get(i + 1..).unwrap_or(&[]);
            let operands: Vec<&&Word> = later
                .iter()
                .filter(|word| !word.text.starts_with('-'))
                .collect();
            let targets: Vec<&&Word> = match basename(&word.text) {
                "tee" => operands,
                "cp" | "mv" | "install" | "ln" | "rsync" | "scp" if operands.len() > 1 => {
                    operands.last().copied().into_iter().collect()
                }
                "dd" => later
                    .iter()
                    .filter(|word| word.text.starts_with("of="))
                    .collect(),
                _ => Vec::new(),
            };
            for target in targets {
                if target.is_static() {
                    let path = target.text.strip_prefix("of=").unwrap_or(&target.text);
                    self.written.push(path.to_owned());
                }
            }
        }
        let Some(first) = words.first() else {
            return;
        };
        self.code_paths.push(first.text.clone());
        let reader = words
            .iter()
            .position(|word| commands::runs_code(basename(&word.text)));
        let wrapped = WRAPPERS
            .iter()
            .any(|(wrapper, _, _)| *wrapper == basename(&first.text));
        if reader.is_some() || wrapped {
            let from = reader.unwrap_or(0);
            let rest = words.get(from..).unwrap_or(&[]);
            self.code_paths
                .extend(rest.iter().map(|word| word.text.clone()));
            self.code_paths
                .extend(command.input.iter().map(|word| word.text.clone()));
        }
    }

    /// At the end of the script: a path it writes may not be one it runs, sources or gives to
    /// a shell or interpreter (before or after the write: the file outlives the run).
    pub(super) fn written_then_run(&self) -> Scan {
        for path in &self.code_paths {
            let path = normal(path);
            if path.is_empty() || SHELLS.contains(&path) {
                continue;
            }
            let hit = self.written.iter().any(|written| {
                let written = normal(written);
                written == path || (!path.contains('/') && basename(written) == path)
            });
            if hit {
                return Err(format!(
                    "`{path}` is written by this script and also run, sourced or given to a shell or interpreter: in a script that reads parameters, a value written to a file could come back as code"
                ));
            }
        }
        Ok(())
    }
}
