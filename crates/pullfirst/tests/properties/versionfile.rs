//! The version file: `sh` reads the value vfile reads, or vfile refuses the line; a value
//! `vfile set` writes is read back the same, by vfile and by `sh`, whatever the line held before.
//!
//! The oracle is `/bin/sh` itself: each case writes a file and sources it in a fresh `sh`
//! with an empty environment, in a directory of its own. The fragments lines are made of are
//! chosen so that no case can run a command of consequence.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use pullfirst::versionfile::{check_value, KvFile, VersionFile};

use crate::config;

/// What `sh` reads for `key` after sourcing `text`, or `None` if sourcing it fails.
fn sh_reads(text: &str, key: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("env"), text).expect("write");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(". ./env || exit 9; printf '%s' \"${key}\""))
        .current_dir(dir.path())
        .env_clear()
        .output()
        .expect("sh runs");
    if !out.status.success() || !out.stderr.is_empty() {
        return None;
    }
    Some(String::from_utf8(out.stdout).expect("sh printed what vfile wrote, UTF-8"))
}

fn parse(text: &str) -> Result<KvFile, String> {
    KvFile::parse(Path::new("versions.env"), text.to_string()).map_err(|e| e.to_string())
}

/// Pieces of a value: what has made `sh` and readers of env files disagree.
fn value_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "v1", "1.0", "a", "-rc", "b", " ", "  ", "\t", "#", "a#b", " #c", "\t#c", "#x", "'",
            "\"", "\\", "\\\\", "\\\"", "\\t", "$", "$x", "${x}", "`", "~", "=", ":", "@", "/",
            "%", "+", ",", "*", "?", "[", "]", "{", "}", "!", "é", "\u{a0}", "\u{b}", "\u{c}",
            "'it'", "it's", "''", "\"\"", "'a b'", "\"a b\"", "\r\n", "\n",
        ]),
        1..6,
    )
    .prop_map(|v| v.concat())
}

/// The two layouts vfile keeps although `sh` reads them otherwise (`docs/version-file.md`):
/// blanks after `=` before a value (`KEY= v1`), and a `\r` ending a line (CRLF files).
fn kept_layout(value: &str) -> bool {
    let rest = value.trim_start_matches([' ', '\t']);
    let blank_first = rest.len() < value.len() && !rest.is_empty() && !rest.starts_with('#');
    // A later line whose key is no sh name (`1.0=`, `ingress-nginx=`): keys may hold `.` and
    // `-` and begin with a digit, as compose reads them, and such a file is for compose, not
    // for `.` in sh (docs/version-file.md). (Found by this property: `k=\n1.0=`.)
    let no_sh_name = value.lines().skip(1).any(|l| {
        let l = l.trim_start_matches([' ', '\t']);
        let l = l.strip_prefix("export ").unwrap_or(l);
        l.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && (k.starts_with(|c: char| c.is_ascii_digit())
                    || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        })
    });
    blank_first || value.contains("\r\n") || no_sh_name
}

/// Lines before the one that matters.
fn prefix() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "# versions\n",
        "other=1\n",
        "\n",
        "exporter='1.2'\n",
        "k1=x\n",
    ])
    .prop_map(String::from)
}

/// How the key is written.
fn lhs() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["k=", "export k=", "  k="]).prop_map(String::from)
}

/// A value vfile may be asked to write (`check_value` decides).
fn new_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[A-Za-z0-9_.:/@%+=,-]{1,12}",
        prop::collection::vec(
            prop::sample::select(vec![
                "it's", "'", "\"", "#", " #", "a#b", " ", "\t", "é", "v1"
            ]),
            1..4
        )
        .prop_map(|v| v.concat()),
    ]
}

proptest! {
    #![proptest_config(config(1500))]

    /// vfile reads what sh reads, or refuses the file.
    #[test]
    fn sh_reads_what_vfile_reads_or_vfile_refuses(
        before in prefix(),
        lhs in lhs(),
        value in value_text().prop_filter("a layout vfile keeps on purpose", |v| !kept_layout(v)),
    ) {
        let text = format!("{before}{lhs}{value}\n");
        if let Ok(file) = parse(&text) {
            let ours = file.get("k").unwrap_or_default();
            prop_assert_eq!(sh_reads(&text, "k"), Some(ours), "{:?}", text);
            // `vfile get` reads the same as the whole file does.
            prop_assert_eq!(
                KvFile::lookup(Path::new("versions.env"), &text, "k").expect("parses"),
                file.get("k")
            );
        }
    }

    /// What `vfile set` writes reads back as the value, by vfile and sh, whatever quoting
    /// the line had; the other lines keep their bytes.
    #[test]
    fn set_then_read_back(
        before in prefix(),
        lhs in lhs(),
        old in prop::sample::select(vec!["old", "'old'", "\"old\"", "old # note", "'o d' # n", "\"\"", "''"]),
        value in new_value().prop_filter("a value vfile writes", |v| check_value(v).is_ok()),
    ) {
        let text = format!("{before}{lhs}{old}\n");
        let mut file = parse(&text).expect("the line before parses");
        file.set("k", &value);
        let bytes = String::from_utf8(file.to_bytes()).expect("UTF-8");
        prop_assert!(bytes.starts_with(&before), "{:?}", bytes);
        let reread = parse(&bytes).map_err(|e| TestCaseError::fail(format!("{bytes:?}: {e}")))?;
        prop_assert_eq!(reread.get("k"), Some(value.clone()), "{:?}", bytes);
        prop_assert_eq!(sh_reads(&bytes, "k"), Some(value.clone()), "{:?}", bytes);
        // A new key goes on a line of its own, and reads back too.
        let mut file = reread;
        file.set("new.key-2", &value);
        let bytes = String::from_utf8(file.to_bytes()).expect("UTF-8");
        let reread = parse(&bytes).map_err(|e| TestCaseError::fail(format!("{bytes:?}: {e}")))?;
        prop_assert_eq!(reread.get("new.key-2"), Some(value.clone()));
        prop_assert_eq!(reread.get("k"), Some(value));
    }

    /// The JSON format: what is set is what is read, and the file stays one JSON object.
    #[test]
    fn json_set_then_read_back(
        values in prop::collection::vec(("[A-Za-z0-9_.-]{1,8}", any::<String>()), 1..5),
    ) {
        let path = Path::new("versions.json");
        let mut file = VersionFile::empty(path);
        for (k, v) in &values {
            file.set(k, v);
        }
        let reread = VersionFile::parse(path, file.to_bytes()).expect("what vfile writes parses");
        for (k, _) in &values {
            let last = values.iter().rev().find(|(k2, _)| k2 == k).map(|(_, v)| v.clone());
            prop_assert_eq!(reread.get(k), last);
        }
    }
}
