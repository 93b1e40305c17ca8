//! Compiler and linter diagnostics: every error and warning with its location.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use super::{Keep, cut_line, regex, tests};

/// Compiler diagnostics in rustc's form (a headline, ` --> file:line:col`, a snippet): each error with its
/// location and primary label; warnings of one message grouped, every location listed. Other lines go
/// through the generic filter.
pub(super) fn compiler(text: &str, keep: &Keep) -> String {
    static HEADLINE: LazyLock<Regex> =
        LazyLock::new(|| regex(r"^(error|warning)(\[[A-Z]+\d+\])?: (.+)$"));
    static LOCATION: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*--> (\S+)"));
    static BACKTICKED: LazyLock<Regex> = LazyLock::new(|| regex(r"`[^`]*`"));
    let all: Vec<&str> = text.lines().collect();
    let mut rest: Vec<&str> = Vec::new();
    let mut errors: Vec<Vec<String>> = Vec::new();
    // Warnings by their message with names masked: the first headline, and every location.
    let mut warnings: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let Some(h) = HEADLINE.captures(all[i]) else {
            rest.push(all[i]);
            i += 1;
            continue;
        };
        // A block: the headline and its indented or `|`-led lines up to the next blank line.
        let mut end = i + 1;
        while end < all.len() && !all[end].trim().is_empty() && !HEADLINE.is_match(all[end]) {
            end += 1;
        }
        let block = &all[i..end];
        let location = block
            .iter()
            .find_map(|l| LOCATION.captures(l))
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned());
        let Some(location) = location else {
            // A summary such as "error: could not compile …": kept as it is.
            rest.push(all[i]);
            i += 1;
            continue;
        };
        if &h[1] == "warning" {
            let key = BACKTICKED.replace_all(&h[3], "`…`").into_owned();
            match warnings.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, locs)) => locs.push(location),
                None => warnings.push((key, all[i].to_owned(), vec![location])),
            }
        } else {
            let mut kept = vec![all[i].to_owned(), format!("  --> {location}")];
            // The primary label: the first snippet line with `^`, and the code line above it.
            if let Some(at) = block.iter().position(|l| l.contains('^')) {
                if at > 0 && block[at - 1].contains('|') {
                    kept.push(block[at - 1].to_owned());
                }
                kept.push(block[at].to_owned());
            }
            kept.extend(
                block
                    .iter()
                    .filter(|l| {
                        l.trim_start().starts_with("= help") || l.trim_start().starts_with("= note")
                    })
                    .map(|l| (*l).to_owned()),
            );
            errors.push(kept);
        }
        i = end;
    }
    let mut out = String::new();
    for e in &errors {
        for l in e {
            let _ = writeln!(out, "{}", cut_line(l));
        }
    }
    for (_, first, locs) in &warnings {
        if locs.len() == 1 {
            let _ = writeln!(out, "{first}\n  --> {}", locs[0]);
        } else {
            let _ = writeln!(
                out,
                "{first} (and {} more like it) at: {}",
                locs.len() - 1,
                locs.join(", ")
            );
        }
    }
    let rest = rest.join("\n");
    if !rest.trim().is_empty() {
        out.push_str(&tests(&rest, keep));
    }
    out
}
