//! The last line of defence for phone numbers in logs: every formatted log line passes through
//! [`redact`] on its way to stdout. Fields we write ourselves are masked at the source; this catches
//! the text we do not control: serde's "invalid type: integer `8618612345678`", a database error
//! quoting a row, actix's debug log of an error response.
//!
//! JSON lines are parsed and only their string values are redacted, so a line stays valid JSON and
//! numeric fields (latencies, counts) keep their value.

use std::io::{self, Write};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use super::redact;

/// Makes stdout writers that redact what they are given.
#[derive(Debug, Clone, Copy)]
pub struct RedactingStdout {
    pub json: bool,
}

impl<'a> MakeWriter<'a> for RedactingStdout {
    type Writer = Redacting<io::Stdout>;

    fn make_writer(&'a self) -> Self::Writer {
        Redacting {
            inner: io::stdout(),
            json: self.json,
        }
    }
}

/// A writer given one whole formatted event per `write` (how `tracing-subscriber` writes).
pub struct Redacting<W> {
    inner: W,
    json: bool,
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let redacted = if self.json {
            redact_json_lines(&text)
        } else {
            redact(&text)
        };
        self.inner.write_all(redacted.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn redact_json_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        match serde_json::from_str::<Value>(body) {
            Ok(mut event) => {
                redact_strings(&mut event);
                out.push_str(&event.to_string());
            }
            Err(_) => out.push_str(&redact(body)),
        }
        out.push_str(newline);
    }
    out
}

fn redact_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            let redacted = redact(s);
            if redacted != *s {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(fields) => fields.values_mut().for_each(redact_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(json: bool, line: &str) -> String {
        let mut writer = Redacting {
            inner: Vec::new(),
            json,
        };
        writer.write_all(line.as_bytes()).unwrap();
        String::from_utf8(writer.inner).unwrap()
    }

    #[test]
    fn json_lines_stay_json_with_numbers_masked_in_strings_only() {
        let line = r#"{"message":"bad","error":"invalid type: integer `8618612345678`","latency_ms":1.234567891,"bytes":10485760}"#;
        let out = written(true, &format!("{line}\n"));
        assert!(out.ends_with('\n'));
        let event: Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(event["error"], "invalid type: integer `861861****5678`");
        assert_eq!(event["latency_ms"], 1.234567891);
        assert_eq!(event["bytes"], 10485760);
    }

    #[test]
    fn text_lines_are_masked_whole() {
        let out = written(
            false,
            "ERROR callback failed error=invalid type: integer 8618612345678\n",
        );
        assert_eq!(
            out,
            "ERROR callback failed error=invalid type: integer 861861****5678\n"
        );
    }
}
