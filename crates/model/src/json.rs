//! esmond's JSON text: compact, floats as Python `repr()`, non-ASCII written raw except U+2028 and
//! U+2029, control characters escaped with lowercase hex.
//!
//! serde_json already writes compact output with lowercase `\u00XX` escapes and leaves `/` and
//! DEL alone; this formatter changes only floats and the two line separators.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, Serializer};

use crate::pyfmt::{float_repr, is_integer_literal};

/// A serde_json formatter that renders JSON exactly as esmond's Django REST framework does.
#[derive(Debug, Default, Clone, Copy)]
pub struct EsmondFormatter;

impl Formatter for EsmondFormatter {
    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(float_repr(value).as_bytes())
    }

    fn write_number_str<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        value: &str,
    ) -> io::Result<()> {
        // With `arbitrary_precision` every number arrives here as text: integers pass through,
        // anything with a fraction or exponent is a float and gets Python's rendering.
        if is_integer_literal(value) {
            return writer.write_all(value.as_bytes());
        }
        match value.parse::<f64>() {
            Ok(float) => self.write_f64(writer, float),
            Err(_) => writer.write_all(value.as_bytes()),
        }
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(index) = rest.find(['\u{2028}', '\u{2029}']) {
            writer.write_all(&rest.as_bytes()[..index])?;
            let separator = &rest[index..];
            let escaped: &[u8] = if separator.starts_with('\u{2028}') {
                b"\\u2028"
            } else {
                b"\\u2029"
            };
            writer.write_all(escaped)?;
            rest = &separator['\u{2028}'.len_utf8()..];
        }
        CompactFormatter.write_string_fragment(writer, rest)
    }
}

/// Returns the esmond rendering of `value` as bytes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, EsmondFormatter);
    // Serializing a `serde_json::Value` or a plain struct into memory cannot fail.
    value
        .serialize(&mut serializer)
        .expect("serializing json into memory cannot fail");
    out
}

/// Returns the esmond rendering of `value` as a string.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    String::from_utf8(to_vec(value)).expect("serde_json writes utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn output_is_compact_with_python_floats() {
        let value = json!([{"ts": 1398965989, "val": 5978580000.0}, {"v": 1e-05, "w": 1e16}]);
        assert_eq!(
            to_string(&value),
            r#"[{"ts":1398965989,"val":5978580000.0},{"v":1e-05,"w":1e+16}]"#
        );
    }

    #[test]
    fn parsed_numbers_keep_their_kind() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"a":5,"b":5.0,"c":2.50,"d":1E2}"#).unwrap();
        assert_eq!(to_string(&value), r#"{"a":5,"b":5.0,"c":2.5,"d":100.0}"#);
    }

    #[test]
    fn strings_escape_like_python() {
        let value = json!("é/\u{7f}\"\\\n\u{1}\u{2028}x\u{2029}");
        assert_eq!(
            to_string(&value),
            "\"é/\u{7f}\\\"\\\\\\n\\u0001\\u2028x\\u2029\""
        );
    }
}
