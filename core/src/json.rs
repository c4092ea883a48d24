//! Strict JSON reading, and JSON reports that are harmless on a terminal.
//!
//! Every JSON document `canary` reads goes through [`from_slice`]: the
//! document is first walked once to refuse duplicate object keys at any depth
//! (serde_json would silently keep the last one, so two readers could see two
//! different documents), then parsed into the typed model, whose structs deny
//! unknown fields. serde_json's recursion limit (128) bounds nesting.

use std::borrow::Cow;
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
///
/// Three passes over the bytes at most: the untyped reading refuses
/// duplicate keys as it goes (the same errors, at the same place, as
/// [`from_slice`]), the typed one gives serde's messages, and the
/// comparison walks for a message only when the two readings differ.
pub fn from_slice_exact<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, JsonError> {
    let StrictValue(read) = serde_json::from_slice(bytes).map_err(describe)?;
    let t: T = serde_json::from_slice(bytes).map_err(describe)?;
    let back = serde_json::to_value(&t).map_err(|e| JsonError(e.to_string()))?;
    // `==` on values is exactly "first_difference finds none".
    if back == read {
        return Ok(t);
    }
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
        let mut seen = Seen::default();
        while let Some(Key(key)) = map.next_key()? {
            if !seen.insert(key) {
                return Err(duplicate(seen.last()));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format!("duplicate key `{}`", crate::sanitize::line(key)))
}

/// An object key, borrowed from the document when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The keys of one object so far: a short list searched in place (objects
/// in these formats have a dozen keys), a hash set past that, so a hostile
/// object of a million keys costs no more than linear time.
enum Seen<'de> {
    Few(Vec<Cow<'de, str>>),
    Many(HashSet<Cow<'de, str>>, Cow<'de, str>),
}

impl Default for Seen<'_> {
    fn default() -> Self {
        Seen::Few(Vec::new())
    }
}

impl<'de> Seen<'de> {
    const FEW: usize = 16;

    /// Records `key`; false when it was already there.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        match self {
            Seen::Few(keys) if keys.contains(&key) => {
                keys.push(key);
                false
            }
            Seen::Few(keys) if keys.len() < Self::FEW => {
                keys.push(key);
                true
            }
            Seen::Few(keys) => {
                let set = keys.drain(..).collect();
                *self = Seen::Many(set, Cow::Borrowed(""));
                self.insert(key)
            }
            Seen::Many(set, last) => {
                let fresh = set.insert(key.clone());
                *last = key;
                fresh
            }
        }
    }

    /// The key inserted last.
    fn last(&self) -> &str {
        match self {
            Seen::Few(keys) => keys.last().map_or("", |k| k),
            Seen::Many(_, last) => last,
        }
    }
}

/// Any JSON value whose objects have no repeated key, read in one pass.
#[derive(Debug)]
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        // As serde_json's own `Value` reads it (JSON has no NaN).
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(Key(key)) = map.next_key()? {
            // Refused before the value is read, where `NoDuplicateKeys`
            // refuses it, so the error names the same place.
            if object.contains_key(key.as_ref()) {
                return Err(duplicate(&key));
            }
            let StrictValue(v) = map.next_value()?;
            object.insert(key.into_owned(), v);
        }
        Ok(Value::Object(object))
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

    /// The one-pass reading of `from_slice_exact` refuses what the two
    /// passes of `from_slice` refuse, with the same message and position.
    #[test]
    fn exact_reading_names_duplicates_where_from_slice_does() {
        let docs: [&[u8]; 5] = [
            br#"{"a":1,"a":2}"#,
            br#"{"a":1,"b":null,"c":[{"x":"1","x":"2"}]}"#,
            br#"{"a":1,"\u0061":2}"#,
            br#"{"c":[],"b":{"k":{"k":1,"k":2}},"a":1}"#,
            br#"{"a":1,"a":{"#,
        ];
        for doc in docs {
            let two = from_slice::<serde_json::Value>(doc).unwrap_err();
            let one = from_slice_exact::<S>(doc).unwrap_err();
            assert_eq!(one, two, "{}", String::from_utf8_lossy(doc));
        }
        let e = from_slice_exact::<S>(br#"{"a":1,"\u0061":2}"#).unwrap_err();
        assert_eq!(
            e.0,
            "unexpected content: duplicate key `a` at line 1 column 15"
        );
    }

    /// Past the short list, duplicates are still found (and in linear
    /// time: a hash set takes over).
    #[test]
    fn objects_with_many_keys_still_refuse_duplicates() {
        for n in [Seen::FEW - 1, Seen::FEW, Seen::FEW + 1, 5_000] {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            let clean = format!("{{{}}}", keys.join(","));
            assert!(from_slice::<serde_json::Value>(clean.as_bytes()).is_ok());
            assert!(serde_json::from_slice::<StrictValue>(clean.as_bytes()).is_ok());
            for dup in [0, n / 2, n - 1] {
                let doc = format!("{{{},\"k{dup}\":0}}", keys.join(","));
                let e = from_slice::<serde_json::Value>(doc.as_bytes()).unwrap_err();
                assert!(e.0.contains(&format!("duplicate key `k{dup}`")), "{e}");
                let e = serde_json::from_slice::<StrictValue>(doc.as_bytes()).unwrap_err();
                assert!(
                    e.to_string().contains(&format!("duplicate key `k{dup}`")),
                    "{e}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Where there is no duplicate, the one-pass reading is serde_json's.
        #[test]
        fn strict_value_reads_what_serde_json_reads(doc in json_text()) {
            let ours = serde_json::from_slice::<StrictValue>(doc.as_bytes()).map(|v| v.0);
            let theirs = serde_json::from_slice::<serde_json::Value>(doc.as_bytes());
            match (ours, theirs) {
                (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
                (Err(a), Err(b)) => proptest::prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => proptest::prop_assert!(false, "{:?} vs {:?}", a, b),
            }
        }
    }

    /// JSON-ish text: numbers of every kind, escapes, nesting, and now and
    /// then a stray character so errors are compared too.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| format!("{n:e}")),
            Just("1e400".to_string()),
            "[a-z\\\\\"é]{0,6}".prop_map(|s| format!("\"{s}\"")),
            Just("\"\\u00e9\\ud83d\\ude00\"".to_string()),
            Just("[".to_string()),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::btree_map("[a-z]{1,3}", inner, 0..5).prop_map(|m| {
                    let fields: Vec<String> =
                        m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        })
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
