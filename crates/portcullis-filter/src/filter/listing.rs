//! Listings of paths: counts per top folder, the head and the tail, errors kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Keep, cut_line, important};

/// A listing: its first lines, a count of entries per top folder, anything that looks like an error, and
/// its last lines.
pub(super) fn listing(text: &str, keep: &Keep) -> String {
    const HEAD: usize = 20;
    const TAIL: usize = 5;
    const FOLDERS_SHOWN: usize = 40;
    let all: Vec<&str> = text.lines().collect();
    let mut per_folder: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors: Vec<&str> = Vec::new();
    for line in &all {
        if important(line, keep) && !looks_like_entry(line) {
            errors.push(line);
            continue;
        }
        let path = line.split_whitespace().last().unwrap_or("");
        let path = path.strip_prefix("./").unwrap_or(path);
        if let Some((top, _)) = path.split_once('/') {
            *per_folder.entry(format!("{top}/")).or_default() += 1;
        }
    }
    let mut out = String::new();
    for line in all.iter().take(HEAD) {
        let _ = writeln!(out, "{}", cut_line(line));
    }
    if all.len() > HEAD + TAIL {
        let _ = writeln!(out, "[… {} entries in all; by top folder:", all.len());
        let mut folders: Vec<(&String, &usize)> = per_folder.iter().collect();
        folders.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        for (folder, count) in folders.iter().take(FOLDERS_SHOWN) {
            let _ = writeln!(out, "  {count:>6}  {folder}");
        }
        if folders.len() > FOLDERS_SHOWN {
            let rest: usize = folders.iter().skip(FOLDERS_SHOWN).map(|(_, c)| **c).sum();
            let _ = writeln!(
                out,
                "  {rest:>6}  in {} more folders",
                folders.len() - FOLDERS_SHOWN
            );
        }
        let _ = writeln!(out, "…]");
        for e in &errors {
            let _ = writeln!(out, "{}", cut_line(e));
        }
        for line in all.iter().skip(all.len().saturating_sub(TAIL).max(HEAD)) {
            let _ = writeln!(out, "{}", cut_line(line));
        }
    } else {
        for line in all.iter().skip(HEAD) {
            let _ = writeln!(out, "{}", cut_line(line));
        }
    }
    out
}

/// A line that is one entry of a listing (a path, or `ls -l`'s columns), whatever its name says.
fn looks_like_entry(line: &str) -> bool {
    let t = line.trim();
    !t.contains(' ')
        || t.starts_with(['-', 'd', 'l', 'c', 'b', 'p', 's'])
            && t.get(1..10)
                .is_some_and(|p| p.chars().all(|c| "rwxsStT-".contains(c)))
}
