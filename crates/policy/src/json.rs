//! A JSON layer that keeps every object member, duplicates included, so that the strict
//! ("paranoid") parsing of containers/image (`signature/internal/json.go`) can be reproduced:
//! duplicate keys, unknown keys and wrong types are errors, with its error texts.

use std::fmt;

use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value. Objects keep all members in document order (duplicates too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a complete JSON document (trailing data is an error).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Json, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    /// The kind name Go's `encoding/json` uses in "cannot unmarshal X into …".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// Roughly Go's `%#v` of the first token of this value (for "JSON object expected, got …").
    fn token_description(&self) -> String {
        match self {
            Json::Null => "<nil>".into(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.to_string(),
            Json::String(s) => format!("{s:?}"),
            Json::Array(_) => "'['".into(),
            Json::Object(_) => "'{'".into(),
        }
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Json>()?;
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// Why a field resolver refused a member.
pub(crate) enum FieldError {
    /// The key is not accepted here (`Unknown key %q`).
    Unknown,
    /// The value is not acceptable.
    Invalid(String),
}

impl From<String> for FieldError {
    fn from(s: String) -> Self {
        FieldError::Invalid(s)
    }
}

/// `ParanoidUnmarshalJSONObject`: `value` must be an object; members are handed to `field` in
/// document order; a repeated key is `Duplicate key %q`, a refused one `Unknown key %q`.
pub(crate) fn paranoid_object<'a>(
    value: &'a Json,
    mut field: impl FnMut(&'a str, &'a Json) -> Result<(), FieldError>,
) -> Result<(), String> {
    let Json::Object(members) = value else {
        return Err(format!(
            "JSON object expected, got {}",
            value.token_description()
        ));
    };
    let mut seen: Vec<&'a str> = Vec::with_capacity(members.len());
    for (key, v) in members {
        if seen.contains(&key.as_str()) {
            return Err(format!("Duplicate key {key:?}"));
        }
        seen.push(key);
        match field(key, v) {
            Ok(()) => {}
            Err(FieldError::Unknown) => return Err(format!("Unknown key {key:?}")),
            Err(FieldError::Invalid(e)) => return Err(e),
        }
    }
    Ok(())
}

/// `ParanoidUnmarshalJSONObjectExactFields`: exactly the keys in `fields`, each present once;
/// returns their values in the order of `fields`.
pub(crate) fn exact_fields<'a, const N: usize>(
    value: &'a Json,
    fields: [&str; N],
) -> Result<[&'a Json; N], String> {
    let mut found: [Option<&'a Json>; N] = [None; N];
    paranoid_object(value, |key, v| {
        match fields.iter().position(|f| *f == key) {
            Some(i) => {
                found[i] = Some(v);
                Ok(())
            }
            None => Err(FieldError::Unknown),
        }
    })?;
    let mut out: [&'a Json; N] = [&Json::Null; N];
    for (i, f) in fields.iter().enumerate() {
        match found[i] {
            Some(v) => out[i] = v,
            None => return Err(format!("Key {f:?} missing in a JSON object")),
        }
    }
    Ok(out)
}

fn type_error(v: &Json, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go value of type {go_type}",
        v.kind()
    )
}

/// Decodes into a Go `string`: `null` leaves the zero value (`""`).
pub(crate) fn go_string(v: &Json) -> Result<String, String> {
    match v {
        Json::Null => Ok(String::new()),
        Json::String(s) => Ok(s.clone()),
        other => Err(type_error(other, "string")),
    }
}

/// Decodes into a Go `[]string`: `null` is `nil` (`None`); `null` elements are `""`.
pub(crate) fn go_string_list(v: &Json) -> Result<Option<Vec<String>>, String> {
    match v {
        Json::Null => Ok(None),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::Null => Ok(String::new()),
                Json::String(s) => Ok(s.clone()),
                other => Err(type_error(other, "string")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(type_error(other, "[]string")),
    }
}

/// Go's `base64.StdEncoding` (padding required, non-zero trailing bits tolerated; `\r` and `\n`
/// are skipped as Go's decoder does).
fn go_base64(s: &str) -> Result<Vec<u8>, String> {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    );
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    ENGINE.decode(cleaned.as_bytes()).map_err(|e| match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => {
            format!("illegal base64 data at input byte {i}")
        }
        other => format!("illegal base64 data: {other}"),
    })
}

/// Decodes into a Go `[]byte` (a base64 string): `null` is `nil` (`None`).
pub(crate) fn go_bytes(v: &Json) -> Result<Option<Vec<u8>>, String> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => go_base64(s).map(Some),
        other => Err(type_error(other, "[]uint8")),
    }
}

/// Decodes into a Go `[][]byte`: `null` is `nil` (`None`); `null` elements are empty.
pub(crate) fn go_bytes_list(v: &Json) -> Result<Option<Vec<Vec<u8>>>, String> {
    match v {
        Json::Null => Ok(None),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::Null => Ok(Vec::new()),
                Json::String(s) => go_base64(s),
                other => Err(type_error(other, "[]uint8")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(type_error(other, "[][]uint8")),
    }
}

/// Decodes into a Go `float64`: `null` leaves 0.
pub(crate) fn go_float(v: &Json) -> Result<f64, String> {
    match v {
        Json::Null => Ok(0.0),
        Json::Number(n) => Ok(*n),
        other => Err(type_error(other, "float64")),
    }
}

/// A field that Go would decode with standard (lenient) `encoding/json` into a struct holding
/// only `type`: the last member named exactly `type` (or `""` when absent or `null`).
pub(crate) fn type_field(v: &Json, go_type: &str) -> Result<String, String> {
    match v {
        Json::Null => Ok(String::new()),
        Json::Object(members) => match members.iter().rev().find(|(k, _)| k == "type") {
            None => Ok(String::new()),
            Some((_, t)) => go_string(t),
        },
        other => Err(type_error(other, go_type)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicates_and_detects_them() {
        let v = Json::parse(br#"{"a":1,"a":2}"#).unwrap();
        let err = paranoid_object(&v, |_, _| Ok(())).unwrap_err();
        assert_eq!(err, r#"Duplicate key "a""#);
    }

    #[test]
    fn exact_fields_reports_missing_and_unknown() {
        let v = Json::parse(br#"{"a":1}"#).unwrap();
        assert_eq!(
            exact_fields(&v, ["a", "b"]).unwrap_err(),
            r#"Key "b" missing in a JSON object"#
        );
        let v = Json::parse(br#"{"a":1,"c":2}"#).unwrap();
        assert_eq!(exact_fields(&v, ["a"]).unwrap_err(), r#"Unknown key "c""#);
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(go_base64("aGk=").unwrap(), b"hi");
        assert_eq!(go_base64("aG\nk=").unwrap(), b"hi");
        assert!(go_base64("aGk").is_err());
        assert!(go_base64("a*k=").is_err());
        assert_eq!(go_base64("").unwrap(), b"");
    }

    #[test]
    fn not_an_object() {
        let v = Json::parse(b"[1]").unwrap();
        assert_eq!(
            paranoid_object(&v, |_, _| Ok(())).unwrap_err(),
            "JSON object expected, got '['"
        );
        let v = Json::parse(b"null").unwrap();
        assert_eq!(
            paranoid_object(&v, |_, _| Ok(())).unwrap_err(),
            "JSON object expected, got <nil>"
        );
    }
}
