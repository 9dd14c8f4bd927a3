//! Reading and writing flow records as JSON Lines.
//!
//! Input: one JSON object per line; blank lines are skipped; every error names its line
//! number. [`read_all`] validates a whole stream before the caller acts on any of it, which is
//! how "bad input is rejected before anything is changed" holds. Output: one record per line,
//! flushed as it is written so the next command in the pipeline sees it at once, and observed
//! by an [`Outcome`] so the exit status reflects every record emitted.

use std::io::{self, BufRead, Write};

use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::record::Record;

/// Records from a reader, one per non-blank line, each checked as it is read.
pub struct Records<R> {
    reader: R,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Records<R> {
    pub fn new(reader: R) -> Records<R> {
        Records {
            reader,
            line: 0,
            buf: Vec::new(),
        }
    }
}

impl<R: BufRead> Iterator for Records<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(Error::io("stdin".as_ref(), "cannot read", e))),
            }
            self.line += 1;
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                return Some(Err(Error::Input {
                    line: self.line,
                    message: "not UTF-8".into(),
                }));
            };
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.trim().is_empty() {
                continue;
            }
            return Some(Record::parse(text, self.line));
        }
    }
}

/// Read and check every record of a stream before anything acts on one.
pub fn read_all(reader: impl BufRead) -> Result<Vec<Record>> {
    Records::new(reader).collect()
}

/// Writes records, one per line, flushing each, and keeps the [`Outcome`] of what it wrote.
pub struct RecordWriter<W: Write> {
    out: W,
    outcome: Outcome,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W) -> RecordWriter<W> {
        RecordWriter {
            out,
            outcome: Outcome::default(),
        }
    }

    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.outcome.observe(record);
        let mut line = record.to_line();
        line.push('\n');
        self.out.write_all(line.as_bytes())?;
        self.out.flush()
    }

    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitCode;

    #[test]
    fn blank_lines_are_skipped_and_errors_carry_the_physical_line_number() {
        let input = "{\"name\":\"a\"}\n\n  \n{\"name\":\"b\"}\r\nnope\n";
        let got: Vec<_> = Records::new(input.as_bytes()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].as_ref().ok().and_then(|r| r.name()), Some("b"));
        match &got[2] {
            Err(Error::Input { line, .. }) => assert_eq!(*line, 5),
            other => panic!("{other:?}"),
        }
        assert!(read_all(input.as_bytes()).is_err());
    }

    #[test]
    fn invalid_utf8_is_bad_input() {
        let input = b"{\"name\":\"a\xff\"}\n";
        assert!(matches!(
            read_all(&input[..]),
            Err(Error::Input { line: 1, .. })
        ));
    }

    #[test]
    fn the_writer_keeps_the_outcome() {
        let recs = read_all(
            "{\"name\":\"a\"}\n{\"name\":\"b\",\"ok\":false,\"error\":{\"kind\":\"transient\"}}\n"
                .as_bytes(),
        )
        .expect("valid");
        let mut w = RecordWriter::new(Vec::new());
        for r in &recs {
            w.write(r).expect("write to memory");
        }
        assert_eq!(w.outcome().exit_code(), ExitCode::TempFail);
        assert_eq!(
            String::from_utf8(w.out).expect("utf8"),
            "{\"name\":\"a\"}\n{\"name\":\"b\",\"ok\":false,\"error\":{\"kind\":\"transient\"}}\n"
        );
    }
}
