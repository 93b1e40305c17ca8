//! The YAML frontmatter of an agent or skill file, read as Claude Code reads it: strict YAML first, then,
//! as the client falls back to, with plain values quoted (descriptions often hold `: ` or `#`).
//!
//! Its own crate so that definition-audit (the hook and `portcullis audit`) and skill-gateway (the skill
//! library) read frontmatter the same way without one hook crate depending on another.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use serde_json::Value;

/// The most frontmatter read; the client itself refuses to parse more than 64 KiB of untrusted
/// frontmatter.
const MAX_FRONTMATTER_BYTES: usize = 64 * 1024;

/// A definition file split into its frontmatter and body.
#[derive(Debug)]
pub struct Split<'a> {
    /// The YAML between the two `---` lines.
    pub yaml: &'a str,
    /// The 1-based line of the first YAML line.
    pub yaml_line: usize,
    /// Everything after the closing `---`.
    pub body: &'a str,
    /// The 1-based line the body starts on.
    pub body_line: usize,
}

/// Why a file has no usable frontmatter block.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// The first line is not `---`.
    NoOpening,
    /// `---` opens a block that never closes.
    Unclosed,
}

/// Splits `text` at its frontmatter block (a first line `---`, up to the next line `---`).
pub fn split(text: &str) -> Result<Split<'_>, Missing> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or(Missing::NoOpening)?;
    if first.trim_end() != "---" {
        return Err(Missing::NoOpening);
    }
    let start = first.len();
    let mut at = start;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == "---" {
            return Ok(Split {
                yaml: &text[start..at],
                yaml_line: 2,
                body: &text[at + line.len()..],
                body_line: i + 3,
            });
        }
        at += line.len();
    }
    Err(Missing::Unclosed)
}

/// The parsed frontmatter: its top-level keys.
pub type Fields = BTreeMap<String, Value>;

/// What parsing the frontmatter gave.
#[derive(Debug)]
pub enum Parsed {
    /// Valid YAML mapping.
    Strict(Fields),
    /// Not valid YAML, but read once plain values are quoted, as the client does: the fields, and the
    /// strict parser's complaint with its 1-based line in the file.
    Lenient(Fields, String, usize),
    /// Unreadable either way: the complaint and its 1-based line in the file.
    Broken(String, usize),
}

/// Parses the YAML of `split`.
#[must_use]
pub fn parse(split: &Split<'_>) -> Parsed {
    if split.yaml.len() > MAX_FRONTMATTER_BYTES {
        return Parsed::Broken(
            format!(
                "the frontmatter is {} bytes; Claude Code reads at most {MAX_FRONTMATTER_BYTES}",
                split.yaml.len()
            ),
            split.yaml_line,
        );
    }
    let (complaint, line) = match mapping(split.yaml) {
        Ok(fields) => return Parsed::Strict(fields),
        Err((complaint, line)) => (complaint, split.yaml_line + line.saturating_sub(1)),
    };
    match mapping(&quote_plain_values(split.yaml)) {
        Ok(fields) => Parsed::Lenient(fields, complaint, line),
        Err(_) => Parsed::Broken(complaint, line),
    }
}

/// Strict YAML; the top level must be a mapping (or empty). Errors carry the 1-based line within `yaml`.
fn mapping(yaml: &str) -> Result<Fields, (String, usize)> {
    if yaml.trim().is_empty() {
        return Ok(Fields::new());
    }
    match serde_saphyr::from_str::<Value>(yaml) {
        Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(Value::Null) => Ok(Fields::new()),
        Ok(_) => Err((
            "the frontmatter is a list or a single value, not keys".into(),
            1,
        )),
        Err(e) => {
            let line = e
                .location()
                .map_or(1, |l| usize::try_from(l.line()).unwrap_or(1));
            Err((first_line(&e.to_string()), line))
        }
    }
}

/// The first line of a parser message, without the source snippet the parser draws under it and
/// without its `line L column C: ` prefix (the finding carries the line).
fn first_line(message: &str) -> String {
    static PLACE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^line \d+ column \d+: ").expect("valid regex"));
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    PLACE.replace(line, "").into_owned()
}

/// The client's fallback: every top-level `key: value` whose value is plain (not quoted, not a block or
/// flow collection) gets its value double-quoted, and tabs that indent become spaces.
fn quote_plain_values(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 64);
    for line in yaml.lines() {
        let line_out = top_level_pair(line).map_or_else(
            || {
                let tabs = line.len() - line.trim_start_matches('\t').len();
                format!("{}{}", "  ".repeat(tabs), &line[tabs..])
            },
            |(key, value)| {
                let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                format!("{key}: \"{escaped}\"")
            },
        );
        out.push_str(&line_out);
        out.push('\n');
    }
    out
}

/// `key: plain value` at the top level, when the value would need quoting to be read as one string.
fn top_level_pair(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let value = value.trim();
    let starts_structured = value
        .chars()
        .next()
        .is_none_or(|c| matches!(c, '"' | '\'' | '[' | '{' | '|' | '>' | '&' | '*' | '!'));
    (!starts_structured).then_some((key, value))
}

/// A field as text: strings as they are, numbers and booleans written out; lists and maps are not text.
#[must_use]
pub fn text(fields: &Fields, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A tool list: a comma-separated string (`Read, Grep, Bash(git:*)`) or a YAML list; `None` when the
/// key is absent (the agent inherits every tool).
#[must_use]
pub fn list(fields: &Fields, key: &str) -> Option<Vec<String>> {
    let items = match fields.get(key)? {
        Value::String(s) => split_tool_list(s),
        Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Value::Null => Vec::new(),
        _ => return None,
    };
    Some(items)
}

/// Splits `Read, Bash(git add:*, git commit:*), Grep` at the commas outside parentheses.
fn split_tool_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_found_with_its_lines() {
        let s = split("---\nname: a\ndescription: b\n---\n# body\n").unwrap();
        assert_eq!(s.yaml, "name: a\ndescription: b\n");
        assert_eq!((s.yaml_line, s.body_line), (2, 5));
        assert_eq!(s.body, "# body\n");
        assert_eq!(split("# no\n---\n").unwrap_err(), Missing::NoOpening);
        assert_eq!(split("---\nname: a\n").unwrap_err(), Missing::Unclosed);
        assert_eq!(split("").unwrap_err(), Missing::NoOpening);
        assert!(split("\u{feff}---\r\nname: a\r\n---\r\n").is_ok());
    }

    #[test]
    fn a_colon_in_a_plain_value_is_read_leniently_and_said() {
        let s = split("---\nname: a\ndescription: Use when: things break\n---\n").unwrap();
        match parse(&s) {
            Parsed::Lenient(f, why, line) => {
                assert_eq!(text(&f, "description").unwrap(), "Use when: things break");
                assert!(!why.is_empty());
                assert_eq!(line, 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_yaml_is_broken_at_its_line() {
        let s = split("---\nname: a\ntools: [Read, Grep\n---\n").unwrap();
        assert!(matches!(parse(&s), Parsed::Broken(_, l) if (2..=4).contains(&l)));
        let s = split("---\n- a\n- b\n---\n").unwrap();
        assert!(matches!(parse(&s), Parsed::Broken(..)));
    }

    #[test]
    fn tool_lists_of_both_shapes() {
        let s = split("---\ntools: Read, Bash(git add:*, git commit:*), Grep\n---\n").unwrap();
        let Parsed::Strict(f) = parse(&s) else {
            panic!()
        };
        assert_eq!(
            list(&f, "tools").unwrap(),
            ["Read", "Bash(git add:*, git commit:*)", "Grep"]
        );
        let s = split("---\ntools:\n  - Read\n  - Edit\n---\n").unwrap();
        let Parsed::Strict(f) = parse(&s) else {
            panic!()
        };
        assert_eq!(list(&f, "tools").unwrap(), ["Read", "Edit"]);
        assert_eq!(list(&f, "absent"), None);
    }
}
