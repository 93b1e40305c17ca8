//! `name = value` by hand, around a keyword of the assignment rule: the name is the identifier holding
//! the keyword (`[A-Za-z0-9_.-]`), then a closing quote may follow (`"api_key": …`), blanks, one of `:=`,
//! `=>`, `=`, `:`, blanks, and the value: a double- or single-quoted string on one line, or a bare run up to
//! a blank, a quote, `,` or `;`. (A regex said the same; compiling it cost more than the rest of a run.)

use std::ops::Range;

/// An assignment found around a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    /// The name's bytes.
    pub(crate) name: Range<usize>,
    /// The value's bytes (inside the quotes, when quoted).
    pub(crate) value: Range<usize>,
}

fn ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The end of the name and what follows it up to the value, from `at` (just past the keyword):
/// the offset where the value starts, or `None` when no assignment follows.
fn operator_end(text: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let get = |i: usize| text.get(i).copied();
    while get(at).is_some_and(ident) {
        at += 1;
    }
    let name_end = at;
    if get(at) == Some(b'\\') {
        at += 1;
    }
    if matches!(get(at), Some(b'"' | b'\'')) {
        at += 1;
    }
    while matches!(get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    match (get(at), get(at + 1)) {
        (Some(b':'), Some(b'=')) | (Some(b'='), Some(b'>')) => at += 2,
        (Some(b'=' | b':'), _) => at += 1,
        _ => return None,
    }
    while matches!(get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    Some((name_end, at))
}

/// Whether an assignment follows a keyword that ends at `end`: the rest of a name, then `=` or `:`.
pub(crate) fn follows(text: &[u8], end: usize) -> bool {
    operator_end(text, end).is_some()
}

/// The assignment around the keyword that starts at `hit`, if there is one with a value.
pub(crate) fn at(text: &[u8], hit: usize) -> Option<Assignment> {
    let mut start = hit;
    while start > 0 && ident(text[start - 1]) {
        start -= 1;
    }
    let (name_end, value_start) = operator_end(text, hit)?;
    let get = |i: usize| text.get(i).copied();
    let value = if let Some(q @ (b'"' | b'\'')) = get(value_start) {
        let from = value_start + 1;
        let len = text[from..].iter().position(|&b| b == q || b == b'\n')?;
        (get(from + len) == Some(q)).then_some(from..from + len)?
    } else {
        let len = text[value_start..]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b',' | b';'))
            .unwrap_or(text.len() - value_start);
        value_start..value_start + len
    };
    (!value.is_empty()).then_some(Assignment {
        name: start..name_end,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Option<(&str, &str)> {
        let hit = text
            .to_ascii_lowercase()
            .find("pass")
            .or_else(|| text.find("key"))?;
        let a = at(text.as_bytes(), hit)?;
        Some((&text[a.name], &text[a.value]))
    }

    #[test]
    fn the_forms_of_an_assignment() {
        assert_eq!(
            parts("export DB_PASSWORD=s3cr3t # x"),
            Some(("DB_PASSWORD", "s3cr3t"))
        );
        assert_eq!(
            parts("  password: \"a b\", next"),
            Some(("password", "a b"))
        );
        assert_eq!(parts("{\"db.pass\": 'x1;y'}"), Some(("db.pass", "x1;y")));
        assert_eq!(parts("api_key := abc;"), Some(("api_key", "abc")));
        assert_eq!(parts("key => v,"), Some(("key", "v")));
        assert_eq!(parts("passes the test"), None);
        assert_eq!(parts("password = \"unterminated\n\""), None);
        assert_eq!(parts("password ="), None);
        assert!(follows(b"_authToken=x", 5));
        assert!(!follows(b"42 passed; 0 failed", 7));
    }
}
