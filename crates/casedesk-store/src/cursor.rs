//! Opaque list cursors: the sort key of the last row of a page, base64url-encoded JSON. A cursor
//! names its ordering, so one issued for another ordering is refused instead of misread.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::StoreError;

/// A decoded sort key value.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Int(i64),
    Text(String),
}

pub fn encode(ordering: &str, keys: &[Key]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| match k {
            Key::Int(i) => json!(i),
            Key::Text(s) => json!(s),
        })
        .collect();
    URL_SAFE_NO_PAD.encode(json!({ "o": ordering, "k": keys }).to_string())
}

/// Decodes a cursor for `ordering`, which must have `shape.len()` keys of the given kinds
/// (`true` = integer).
pub fn decode(cursor: &str, ordering: &str, shape: &[bool]) -> Result<Vec<Key>, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| StoreError::InvalidCursor)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if v.get("o").and_then(Value::as_str) != Some(ordering) {
        return Err(StoreError::InvalidCursor);
    }
    let keys = v.get("k").and_then(Value::as_array).ok_or(StoreError::InvalidCursor)?;
    if keys.len() != shape.len() {
        return Err(StoreError::InvalidCursor);
    }
    keys.iter()
        .zip(shape)
        .map(|(k, &int)| match (k, int) {
            (Value::Number(n), true) => n.as_i64().map(Key::Int).ok_or(StoreError::InvalidCursor),
            (Value::String(s), false) => Ok(Key::Text(s.clone())),
            _ => Err(StoreError::InvalidCursor),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = encode("-created_at", &[Key::Int(42), Key::Int(7)]);
        assert_eq!(decode(&c, "-created_at", &[true, true]).ok(), Some(vec![Key::Int(42), Key::Int(7)]));
        assert!(decode(&c, "created_at", &[true, true]).is_err(), "another ordering");
        assert!(decode(&c, "-created_at", &[true]).is_err(), "another shape");
        assert!(decode("not base64!", "-created_at", &[true, true]).is_err());
        assert!(decode(&encode("x", &[Key::Text("a".into())]), "x", &[true]).is_err());
    }
}
