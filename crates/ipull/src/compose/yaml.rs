//! Reading one compose file as YAML: every document in it, YAML merge keys (`<<: *x`)
//! applied.
//!
//! A file whose collections nest deeper than [`MAX_DEPTH`] is refused before it is parsed: the
//! YAML parser loads a whole document before serde_yaml_ng counts its depth, and nested flow
//! collections (`[[[…`) cost it time quadratic in their depth (100,000 `[` took 40 s of CPU).

use std::path::Path;

use pullfirst::Error;
use serde::Deserialize;
use serde_yaml_ng::Value;

/// The deepest nesting of collections (mappings, sequences) a compose file may have: the limit
/// serde_yaml_ng applies anyway, so no file it could read is refused.
pub const MAX_DEPTH: usize = 128;

/// The documents of the compose file `text` (read from `path`), merge keys applied.
pub fn documents(path: &Path, text: &str) -> Result<Vec<Value>, Error> {
    refuse_deep_nesting(path, text)?;
    let not_yaml = |e: serde_yaml_ng::Error| {
        Error::bad_file(
            path,
            e.location().map(|l| l.line()),
            format!("not YAML: {e}"),
        )
    };
    let mut docs = Vec::new();
    for de in serde_yaml_ng::Deserializer::from_str(text) {
        let mut doc = Value::deserialize(de).map_err(not_yaml)?;
        // `<<: *common` merge keys, as compose applies them.
        doc.apply_merge()
            .map_err(|e| Error::bad_file(path, None, format!("cannot merge: {e}")))?;
        docs.push(doc);
    }
    Ok(docs)
}

/// Refuse `text` if its collections nest deeper than [`MAX_DEPTH`], reading its YAML events
/// one at a time (the same libyaml, ported to safe Rust) and stopping there. Anything else
/// wrong with the file is left to the parse that follows, which says it better.
fn refuse_deep_nesting(path: &Path, text: &str) -> Result<(), Error> {
    use libyaml_safer::EventData;
    let mut input = text.as_bytes();
    let mut parser = libyaml_safer::Parser::new();
    parser.set_input_string(&mut input);
    let mut depth = 0usize;
    loop {
        let Ok(event) = parser.parse() else {
            return Ok(());
        };
        match event.data {
            EventData::SequenceStart { .. } | EventData::MappingStart { .. } => {
                depth += 1;
                if depth > MAX_DEPTH {
                    // Lines count from 0 in the parser's marks.
                    let line = usize::try_from(event.start_mark.line).ok().map(|l| l + 1);
                    return Err(Error::bad_file(
                        path,
                        line,
                        format!("collections nested more than {MAX_DEPTH} deep"),
                    ));
                }
            }
            EventData::SequenceEnd | EventData::MappingEnd => depth = depth.saturating_sub(1),
            EventData::StreamEnd => return Ok(()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc1(path: &Path, text: &str) -> Result<Vec<Value>, Error> {
        documents(path, text)
    }

    #[test]
    fn nesting_deeper_than_the_parser_reads_is_refused_first() {
        let path = Path::new("deep.yml");
        let nested = |n: usize| format!("services: {}{}\n", "[".repeat(n), "]".repeat(n));
        // The root mapping and 127 sequences: 128 collections, which serde_yaml_ng reads.
        assert!(doc1(path, &nested(MAX_DEPTH - 1)).is_ok());
        let refused = |text: &str| match doc1(path, text) {
            Err(Error::BadFile { message, .. }) => message,
            other => panic!("not refused: {other:?}"),
        };
        // One more is refused here, saying so, where serde_yaml_ng says "recursion limit".
        assert!(refused(&nested(MAX_DEPTH)).contains("nested more than 128 deep"));
        match doc1(path, &format!("x: 1\nservices: {}", "[".repeat(200))) {
            Err(Error::BadFile { line, .. }) => assert_eq!(line, Some(2)),
            other => panic!("not refused: {other:?}"),
        }
        // Unclosed, flow mappings, block style alike; what is not deep is left to the parse.
        assert!(refused(&format!("services: {}", "[".repeat(100_000))).contains("nested"));
        assert!(refused(&format!("services: {}", "{a: ".repeat(50_000))).contains("nested"));
        let block: String = (0..200).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        assert!(refused(&format!("services:\n{block}")).contains("nested"));
        assert!(refused("services: [").contains("not YAML"));
    }

    #[test]
    fn depth_is_nesting_not_the_number_of_collections() {
        // 300 services side by side, each a mapping holding a list: 3 deep, 601 collections.
        let services: String = (0..300)
            .map(|i| format!("  s{i}:\n    ports: [\"{i}\"]\n"))
            .collect();
        let docs = doc1(Path::new("wide.yml"), &format!("services:\n{services}")).expect("read");
        assert_eq!(docs.len(), 1);
    }
}
