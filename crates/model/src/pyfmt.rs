//! Python-compatible text forms of values.
//!
//! esmond stores free-form metadata values as Python `str()` of the decoded JSON, hashes them into
//! the metadata checksum that way, renders floats with `repr()` and parses integers with `int()`.
//! Clients search for and compare these forms, so they are reproduced exactly here. No kept crate
//! does this, hence the hand-written code.

use serde_json::{Number, Value};

/// Returns Python's `repr()` of a float: the shortest round-trip digits, positional for decimal
/// exponents from -4 to 15 (always with a fractional part), scientific otherwise.
pub fn float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    // `{:e}` gives the shortest round-trip digits in the form `-d.ddde-x`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();

    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{whole}.{fraction}")
        };
        return format!("{sign}{text}");
    }
    let (first, rest) = digits.split_at(1);
    let fraction = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let exponent_sign = if exponent < 0 { '-' } else { '+' };
    format!(
        "{sign}{first}{fraction}e{exponent_sign}{:02}",
        exponent.unsigned_abs()
    )
}

/// Returns Python's `str()` of a JSON number: integers in decimal, floats through [`float_repr`].
///
/// With serde_json's `arbitrary_precision` the number keeps its posted text, so integers of any
/// size survive as Python's would.
pub fn number_str(number: &Number) -> String {
    let text = number.to_string();
    if is_integer_literal(&text) {
        // Python's int() of `-0` is 0.
        return if text == "-0" { "0".to_owned() } else { text };
    }
    float_repr(number.as_f64().unwrap_or(f64::NAN))
}

/// Returns whether a JSON number's text is an integer (no fraction, no exponent).
pub fn is_integer_literal(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

/// Returns Python's `str()` of a decoded JSON value.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => py_repr(other),
    }
}

/// Returns Python's `repr()` of a decoded JSON value (strings quoted, containers recursive).
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => number_str(number),
        Value::String(text) => string_repr(text),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", string_repr(key), py_repr(value)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Returns Python's `repr()` of a string: single quotes unless the text holds a single quote and
/// no double quote, with backslash escapes for the quote, `\`, and non-printable characters.
pub fn string_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Approximates Python's `str.isprintable()`: control, format, separator (other than the ASCII
/// space) and unassigned-surrogate-like characters are escaped.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c as u32, 0xad | 0x600..=0x605 | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0xfeff))
}

/// Parses an integer as Python's `int()` parses a string: surrounding whitespace, an optional
/// sign, and digits with single `_` separators. Returns `None` for anything else, and for values
/// outside `i64`.
pub fn parse_int(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.as_bytes().first()? {
        b'-' => (true, &trimmed[1..]),
        b'+' => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let digit = i64::from(c.to_digit(10)?);
        value = value
            .checked_mul(10)?
            .checked_add(if negative { -digit } else { digit })?;
    }
    Some(value)
}

/// Parses a number as Python's `float()` parses a string: surrounding whitespace, `_` between
/// digits, exponents, `inf`, `infinity` and `nan` in any case. Returns `None` for anything else.
pub fn parse_float(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    let bytes = trimmed.as_bytes();
    let mut cleaned = String::with_capacity(trimmed.len());
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'_' {
            // Python allows `_` only between two digits.
            let digit_before = index > 0 && bytes[index - 1].is_ascii_digit();
            let digit_after = bytes.get(index + 1).is_some_and(u8::is_ascii_digit);
            if !(digit_before && digit_after) {
                return None;
            }
            continue;
        }
        cleaned.push(byte as char);
    }
    let lowered = cleaned.to_ascii_lowercase();
    let unsigned = lowered.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < lowered.len() {
        return None;
    }
    match unsigned {
        "inf" | "infinity" | "nan" => lowered.parse().ok(),
        // Rust would also take words such as `infinit`; Python's digits-only forms remain.
        _ if unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-')) =>
        {
            lowered.parse().ok()
        }
        _ => None,
    }
}

/// Returns Python's `repr()` of a byte string (`b'…'`), as esmond quotes an undecodable body.
pub fn bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &byte in bytes {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            byte if byte == quote => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7e => out.push(byte as char),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_render_like_python_repr() {
        let cases = [
            (5978580000.0, "5978580000.0"),
            (0.001, "0.001"),
            (0.0001, "0.0001"),
            (41.09700000000001, "41.09700000000001"),
            (9999999999999998.0, "9999999999999998.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e-05, "1e-05"),
            (2.5e-07, "2.5e-07"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e22, "1e+22"),
            (0.1, "0.1"),
            (-123.456, "-123.456"),
            (6575755000.0, "6575755000.0"),
            (0.8944271909999159, "0.8944271909999159"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (value, expected) in cases {
            assert_eq!(float_repr(value), expected, "repr of {value:e}");
        }
    }

    #[test]
    fn json_values_render_like_python_str() {
        let cases = [
            (json!(20), "20"),
            (json!(0.1), "0.1"),
            (json!(true), "True"),
            (json!(false), "False"),
            (json!(null), "None"),
            (json!([1, 2]), "[1, 2]"),
            (json!(["a", "b"]), "['a', 'b']"),
            (
                json!({"k": "v", "n": [true, null]}),
                "{'k': 'v', 'n': [True, None]}",
            ),
            (json!("it's"), "it's"),
            (json!(["it's"]), "[\"it's\"]"),
            (json!(["a\"b'c"]), "['a\"b\\'c']"),
            (json!(["tab\there"]), "['tab\\there']"),
            (json!(["\u{1}é"]), "['\\x01é']"),
        ];
        for (value, expected) in cases {
            assert_eq!(py_str(&value), expected, "str of {value}");
        }
        let big: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
        assert_eq!(py_str(&big), "123456789012345678901234567890");
        let float: Value = serde_json::from_str("1.0").unwrap();
        assert_eq!(py_str(&float), "1.0");
        let exponent: Value = serde_json::from_str("1e5").unwrap();
        assert_eq!(py_str(&exponent), "100000.0");
    }

    #[test]
    fn floats_parse_like_python_float() {
        assert_eq!(parse_float(" 1e3 "), Some(1000.0));
        assert_eq!(parse_float("1_0.5"), Some(10.5));
        assert_eq!(parse_float("-0.25"), Some(-0.25));
        assert_eq!(parse_float("inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_float("nan").unwrap().is_nan());
        for bad in [
            "", "abc", "1_", "_1", "1__0", "0x10", "1.5.5", "--1", "infinit",
        ] {
            assert_eq!(parse_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bytes_render_like_python_repr() {
        assert_eq!(bytes_repr(b"{bad"), "b'{bad'");
        assert_eq!(bytes_repr(b"a\"b'c\n\xff"), "b'a\"b\\'c\\n\\xff'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"back\\slash\t"), "b'back\\\\slash\\t'");
    }

    #[test]
    fn integers_parse_like_python_int() {
        assert_eq!(parse_int("86400"), Some(86400));
        assert_eq!(parse_int(" 086400 "), Some(86400));
        assert_eq!(parse_int("-5"), Some(-5));
        assert_eq!(parse_int("+5"), Some(5));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("1__000"), None);
        assert_eq!(parse_int("_1"), None);
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
    }
}
