//! The record parser: a line read and written back unchanged is the same bytes; a changed
//! record keeps every field it did not set as written; what it reads is what serde_json reads
//! (the oracle); a key given twice, at any depth, is refused.

use proptest::prelude::*;
use pullfirst::json::parse_object;
use pullfirst::{Error, Record};
use serde_json::Value;

use crate::config;

/// Blanks JSON allows between tokens.
fn ws() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "", "", " ", "  ", "\t", "\n", "\r\n "]).prop_map(String::from)
}

/// A number as people and programs write it: `1E2`, `-0.50`, `123456789012345678901234567890`.
fn number() -> impl Strategy<Value = String> {
    "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?"
}

/// Any short text: control characters, quotes, backslashes and astral planes included.
fn text() -> impl Strategy<Value = String> {
    "(?s).{0,10}"
}

/// A JSON string as written: serde's spelling, or with `\u` escapes and `\/`.
fn string() -> impl Strategy<Value = String> {
    (text(), any::<bool>()).prop_map(|(s, escape_all)| {
        if !escape_all {
            return Value::from(s).to_string();
        }
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '/' => out.push_str("\\/"),
                c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            }
        }
        out.push('"');
        out
    })
}

/// A key that is not one pullfirst owns.
fn user_key() -> impl Strategy<Value = String> {
    text().prop_filter("not a field pullfirst owns", |k| {
        !OWNED.contains(&k.as_str())
    })
}

const OWNED: &[&str] = &[
    "name",
    "source",
    "current",
    "latest",
    "update",
    "image",
    "digest",
    "image_id",
    "previous_image_id",
    "pulled",
    "recorded",
    "ok",
    "error",
    "steps",
];

/// Any JSON value, as text, with unique keys in every object.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        number(),
        string(),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec((inner.clone(), ws()), 0..4), ws()).prop_map(|(items, w)| {
                let body: Vec<String> = items
                    .into_iter()
                    .map(|(v, w)| format!("{w}{v}{w}"))
                    .collect();
                format!("[{w}{}]", body.join(","))
            }),
            (prop::collection::btree_map(text(), inner, 0..4), ws()).prop_map(|(map, w)| {
                let body: Vec<String> = map
                    .into_iter()
                    .map(|(k, v)| format!("{w}{}{w}:{w}{v}", Value::from(k)))
                    .collect();
                format!("{{{}{w}}}", body.join(","))
            }),
        ]
    })
}

/// Fields pullfirst owns, with values its grammar accepts, written as JSON text.
fn owned_field() -> impl Strategy<Value = (String, String)> {
    let digest = "sha256:[0-9a-f]{64}";
    prop_oneof![
        "[A-Za-z0-9_.-]{1,20}".prop_map(|v| ("name".into(), Value::from(v).to_string())),
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"
            .prop_map(|v| ("latest".into(), Value::from(v).to_string())),
        Just(("current".to_string(), "null".to_string())),
        any::<bool>().prop_map(|b| ("update".into(), b.to_string())),
        any::<bool>().prop_map(|b| ("ok".into(), b.to_string())),
        digest.prop_map(|d| ("digest".into(), Value::from(d).to_string())),
        digest.prop_map(|d| ("image_id".into(), Value::from(d).to_string())),
        Just(("previous_image_id".to_string(), "null".to_string())),
        "[a-z0-9]{1,8}(/[a-z0-9]{1,8})?(:[a-z0-9][a-z0-9.]{0,7})?"
            .prop_map(|v| ("image".into(), Value::from(v).to_string())),
        Just((
            "steps".to_string(),
            r#"[ {"step":"mine","ms":1E3} ]"#.to_string()
        )),
    ]
}

/// A line: fields with unique keys, in any order, with any blanks between tokens.
fn line() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    (
        prop::collection::vec((user_key(), value()), 0..6),
        prop::collection::vec(owned_field(), 0..4),
        ws(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(user, owned, w, at)| {
            let mut fields: Vec<(String, String)> = Vec::new();
            for (k, v) in owned.into_iter().chain(user) {
                if !fields.iter().any(|(seen, _)| *seen == k) {
                    fields.push((k, v));
                }
            }
            if !fields.is_empty() {
                // The owned fields need not come first.
                let i = at.index(fields.len());
                fields.rotate_left(i);
            }
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{w}{}{w}:{w}{v}{w}", Value::from(k.as_str())))
                .collect();
            (format!("{{{}}}", body.join(",")), fields)
        })
}

/// The text each field's value is written with in `line`.
fn written(line: &str) -> Vec<(String, String)> {
    let object = parse_object(line).expect("a record's own line parses");
    object
        .fields
        .keys()
        .zip(object.spans)
        .map(|(k, span)| (k.clone(), line[span].to_string()))
        .collect()
}

proptest! {
    #![proptest_config(config(1000))]

    /// What the parser reads is what serde_json reads, and an unchanged record is written
    /// back byte for byte.
    #[test]
    fn unchanged_records_round_trip((line, _) in line()) {
        let record = Record::parse(&line, 1).expect("a valid line parses");
        let oracle: Value = serde_json::from_str(&line).expect("serde_json reads it");
        prop_assert_eq!(&Value::Object(record.fields().clone()), &oracle);
        prop_assert_eq!(record.to_line(), line);
    }

    /// A record a step changed keeps every other field's text, in its place; the new fields
    /// come last; the steps before the new one stay as written.
    #[test]
    fn changed_records_keep_unknown_fields_byte_exact((line, fields) in line(), ok in any::<bool>()) {
        let mut record = Record::parse(&line, 1).expect("a valid line parses");
        record.set("recorded", ok);
        record.push_step("vfile", ok, 7);
        let out = record.to_line();
        let reread = Record::parse(&out, 1).expect("what a command writes, it reads");
        let after = written(&out);
        let kept: Vec<&(String, String)> =
            after.iter().filter(|(k, _)| k != "recorded" && k != "steps").collect();
        let before: Vec<&(String, String)> =
            fields.iter().filter(|(k, _)| k != "recorded" && k != "steps").collect();
        prop_assert_eq!(kept, before);
        let steps = reread.get("steps").and_then(Value::as_array).expect("steps");
        let had = fields.iter().any(|(k, _)| k == "steps");
        prop_assert_eq!(steps.len(), if had { 2 } else { 1 });
        prop_assert_eq!(
            steps.last(),
            Some(&serde_json::json!({"step": "vfile", "ok": ok, "ms": 7}))
        );
        if had {
            // The entry before keeps its text, blanks included.
            prop_assert!(out.contains(r#"[ {"step":"mine","ms":1E3} ,{"step":"vfile""#), "{}", out);
        }
        prop_assert_eq!(reread.get("recorded"), Some(&Value::Bool(ok)));
    }

    /// A key given twice in an object, at the top or nested, is refused.
    #[test]
    fn duplicate_keys_are_refused(
        (line, fields) in line(),
        key in text(),
        first in value(),
        second in value(),
        nested in any::<bool>(),
    ) {
        let twice = format!(
            "{{{}:{first},{}:{second}}}",
            Value::from(key.as_str()),
            Value::from(key.as_str())
        );
        let bad = if nested {
            // Inside a user's field.
            let inner = format!("\"x-nested\":[{twice}]");
            format!("{{{inner}{}{}", if fields.is_empty() { "" } else { "," }, &line[1..])
        } else {
            let field = &twice[1..twice.len() - 1];
            format!("{{{field}{}{}", if fields.is_empty() { "" } else { "," }, &line[1..])
        };
        match Record::parse(&bad, 3) {
            Err(Error::Input { line: 3, message }) => {
                prop_assert!(message.contains("duplicate key"), "{}: {}", bad, message)
            }
            other => prop_assert!(false, "{}: {:?}", bad, other),
        }
    }
}
