//! JSON as the clients really send it.
//!
//! JavaScript strings are UTF-16 and may hold a lone surrogate; `JSON.stringify` then writes it as an
//! escape (`"\ud800"`), which is valid JSON text but no Unicode scalar value, so `serde_json` refuses the
//! whole document. A hook that refused such an event would give no verdict at all, and the call would run:
//! one unpaired surrogate in a comment would switch every guard off. [`from_slice`] parses as `serde_json`
//! does, and on that one refusal parses again with every unpaired surrogate escape replaced by `\ufffd`
//! (the replacement character, six bytes for six), so the verdict is decided on the rest of the text.
//!
//! An event's `tool_input` and `tool_response` stay raw until a hook reads them, and a raw value is not
//! checked for surrogates when the event is parsed: so [`crate::Event::parse_as`] repairs the whole input
//! with [`replace_lone_surrogates`] first. Input with no `\ud` in it costs one vectorised search.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

/// Parses `bytes` as `serde_json::from_slice` does, except that an unpaired UTF-16 surrogate escape
/// (`\ud800`, a low `\udc00` with no high one before it) reads as U+FFFD instead of failing the parse.
///
/// # Errors
/// The `serde_json` error of the text with lone surrogates replaced (any other malformation).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => match replace_lone_surrogates(bytes) {
            Cow::Owned(fixed) => serde_json::from_slice(&fixed),
            Cow::Borrowed(_) => Err(first),
        },
    }
}

/// `bytes` with each unpaired surrogate escape replaced by `\ufffd`; borrowed when there is none. Escapes
/// are read in order from each backslash, so `\\ud800` (an escaped backslash, then text) is left alone.
#[must_use]
pub fn replace_lone_surrogates(bytes: &[u8]) -> Cow<'_, [u8]> {
    // Every surrogate escape starts `\ud` or `\uD`: text with neither is returned at the cost of a
    // vectorised search.
    if memchr::memmem::find(bytes, b"\\ud").is_none()
        && memchr::memmem::find(bytes, b"\\uD").is_none()
    {
        return Cow::Borrowed(bytes);
    }
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = unicode_escape(bytes, i) else {
            // Any other escape is two bytes: `\\`, `\"`, `\n`, …
            i += 2;
            continue;
        };
        let high = (0xD800..0xDC00).contains(&unit);
        let low = (0xDC00..0xE000).contains(&unit);
        if high && unicode_escape(bytes, i + 6).is_some_and(|u| (0xDC00..0xE000).contains(&u)) {
            i += 12;
            continue;
        }
        if high || low {
            let fixed = out.get_or_insert_with(|| bytes.to_vec());
            fixed[i..i + 6].copy_from_slice(b"\\ufffd");
        }
        i += 6;
    }
    out.map_or(Cow::Borrowed(bytes), Cow::Owned)
}

/// The code unit of a `\uXXXX` escape starting at `at`, if one does.
fn unicode_escape(bytes: &[u8], at: usize) -> Option<u32> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u32::from_str_radix(hex, 16).ok()
}

/// `raw`, a JSON object, with each `(from, to)` key of `renames` renamed (unless `to` is there already);
/// `None` when it is not an object or nothing was renamed. How a client's tool input is read with Claude
/// Code's field names.
#[must_use]
pub fn rename_keys(
    raw: &serde_json::value::RawValue,
    renames: &[(&str, &str)],
) -> Option<Box<serde_json::value::RawValue>> {
    let Ok(serde_json::Value::Object(mut object)) =
        serde_json::from_str::<serde_json::Value>(raw.get())
    else {
        return None;
    };
    let mut changed = false;
    for (from, to) in renames {
        if !object.contains_key(*to)
            && let Some(v) = object.remove(*from)
        {
            object.insert((*to).to_owned(), v);
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let text = serde_json::to_string(&serde_json::Value::Object(object)).ok()?;
    serde_json::value::RawValue::from_string(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_lone_surrogate_reads_as_the_replacement_character() {
        let v: Value = from_slice(br#"{"a":"x\ud800y","b":"\udc00"}"#).unwrap();
        assert_eq!(v["a"], "x\u{fffd}y");
        assert_eq!(v["b"], "\u{fffd}");
        assert!(serde_json::from_slice::<Value>(br#"{"a":"x\ud800y"}"#).is_err());
    }

    #[test]
    fn a_surrogate_pair_is_kept_and_escaped_backslashes_are_text() {
        let v: Value =
            from_slice(br#"{"a":"\ud83d\ude00","b":"\\ud800","c":"\ud800\ud800\udc00"}"#).unwrap();
        assert_eq!(v["a"], "\u{1f600}");
        assert_eq!(v["b"], "\\ud800");
        assert_eq!(v["c"], "\u{fffd}\u{10000}");
    }

    #[test]
    fn other_malformations_still_fail_and_clean_text_is_not_copied() {
        assert!(from_slice::<Value>(br#"{"a":"\ud800"#).is_err());
        assert!(matches!(
            replace_lone_surrogates(br#"{"a":"\u00e9"}"#),
            Cow::Borrowed(_)
        ));
    }
}
