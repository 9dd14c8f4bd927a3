//! The parts of a command's manual that are not options: examples, exit status, environment,
//! files, and a few titled notes.
//!
//! Each command describes itself once, in a [`Manual`] beside its clap definition. The same
//! value becomes the end of `--help` (through [`Manual::long_help`]) and the EXAMPLES, EXIT
//! STATUS, ENVIRONMENT and FILES sections of its man page (rendered by `cargo xtask gen`), so
//! the two cannot drift apart. Every example is a shell command line that runs as written in
//! the environment the examples test sets up (`tests/examples.rs`): the endpoints come from
//! the environment variables the command documents, never from a host name in the example.

/// One example: what it shows, and the command line that shows it.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    /// One line saying what the example does.
    pub about: &'static str,
    /// The command line, as a user types it into `sh`.
    pub run: &'static str,
}

/// A command's manual, apart from its options.
#[derive(Clone, Copy, Debug)]
pub struct Manual {
    pub examples: &'static [Example],
    /// Every status the command can exit with, and what it means.
    pub exit_status: &'static [(u8, &'static str)],
    /// The environment variables the command reads.
    pub environment: &'static [(&'static str, &'static str)],
    /// The files the command reads or writes on its own account.
    pub files: &'static [(&'static str, &'static str)],
    /// Further titled paragraphs (e.g. "Sources", "Targets").
    pub notes: &'static [(&'static str, &'static str)],
}

/// Where the full reference lives, printed at the end of `--help`.
pub const REFERENCE: &str = "docs/";

impl Manual {
    /// The text clap prints after the options with `--help`.
    pub fn long_help(&self, command: &str) -> String {
        let mut out = String::new();
        for (title, text) in self.notes {
            out.push_str(&format!("{title}:\n{}\n\n", indent(text)));
        }
        out.push_str("Examples:\n");
        for ex in self.examples {
            out.push_str(&format!("  # {}\n  {}\n", ex.about, ex.run));
        }
        out.push_str("\nExit status:\n");
        for (code, meaning) in self.exit_status {
            out.push_str(&format!("  {code:>3}  {}\n", hang(meaning, 7)));
        }
        if !self.environment.is_empty() {
            out.push_str("\nEnvironment:\n");
            for (var, meaning) in self.environment {
                out.push_str(&format!("  {var}\n      {}\n", hang(meaning, 6)));
            }
        }
        if !self.files.is_empty() {
            out.push_str("\nFiles:\n");
            for (file, meaning) in self.files {
                out.push_str(&format!("  {file}\n      {}\n", hang(meaning, 6)));
            }
        }
        out.push_str(&format!(
            "\nSee also: {}; the reference in {REFERENCE}{command}.md",
            SEE_ALSO
                .iter()
                .filter(|c| **c != command)
                .map(|c| format!("{c}(1)"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out
    }

    /// The text clap prints after the options with `-h`.
    pub fn short_help(&self) -> String {
        let mut out = String::from("Examples:\n");
        for ex in self.examples.iter().take(3) {
            out.push_str(&format!("  {}\n", ex.run));
        }
        out.push_str("\nMore examples, exit status and environment: --help");
        out
    }
}

/// The five commands, for SEE ALSO.
pub const SEE_ALSO: [&str; 5] = ["vcheck", "ipull", "vfile", "retry", "notify"];

/// Indent every line of `text` by two spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Indent the continuation lines of `text` by `n` spaces.
fn hang(text: &str, n: usize) -> String {
    text.lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{}", " ".repeat(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Manual = Manual {
        examples: &[
            Example {
                about: "first",
                run: "cmd a",
            },
            Example {
                about: "second",
                run: "cmd b",
            },
        ],
        exit_status: &[(0, "ok"), (75, "transient\nretry later")],
        environment: &[("VAR", "a variable")],
        files: &[],
        notes: &[("Sources", "one\ntwo")],
    };

    #[test]
    fn long_help_has_every_section_in_order() {
        let h = M.long_help("vcheck");
        let at = |s: &str| h.find(s).unwrap_or_else(|| panic!("{s:?} missing in {h}"));
        assert!(at("Sources:\n  one\n  two") < at("Examples:"));
        assert!(at("  # first\n  cmd a\n") < at("  # second\n  cmd b\n"));
        assert!(at("Examples:") < at("Exit status:\n    0  ok\n   75  transient\n       retry"));
        assert!(at("Exit status:") < at("Environment:\n  VAR\n      a variable"));
        assert!(!h.contains("Files:"), "an empty section is left out");
        assert!(h.ends_with(
            "See also: ipull(1), vfile(1), retry(1), notify(1); the reference in docs/vcheck.md"
        ));
    }

    #[test]
    fn short_help_points_at_long_help() {
        let h = M.short_help();
        assert!(h.starts_with("Examples:\n  cmd a\n  cmd b\n"));
        assert!(h.ends_with("--help"));
    }
}
