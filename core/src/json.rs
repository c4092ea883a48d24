//! Strict JSON reading, and JSON reports that are harmless on a terminal.
//!
//! Every JSON document `canary` reads goes through [`from_slice`]: the
//! document is first walked once to refuse duplicate object keys at any depth
//! (serde_json would silently keep the last one, so two readers could see two
//! different documents), then parsed into the typed model, whose structs deny
//! unknown fields. serde_json's recursion limit (128) bounds nesting.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON document could not be read into the expected model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

/// Parses `bytes` as `T`, refusing duplicate keys anywhere in the document.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_slice::<NoDuplicateKeys>(bytes).map_err(describe)?;
    serde_json::from_slice::<T>(bytes).map_err(describe)
}

/// Like [`from_slice`], and the document must also be what `T` serialises
/// back to (up to whitespace, key order and string escapes). serde alone
/// accepts an array in place of an object (fields by position) and a left-out
/// `null` field; the signed formats (envelope, statement, policy) use this so
/// a document has one reading in every implementation of docs/FORMAT.md.
pub fn from_slice_exact<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, JsonError> {
    let t: T = from_slice(bytes)?;
    let read: Value = serde_json::from_slice(bytes).map_err(describe)?;
    let back = serde_json::to_value(&t).map_err(|e| JsonError(e.to_string()))?;
    match first_difference(&back, &read, &mut "$".to_string()) {
        None => Ok(t),
        Some(d) => Err(JsonError(format!("not in the canonical form: {d}"))),
    }
}

/// Where `got` departs from `want`, as a JSONPath-like location.
fn first_difference(want: &Value, got: &Value, path: &mut String) -> Option<String> {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let len = path.len();
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let key = crate::sanitize::line(k);
                let Some(gv) = g.get(k) else {
                    let what = if wv.is_null() { "null" } else { kind(wv) };
                    return Some(format!("`{path}.{key}` is missing (write {what})"));
                };
                path.push('.');
                path.push_str(&key);
                if let Some(d) = first_difference(wv, gv, path) {
                    return Some(d);
                }
                path.truncate(len);
            }
            g.keys().find(|k| !w.contains_key(*k)).map(|k| {
                format!(
                    "`{path}.{}` must be left out rather than {}",
                    crate::sanitize::line(k),
                    kind(&g[k])
                )
            })
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                path.push_str(&format!("[{i}]"));
                if let Some(d) = first_difference(wv, gv, path) {
                    return Some(d);
                }
                path.truncate(len);
            }
            None
        }
        _ if want == got => None,
        _ if kind(want) != kind(got) => Some(format!(
            "at `{path}`: expected {}, found {}",
            kind(want),
            kind(got)
        )),
        _ => Some(format!("at `{path}`: {got} is not written as {want}")),
    }
}

fn describe(e: serde_json::Error) -> JsonError {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "truncated JSON",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected content",
        Category::Io => "read error",
    };
    // serde_json's Display already ends in "at line L column C".
    JsonError(format!("{what}: {e}"))
}

/// Accepts any JSON value whose objects have no repeated key.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDupVisitor)
    }
}

struct NoDupVisitor;

impl<'de> Visitor<'de> for NoDupVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{}`",
                    crate::sanitize::line(&key)
                )));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }
}

/// Pretty JSON for a report (`--json`), ending in a newline, with every
/// character [`crate::sanitize::is_dangerous`] names (controls, bidi
/// overrides, invisible characters) written as a `\uXXXX` escape: the same
/// JSON value, harmless when someone prints it to a terminal.
pub fn to_report<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Harmless::default());
    // Reports are plain data (string keys, no custom serialisers that fail).
    if value.serialize(&mut ser).is_err() {
        return "null\n".into();
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// serde_json's pretty layout, escaping dangerous characters in strings.
#[derive(Default)]
struct Harmless<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for Harmless<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if crate::sanitize::is_dangerous(c) {
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            } else {
                let mut b = [0u8; 4];
                w.write_all(c.encode_utf8(&mut b).as_bytes())?;
            }
        }
        Ok(())
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
        b: Option<serde_json::Value>,
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        assert!(from_slice::<T>(br#"{"a":1,"a":2}"#).is_err());
        let e = from_slice::<T>(br#"{"a":1,"b":[{"x":1,"x":2}]}"#).unwrap_err();
        assert!(e.0.contains("duplicate key `x`"), "{e}");
    }

    #[test]
    fn accepts_clean_documents_and_names_problems() {
        assert!(from_slice::<T>(br#"{"a":1,"b":{"x":[1,2,{"y":null}]}}"#).is_ok());
        assert!(from_slice::<T>(br#"{"a":1,"c":2}"#)
            .unwrap_err()
            .0
            .contains("unknown field"));
        assert!(from_slice::<T>(br#"{"a":1"#)
            .unwrap_err()
            .0
            .starts_with("truncated JSON"));
        assert!(from_slice::<T>(br#"{"a":"x"}"#)
            .unwrap_err()
            .0
            .contains("invalid type"));
    }

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct S {
        a: u32,
        b: Option<u32>,
        c: Vec<Inner>,
    }

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        x: String,
    }

    #[test]
    fn exact_documents_have_one_shape() {
        assert!(from_slice_exact::<S>(br#"{"c":[{"x":"\u0061"}],"b":null,"a":1}"#).is_ok());
        let e = |doc: &[u8]| from_slice_exact::<S>(doc).unwrap_err().0;
        assert!(
            from_slice::<S>(br#"[1,null,[]]"#).is_ok(),
            "serde reads arrays as structs"
        );
        assert_eq!(
            e(br#"[1,null,[]]"#),
            "not in the canonical form: at `$`: expected an object, found an array"
        );
        assert_eq!(
            e(br#"{"a":1,"b":null,"c":[["y"]]}"#),
            "not in the canonical form: at `$.c[0]`: expected an object, found an array"
        );
        assert_eq!(
            e(br#"{"a":1,"c":[]}"#),
            "not in the canonical form: `$.b` is missing (write null)"
        );
    }

    /// `depth` arrays, one inside the other: a complete, well-formed
    /// document (`[[[]]]` for 3).
    fn nested(depth: usize) -> Vec<u8> {
        ["[".repeat(depth), "]".repeat(depth)].concat().into_bytes()
    }

    /// The deepest nesting read: serde_json refuses a 128th level.
    const MAX_DEPTH: usize = 127;

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for depth in [MAX_DEPTH + 1, 1_000, 100_000] {
            let doc = nested(depth);
            let e = from_slice::<serde_json::Value>(&doc).unwrap_err();
            assert_eq!(
                e.0,
                format!(
                    "invalid JSON: recursion limit exceeded at line 1 column {}",
                    MAX_DEPTH + 1
                ),
                "depth {depth}"
            );
        }
        // Inside a field of a typed document too.
        let mut doc = br#"{"a":1,"b":"#.to_vec();
        doc.extend(nested(MAX_DEPTH));
        doc.push(b'}');
        let e = from_slice::<T>(&doc).unwrap_err();
        assert!(e.0.contains("recursion limit exceeded"), "{e}");
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        let v: serde_json::Value = from_slice(&nested(MAX_DEPTH)).unwrap();
        let mut depth = 0;
        let mut at = &v;
        while let Some(inner) = at.as_array().and_then(|a| a.first()) {
            depth += 1;
            at = inner;
        }
        assert_eq!(depth + 1, MAX_DEPTH, "every level was read");
        let mut doc = br#"{"a":1,"b":"#.to_vec();
        doc.extend(nested(MAX_DEPTH - 1));
        doc.push(b'}');
        assert!(from_slice::<T>(&doc).is_ok());
    }

    /// A report's strings keep their value but show no dangerous
    /// character raw; the layout is serde_json's pretty one.
    #[test]
    fn reports_escape_dangerous_characters_and_keep_the_value() {
        let v = serde_json::json!({
            "org": "Evil\u{202e}gro",
            "tag": "a\u{e0041}b",
            "c1": "x\u{9b}31m",
            "nice": "Ünïcödé \"quoted\" \\ ok",
            "list": [1, "two"],
        });
        let text = to_report(&v);
        for raw in ['\u{202e}', '\u{e0041}', '\u{9b}'] {
            assert!(!text.contains(raw), "{text}");
        }
        assert!(text.contains("Evil\\u202egro"), "{text}");
        assert!(text.contains("a\\udb40\\udc41b"), "{text}");
        assert!(text.contains("Ünïcödé \\\"quoted\\\" \\\\ ok"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert_eq!(
            text.lines().count(),
            serde_json::to_string_pretty(&v).unwrap().lines().count()
        );
        assert!(text.ends_with("}\n"));
    }
}
