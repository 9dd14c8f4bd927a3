//! Unit tests of `record.rs`.

use super::*;

#[test]
fn unknown_fields_keep_their_order_and_unchanged_records_their_bytes() {
    let line = r#"{"zeta":1, "name":"a","alpha":[1,2],"ok":true}"#;
    let r = Record::parse(line, 1).expect("parses");
    assert_eq!(r.to_line(), line);
    let mut r2 = r.clone();
    r2.set("recorded", true);
    assert_eq!(
        r2.to_line(),
        r#"{"zeta":1,"name":"a","alpha":[1,2],"ok":true,"recorded":true}"#
    );
}

#[test]
fn fields_not_set_keep_their_text_when_the_record_changes() {
    let line = concat!(
        r#"{"name":"a","big":123456789012345678901234567890,"e":1E2,"tiny":1e-400,"#,
        r#""nested":{"n": 1.50},"steps":[{"step":"mine","ms":1E3}]}"#
    );
    let mut r = Record::parse(line, 1).expect("parses");
    r.set("recorded", true);
    r.push_step("vfile", true, 3);
    assert_eq!(
        r.to_line(),
        concat!(
            r#"{"name":"a","big":123456789012345678901234567890,"e":1E2,"tiny":1e-400,"#,
            r#""nested":{"n": 1.50},"steps":[{"step":"mine","ms":1E3},"#,
            r#"{"step":"vfile","ok":true,"ms":3}],"recorded":true}"#
        )
    );
    // What was read still reads as JSON values.
    assert_eq!(r.get("e").and_then(Value::as_f64), Some(100.0));
    assert_eq!(
        r.get("steps").and_then(Value::as_array).map(Vec::len),
        Some(2)
    );
}

#[test]
fn a_key_given_twice_is_refused() {
    for line in [
        r#"{"name":"evil;x","name":"a"}"#,
        r#"{"name":"a","error":{"kind":"permanent","kind":"transient"}}"#,
    ] {
        match Record::parse(line, 4) {
            Err(Error::Input { line: 4, message }) => {
                assert!(message.contains("duplicate key"), "{message}")
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn defaults() {
    let r = Record::parse(r#"{"name":"a"}"#, 1).expect("parses");
    assert!(r.ok());
    assert!(!r.update());
    assert!(!r.actionable(false));
    assert!(r.actionable(true));
}

#[test]
fn fail_and_steps() {
    let mut r = Record::new("a");
    r.push_step("vcheck", true, 12);
    r.fail(
        "ipull",
        ErrorKind::Transient,
        "registry unreachable",
        Some(30),
    );
    r.push_step("ipull", false, 5);
    assert_eq!(
        r.to_line(),
        concat!(
            r#"{"name":"a","steps":[{"step":"vcheck","ok":true,"ms":12},"#,
            r#"{"step":"ipull","ok":false,"ms":5}],"ok":false,"error":{"step":"ipull","#,
            r#""kind":"transient","message":"registry unreachable","retry_after":30}}"#
        )
    );
    assert_eq!(r.error_kind(), Some(ErrorKind::Transient));
}

#[test]
fn rejects_bad_lines_with_their_number() {
    let cases = [
        ("not json", "not JSON"),
        ("[1,2]", "not a JSON object"),
        (r#"{"name":"a=b"}"#, "invalid name"),
        (r#"{"name":"a\nb"}"#, "invalid name"),
        (r#"{"name":5}"#, "wrong type"),
        (r#"{"name":"a","ok":"yes"}"#, "wrong type"),
        (r#"{"name":"a","latest":"1.0\nx=1"}"#, "invalid version"),
        (r#"{"name":"a","latest":"1.0;rm -rf /"}"#, "invalid version"),
        (r#"{"name":"a","image":"Bad Image"}"#, "invalid image"),
        (r#"{"name":"a","error":{"kind":"maybe"}}"#, "error.kind"),
        (r#"{"name":"a","steps":{}}"#, "wrong type"),
    ];
    for (line, want) in cases {
        match Record::parse(line, 7) {
            Err(Error::Input { line: 7, message }) => {
                assert!(message.contains(want), "{line}: {message}")
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

fn refusal(line: &str) -> String {
    match Record::parse(line, 2) {
        Err(Error::Input { line: 2, message }) => message,
        other => panic!("{line}: accepted or wrong error: {other:?}"),
    }
}

/// ipull pulls `repo@digest` and `--restore` re-tags to `previous_image_id`: what a record
/// read from stdin says there is checked against the digest grammar before anything uses it.
#[test]
fn digests_read_from_a_record_are_checked() {
    let good = format!("sha256:{}", "0a".repeat(32));
    for key in ["digest", "image_id", "previous_image_id"] {
        let line = format!(r#"{{"name":"a","{key}":"{good}"}}"#);
        let r = Record::parse(&line, 1).expect("a valid digest");
        assert_eq!(r.get(key).and_then(Value::as_str), Some(good.as_str()));
        for bad in [
            "sha256:$(reboot)",
            "sha512:abcd",
            "md5:0123456789abcdef0123456789abcdef",
            "latest",
            &format!("sha256:{}", "0A".repeat(32)),
            &format!("{good} "),
        ] {
            let line = format!(r#"{{"name":"a","{key}":{}}}"#, Value::from(bad));
            let message = refusal(&line);
            assert!(
                message.contains("invalid digest") && message.contains(key),
                "{line}: {message}"
            );
        }
        let message = refusal(&format!(r#"{{"name":"a","{key}":5}}"#));
        assert!(message.contains("wrong type"), "{message}");
    }
    // Only previous_image_id may be null (no image before).
    assert!(Record::parse(r#"{"name":"a","previous_image_id":null}"#, 1).is_ok());
    for key in ["digest", "image_id"] {
        let message = refusal(&format!(r#"{{"name":"a","{key}":null}}"#));
        assert!(
            message.contains(&format!(
                "field `{key}` has the wrong type (expected a string)"
            )),
            "{message}"
        );
    }
    let message = refusal(r#"{"name":"a","previous_image_id":1}"#);
    assert!(message.contains("expected a string or null"), "{message}");
}

/// `current` is written into the version file and becomes a tag: checked as `latest` is,
/// and null (nothing installed) is allowed for it alone.
#[test]
fn versions_read_from_a_record_are_checked() {
    for key in ["current", "latest"] {
        let line = format!(r#"{{"name":"a","{key}":"v1.2"}}"#);
        assert!(Record::parse(&line, 1).is_ok(), "{line}");
        for bad in ["1.0;rm -rf /", "$(id)", "-1", ""] {
            let line = format!(r#"{{"name":"a","{key}":{}}}"#, Value::from(bad));
            let message = refusal(&line);
            assert!(
                message.contains(&format!("invalid version in `{key}`")),
                "{line}: {message}"
            );
        }
    }
    let r = Record::parse(r#"{"name":"a","current":null}"#, 1).expect("null current");
    assert_eq!(r.current(), None);
    assert!(refusal(r#"{"name":"a","latest":null}"#).contains("(expected a string)"));
    assert!(refusal(r#"{"name":"a","current":1}"#).contains("(expected a string or null)"));
}

/// What the commands read from a record: its fields, and the line it came from.
#[test]
fn accessors_read_the_fields() {
    let line = r#"{"name":"a","current":"1","latest":"2","image":"r/a:2","update":true,"x":1}"#;
    let r = Record::parse(line, 9).expect("valid");
    assert_eq!(r.line(), 9);
    assert_eq!(r.name(), Some("a"));
    assert_eq!(r.current(), Some("1"));
    assert_eq!(r.latest(), Some("2"));
    assert_eq!(r.image(), Some("r/a:2"));
    assert!(r.update());
    assert_eq!(r.fields().len(), 6);
    assert_eq!(r.fields().keys().next_back().map(String::as_str), Some("x"));
    let r = Record::new("b");
    assert_eq!(
        (r.line(), r.latest(), r.current(), r.image()),
        (0, None, None, None)
    );
    assert_eq!(r.to_line(), r#"{"name":"b"}"#);
}

/// The types of the fields pullfirst owns, each named in the refusal.
#[test]
fn owned_fields_have_their_types() {
    for (line, want) in [
        (
            r#"{"name":"a","source":1}"#,
            "`source` has the wrong type (expected a string)",
        ),
        (
            r#"{"name":"a","image":1}"#,
            "`image` has the wrong type (expected a string)",
        ),
        (r#"{"name":"a","update":"yes"}"#, "(expected true or false)"),
        (r#"{"name":"a","pulled":1}"#, "(expected true or false)"),
        (
            r#"{"name":"a","recorded":null}"#,
            "(expected true or false)",
        ),
        (r#"{"name":"a","error":"boom"}"#, "(expected an object)"),
        (
            r#"{"name":"a","steps":[1]}"#,
            "(expected an array of objects)",
        ),
        (r#"{"name":"a","error":{"retry_after":-1}}"#, "retry_after"),
        (r#"{"name":"a","error":{"retry_after":"5"}}"#, "retry_after"),
    ] {
        let message = refusal(line);
        assert!(message.contains(want), "{line}: {message}");
    }
    let ok = r#"{"name":"a","source":"s","update":true,"pulled":false,"recorded":true,"error":{"kind":"transient","retry_after":0},"steps":[{}]}"#;
    let r = Record::parse(ok, 1).expect("valid");
    assert_eq!(r.error_kind(), Some(ErrorKind::Transient));
    assert!(r.update());
    let r =
        Record::parse(r#"{"name":"a","error":{"kind":"permanent"},"ok":false}"#, 1).expect("valid");
    assert_eq!(r.error_kind(), Some(ErrorKind::Permanent));
    assert!(!r.ok());
    assert!(!r.actionable(true));
    assert_eq!(ErrorKind::Permanent.to_string(), "permanent");
}

#[test]
fn quote_shows_control_characters_and_cuts_long_values() {
    assert_eq!(quote("a\nb"), r#""a\nb""#);
    assert!(quote(&"x".repeat(1000)).len() < 100);
    // 80 characters are shown whole; the 81st is cut, with an ellipsis.
    assert_eq!(quote(&"é".repeat(80)), format!("\"{}\"", "é".repeat(80)));
    assert_eq!(quote(&"é".repeat(81)), format!("\"{}\"…", "é".repeat(80)));
}

/// `images`: references, or objects naming one, each checked as `image` and `digest` are.
#[test]
fn images_are_checked_entry_by_entry() {
    let d = format!("sha256:{}", "a".repeat(64));
    for (line, want) in [
        (
            r#"{"name":"a","images":[]}"#.to_string(),
            "`images` has the wrong type (expected a non-empty array of image references",
        ),
        (r#"{"name":"a","images":"r/a:1"}"#.into(), "wrong type"),
        (r#"{"name":"a","images":[1]}"#.into(), "wrong type"),
        (
            r#"{"name":"a","images":[{"digest":"x"}]}"#.into(),
            "wrong type",
        ),
        (
            r#"{"name":"a","images":["r/a:1","Bad Image"]}"#.into(),
            "invalid image in `images`",
        ),
        (
            r#"{"name":"a","images":[{"image":"r/a:1","image_id":"sha256:1"}]}"#.into(),
            "invalid digest in `images` (image_id)",
        ),
        (
            format!(
                r#"{{"name":"a","images":[{{"image":"r/a:1","previous_image_id":1,"digest":"{d}"}}]}}"#
            ),
            "wrong type",
        ),
    ] {
        let message = refusal(&line);
        assert!(message.contains(want), "{line}: {message}");
    }
    let ok = format!(
        r#"{{"name":"a","images":["r/a:1",{{"image":"r/b:1","digest":"{d}","image_id":"{d}","previous_image_id":null,"pulled":true,"mine":1}}]}}"#
    );
    let r = Record::parse(&ok, 1).expect("valid");
    assert_eq!(r.to_line(), ok);
    // After an update, each entry names the image it replaced.
    let replaced = format!(
        r#"{{"name":"a","images":[{{"image":"r/b:1","image_id":"{d}","previous_image_id":"{d}"}}]}}"#
    );
    assert_eq!(
        Record::parse(&replaced, 1).expect("valid").to_line(),
        replaced
    );
    let bad = format!(
        r#"{{"name":"a","images":[{{"image":"r/b:1","previous_image_id":"{}"}}]}}"#,
        &d[..20]
    );
    assert!(refusal(&bad).contains("invalid digest in `images` (previous_image_id)"));
}
