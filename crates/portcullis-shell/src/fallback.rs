//! The reader for what the parser is not given: a command the parser panics on (`brush-parser` has
//! `unwrap`s the fuzzer reaches), and one nested past what is parsed even on a large stack. A panic or an
//! overflow must not turn a deny into an allow, so such a command is read here, by the same program
//! rules as the parser's walk ([`crate::programs::effects`]): simple commands split on `;`, `&&`, `||`,
//! `|`, `&`, brackets and newlines, here-document bodies left out, a literal `cd` followed, `>`/`>>`
//! redirections, and what each program writes or removes. It reads no nesting and no substitutions, so it
//! can only see less than the parser, never more.

use crate::programs;
use crate::walk::{Base, Reading};

/// What `command` writes and removes, read without the parser.
#[must_use]
pub(crate) fn reading(command: &str) -> Reading {
    let mut out = Reading::default();
    let mut base = Base::Start;
    for segment in split_segments(&without_heredoc_bodies(command)) {
        let words = split_words(&segment);
        let mut command_words: Vec<Option<String>> = Vec::new();
        let mut iter = words.into_iter();
        while let Some(word) = iter.next() {
            match word {
                Word::Redirect(append) => {
                    let _ = append;
                    if let Some(Word::Text(Some(target))) = iter.next()
                        && let Some(p) = base.join(&target)
                    {
                        out.write(p);
                    }
                }
                Word::Text(w) => command_words.push(w),
            }
        }
        // Keywords that open a compound command come before the program.
        while matches!(
            command_words.first().and_then(Option::as_deref),
            Some("if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "(")
        ) {
            command_words.remove(0);
        }
        let Some(program) = programs::real_program(&command_words) else {
            continue;
        };
        let name = command_words[program.at]
            .as_deref()
            .map(programs::base_name);
        if matches!(name, Some("apply_patch" | "applypatch")) {
            // The patch is in the command's text (a here-document, or the operand).
            out.patch(command, &base);
            continue;
        }
        if matches!(name, Some("cd" | "pushd")) {
            base = base.cd(&command_words[program.at + 1..]);
            continue;
        }
        let effects = programs::effects(&command_words);
        let here = base.chdir(effects.chdir.as_ref());
        for script in out.apply(effects, &here) {
            // `sh -c TEXT` read the same way, from where it runs (one level: no recursion to blow up).
            let inner = reading_flat(&script, &here);
            out.writes.extend(inner.writes);
            out.removes.extend(inner.removes);
        }
    }
    out
}

/// [`reading`] of a script handed to a shell, without following its own scripts further.
fn reading_flat(script: &str, base: &Base) -> Reading {
    let inner = reading(script);
    let join = |v: Vec<String>| v.into_iter().filter_map(|p| base.join(&p)).collect();
    Reading {
        writes: join(inner.writes),
        removes: join(inner.removes),
        links: Vec::new(),
        reads: Vec::new(),
    }
}

/// `command` with the bodies of its here-documents left out: their lines are text, not commands (an
/// apostrophe in one used to hide everything after it).
fn without_heredoc_bodies(command: &str) -> String {
    let mut out = String::with_capacity(command.len());
    let mut pending: Vec<(String, bool)> = Vec::new();
    for line in command.split_inclusive('\n') {
        if let Some((delimiter, strip_tabs)) = pending.first() {
            let body = line.trim_end_matches(['\n', '\r']);
            let body = if *strip_tabs {
                body.trim_start_matches('\t')
            } else {
                body
            };
            if body == delimiter {
                pending.remove(0);
            }
            out.push('\n');
            continue;
        }
        pending.extend(heredoc_delimiters(line));
        out.push_str(line);
    }
    out
}

/// The delimiters of the here-documents a line opens (`<<EOF`, `<<-'EOF'`, `<< "END"`), in order.
fn heredoc_delimiters(line: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("<<") {
        let after = &rest[at + 2..];
        if let Some(here_string) = after.strip_prefix('<') {
            rest = here_string;
            continue;
        }
        let (strip_tabs, after) = match after.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, after),
        };
        let after = after.trim_start();
        let word: String = after
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '|' | '&' | '<' | '>' | ')'))
            .filter(|c| !matches!(c, '\'' | '"' | '\\'))
            .collect();
        if !word.is_empty() {
            found.push((word, strip_tabs));
        }
        rest = after;
    }
    found
}

/// Splits on unquoted `;`, `&&`, `||`, `|`, `&`, brackets and newlines, and drops comments.
fn split_segments(command: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some('\''), c) => current.push(c),
            (_, '\\') => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            // A comment: `#` at the start of a word, to the end of the line.
            (None, '#') if current.is_empty() || current.ends_with(char::is_whitespace) => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            // `>&2` and `&>` are redirections, not separators.
            (None, '&') if current.ends_with('>') || chars.peek() == Some(&'>') => current.push(c),
            (None, ';' | '|' | '&' | '\n' | '(' | ')' | '{' | '}')
                if c != '{' && c != '}' || is_lone(&current, chars.peek()) =>
            {
                segments.push(std::mem::take(&mut current));
            }
            (_, c) => current.push(c),
        }
    }
    segments.push(current);
    segments
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Whether a brace stands alone (a group's `{ … }`), not inside a word (`${x}`, `{a,b}`).
fn is_lone(before: &str, next: Option<&char>) -> bool {
    (before.is_empty() || before.ends_with(char::is_whitespace))
        && next.is_none_or(|n| n.is_whitespace() || *n == ';')
}

/// A word of a simple command, or a redirection operator (`true`: `>>`).
#[derive(Debug)]
enum Word {
    /// The word with quotes removed; `None` when it holds an expansion or an unquoted pattern.
    Text(Option<String>),
    Redirect(bool),
}

/// Shell-like words: whitespace-separated, quotes removed, redirection operators split off.
fn split_words(segment: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut known = true;
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = segment.chars().peekable();
    let finish = |words: &mut Vec<Word>, current: &mut String, known: &mut bool| {
        let w = std::mem::take(current);
        words.push(Word::Text((*known).then_some(w)));
        *known = true;
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            (Some('"'), '$' | '`') => {
                known = false;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
                in_word = true;
            }
            (None, '>') => {
                // `2>`, `&>`: the fd prefix belongs to the operator.
                if in_word
                    && !current.is_empty()
                    && current.chars().all(|ch| ch.is_ascii_digit() || ch == '&')
                {
                    current.clear();
                    known = true;
                    in_word = false;
                }
                if in_word {
                    finish(&mut words, &mut current, &mut known);
                    in_word = false;
                }
                let append = chars.peek() == Some(&'>');
                if append {
                    chars.next();
                }
                // `>&2`, `>&-`: a descriptor, not a file.
                if chars.peek() == Some(&'&') {
                    chars.next();
                    while chars
                        .peek()
                        .is_some_and(|n| n.is_ascii_digit() || *n == '-')
                    {
                        chars.next();
                    }
                    continue;
                }
                if chars.peek() == Some(&'|') {
                    chars.next();
                }
                words.push(Word::Redirect(append));
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    finish(&mut words, &mut current, &mut known);
                    in_word = false;
                }
            }
            (None, c) => {
                if matches!(c, '$' | '`' | '*' | '?' | '[')
                    || (c == '~' && !current.is_empty())
                    || (c == '{' && current.ends_with('$'))
                {
                    known = false;
                }
                // `~user` is not literal; `~` and `~/…` are kept for the caller.
                if current == "~" && c != '/' {
                    known = false;
                }
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        finish(&mut words, &mut current, &mut known);
    }
    words
}
