//! The records on stdin, read once and never all held in memory.
//!
//! Each record is checked as it is read (a bad line is exit 65 before any record is passed
//! through, as before), counted for `--on` and the exit status, and its line is kept aside in
//! a spool: in memory up to 1 MiB, in an unnamed temporary file past that. Only what must be
//! kept stays in memory: the counts, and with `--state` the outcome line of each component.
//! The spool is copied to stdout once the stream is known good, and read again only when a
//! message about the records is to be sent, so `notify --on failure` over a million records
//! that are all ok holds one record at a time.

use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::Path;

use pullfirst::jsonl::Records;
use pullfirst::Outcome;
use pullfirst::{Error, Record};
use tempfile::SpooledTempFile;

use crate::message::Status;

/// Kept in memory below this many bytes of records; in a temporary file above.
const SPOOL_IN_MEMORY: usize = 1 << 20;

/// The size of a write to the spool.
const BLOCK: usize = 64 << 10;

/// How many records there were, and how many failed or were updated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: usize,
    pub failed: usize,
    pub updated: usize,
}

impl Tally {
    pub fn observe(&mut self, r: &Record) {
        self.count += 1;
        match Status::of(r) {
            Status::Failed => self.failed += 1,
            Status::Updated => self.updated += 1,
            Status::Unchanged => {}
        }
    }

    /// The tally of one record.
    pub fn of(r: &Record) -> Tally {
        let mut t = Tally::default();
        t.observe(r);
        t
    }
}

pub struct Input {
    spool: SpooledTempFile,
    /// The exit status the records make, as the records pass through.
    pub flow: Outcome,
    pub tally: Tally,
    /// The `--state` outcome (see `state::outcome`), when it is wanted; empty otherwise.
    pub outcome: Vec<String>,
}

fn spool_error(e: io::Error) -> Error {
    Error::io(Path::new("stdin"), "cannot keep a copy of", e)
}

impl Input {
    /// Read and check every record of `reader`; keep the state outcome if `with_outcome`.
    pub fn read(reader: impl BufRead, with_outcome: bool) -> Result<Input, Error> {
        let mut input = Input {
            spool: tempfile::spooled_tempfile(SPOOL_IN_MEMORY),
            flow: Outcome::default(),
            tally: Tally::default(),
            outcome: Vec::new(),
        };
        // Lines go to the spool in blocks, not one write each.
        let mut block = Vec::with_capacity(2 * BLOCK);
        for record in Records::new(reader) {
            let record = record?;
            input.flow.observe(&record);
            input.tally.observe(&record);
            if with_outcome {
                input
                    .outcome
                    .extend(crate::state::outcome(std::slice::from_ref(&record)));
            }
            block.extend_from_slice(record.to_line().as_bytes());
            block.push(b'\n');
            if block.len() >= BLOCK {
                input.spool.write_all(&block).map_err(spool_error)?;
                block.clear();
            }
        }
        input.spool.write_all(&block).map_err(spool_error)?;
        input.outcome.sort();
        Ok(input)
    }

    /// Write every record, as read, to `out`.
    pub fn pass_through(&mut self, mut out: impl Write) -> Result<(), Error> {
        self.spool.rewind().map_err(spool_error)?;
        io::copy(&mut self.spool, &mut out)
            .and_then(|_| out.flush())
            .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))
    }

    /// The records again, one at a time, from the spool.
    pub fn records(&mut self) -> Result<impl Iterator<Item = Result<Record, Error>> + '_, Error> {
        self.spool.rewind().map_err(spool_error)?;
        Ok(Records::new(BufReader::new(&mut self.spool)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_pass_through_as_read_and_are_counted() {
        let text = "{\"name\":\"a\",\"update\":true}\n\n{\"name\":\"b\",\"ok\":false,\"error\":{\"kind\":\"permanent\"}}\r\n{ \"name\" : \"c\" }\n";
        let mut input = Input::read(text.as_bytes(), true).expect("valid");
        assert_eq!(
            input.tally,
            Tally {
                count: 3,
                failed: 1,
                updated: 1
            }
        );
        assert_eq!(
            input.outcome,
            ["a updated ", "b failed  permanent", "c unchanged"]
        );
        let mut out = Vec::new();
        input.pass_through(&mut out).expect("copied");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"name\":\"a\",\"update\":true}\n{\"name\":\"b\",\"ok\":false,\"error\":{\"kind\":\"permanent\"}}\n{ \"name\" : \"c\" }\n"
        );
        let names: Vec<String> = input
            .records()
            .expect("spool")
            .map(|r| r.expect("valid").name().unwrap_or_default().to_string())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number() {
        let text = "{\"name\":\"a\"}\nnot json\n";
        assert!(matches!(
            Input::read(text.as_bytes(), false),
            Err(Error::Input { line: 2, .. })
        ));
    }

    #[test]
    fn past_a_mebibyte_the_spool_is_a_file() {
        let line = format!("{{\"name\":\"a\",\"pad\":\"{}\"}}\n", "x".repeat(1000));
        let text = line.repeat(2000);
        let mut input = Input::read(text.as_bytes(), false).expect("valid");
        assert!(input.spool.is_rolled());
        let mut out = Vec::new();
        input.pass_through(&mut out).expect("copied");
        assert_eq!(out, text.as_bytes());
    }
}
