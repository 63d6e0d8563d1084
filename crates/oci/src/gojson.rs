//! JSON written exactly as Go's `encoding/json.Marshal` writes it, because cosign and
//! go-containerregistry sign and store those bytes: compact, no trailing newline, struct fields
//! in declaration order (our serde structs mirror the Go field order), map keys sorted byte-wise,
//! and the HTML-safe escapes `<` `>` `&` → `\u003c` `\u003e` `\u0026` plus U+2028/U+2029.

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::Formatter;

/// A `serde_json` formatter that escapes strings as Go's encoder does.
#[derive(Debug, Default, Clone, Copy)]
pub struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Serialises `value` as Go's `json.Marshal` would. Map keys must already be ordered (use
/// `BTreeMap` for Go maps); for free-form [`Value`]s use [`value_to_vec`].
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    // Serialising our own data types into a Vec cannot fail: no I/O errors, and every map key
    // is a string.
    if value.serialize(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// Serialises a free-form JSON value as Go marshals a `map[string]interface{}`: object keys
/// sorted byte-wise at every depth, whatever order the `Value` holds them in.
pub fn value_to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(to_vec(k));
                out.push(b':');
                write_value(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        other => out.extend(to_vec(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn escapes_like_go() {
        let m: BTreeMap<&str, &str> = [("b", "<x> & y\u{2028}"), ("a", "/\n\"")].into();
        assert_eq!(
            String::from_utf8(to_vec(&m)).unwrap(),
            r#"{"a":"/\n\"","b":"\u003cx\u003e \u0026 y\u2028"}"#
        );
    }

    #[test]
    fn value_keys_sorted_at_every_depth() {
        let v: Value =
            serde_json::from_str(r#"{"z":{"y":1,"b":[{"d":1,"c":"<"}]},"a":null}"#).unwrap();
        assert_eq!(
            String::from_utf8(value_to_vec(&v)).unwrap(),
            r#"{"a":null,"z":{"b":[{"c":"\u003c","d":1}],"y":1}}"#
        );
    }
}
