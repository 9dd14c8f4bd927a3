//! JSON read strictly and passed on exactly: the one reader for flow records and JSON version
//! files.
//!
//! Two promises. A key given twice in one object, at any depth, is refused: readers disagree
//! on which one counts (serde and `jq` take the last, others the first), so a record such as
//! `{"name":"evil;x","name":"a"}` could be checked as one thing and acted on as another. And
//! every top-level value keeps the text it was written with, so that a value nobody changed is
//! written back byte for byte: `123456789012345678901234567890`, `1E2` and `1e-400` stay as
//! they are instead of becoming `1.2345678901234568e+29`, `100.0` and `0.0`.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

/// Why a text was refused.
#[derive(Debug)]
pub enum Refused {
    /// Not JSON at all (or a duplicate key, or a number out of range).
    NotJson(serde_json::Error),
    /// JSON, but not an object.
    NotObject,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotJson(e) => write!(f, "not JSON: {e}"),
            Refused::NotObject => f.write_str("not a JSON object"),
        }
    }
}

/// One JSON object: each field's value, and where its text sits in the input.
pub struct Object {
    pub fields: Map<String, Value>,
    /// For each field, in order, the range of `text` its value was written as.
    pub spans: Vec<Range<usize>>,
}

/// Parse `text` as one JSON object, refusing duplicate keys at any depth.
pub fn parse_object(text: &str) -> Result<Object, Refused> {
    if !text.trim_start().starts_with('{') {
        return Err(match parse_value(text) {
            Ok(_) => Refused::NotObject,
            Err(e) => Refused::NotJson(e),
        });
    }
    let pairs: Pairs = serde_json::from_str(text).map_err(Refused::NotJson)?;
    let mut fields = Map::new();
    let mut spans = Vec::with_capacity(pairs.0.len());
    for (key, raw) in pairs.0 {
        let written = raw.get();
        // `written` is a slice of `text`: its offset is the distance between their starts.
        let start = written.as_ptr() as usize - text.as_ptr() as usize;
        spans.push(start..start + written.len());
        fields.insert(key, parse_value(written).map_err(Refused::NotJson)?);
    }
    Ok(Object { fields, spans })
}

/// Parse `text` as any JSON value, refusing duplicate keys at any depth.
pub fn parse_value(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// `text` (a JSON array, as written) with `item` appended, the rest of its bytes untouched.
pub fn append_to_array(text: &str, item: &Value) -> String {
    let body = text.trim_end();
    let Some(open) = body.strip_suffix(']') else {
        return Value::Array(vec![item.clone()]).to_string();
    };
    let empty = open.trim_end().ends_with('[');
    format!("{open}{}{item}]", if empty { "" } else { "," })
}

/// The top level of an object: its keys, each value's text, duplicates refused.
struct Pairs<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs: Vec<(String, &'de RawValue)> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(duplicate(&key));
                    }
                    pairs.push((key, map.next_value()?));
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("duplicate key {}", quote(key)))
}

/// A [`Value`], built as serde_json builds one, but refusing duplicate keys.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    // serde_json's text reader gives `null` as a unit, and every string by reference
    // (`visit_str`/`visit_borrowed_str`): no `visit_string` or `visit_none` is ever called.
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(duplicate(&key));
            }
            let value = map.next_value_seed(Strict)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A value for an error message: JSON-quoted, so newlines and escapes stay visible, and cut
/// short so a hostile megabyte of input does not become a megabyte of log.
pub fn quote(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    let mut q = Value::from(cut).to_string();
    if s.chars().count() > 80 {
        q.push('…');
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [
            r#"{"name":"evil;x","name":"a"}"#,
            r#"{"a":{"k":1,"k":2}}"#,
            r#"{"a":[{"k":1},{"k":1,"k":1}]}"#,
        ] {
            let e = parse_object(text).err().expect(text).to_string();
            assert!(e.contains("duplicate key"), "{text}: {e}");
        }
        assert!(parse_object(r#"{"a":{"k":1},"b":{"k":1}}"#).is_ok());
    }

    #[test]
    fn spans_are_the_values_as_written() {
        let text = r#"{ "n" : 1E2 , "big":123456789012345678901234567890,"s":"x\u0041","o":{ }}"#;
        let o = parse_object(text).expect("parses");
        let written: Vec<&str> = o.spans.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            written,
            [
                "1E2",
                "123456789012345678901234567890",
                r#""x\u0041""#,
                "{ }"
            ]
        );
        assert_eq!(o.fields["s"], "xA");
        assert!(matches!(parse_object("[1]"), Err(Refused::NotObject)));
        assert!(matches!(parse_object("{"), Err(Refused::NotJson(_))));
        assert!(matches!(parse_object("nope"), Err(Refused::NotJson(_))));
        assert!(matches!(
            parse_object(r#"{"a":1e400}"#),
            Err(Refused::NotJson(_))
        ));
    }

    #[test]
    fn any_value_reads_as_serde_json_reads_it() {
        for text in [
            "-5",
            "-9223372036854775808",
            "18446744073709551615",
            "1.5",
            "-0",
            "null",
            "true",
            r#""a\nb\u00e9""#,
            r#"[null,-1,2,1.5e3,"x",{"k":[false]}]"#,
            r#"{"a":null,"b":-7,"c":"\"q\""}"#,
        ] {
            let ours = parse_value(text).expect(text);
            let theirs: Value = serde_json::from_str(text).expect(text);
            assert_eq!(ours, theirs, "{text}");
        }
        let e = parse_value("1 2").expect_err("trailing value").to_string();
        assert!(e.contains("trailing"), "{e}");
    }

    #[test]
    fn appending_keeps_what_was_there() {
        let item = serde_json::json!({"step":"x"});
        assert_eq!(append_to_array("[ ]", &item), r#"[ {"step":"x"}]"#);
        assert_eq!(
            append_to_array("[{\"ms\":1E2} ]", &item),
            r#"[{"ms":1E2} ,{"step":"x"}]"#
        );
    }
}
