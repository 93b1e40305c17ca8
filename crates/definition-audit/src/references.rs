//! What a skill tells the agent to read: `Read("...")` calls, Markdown links and bare `.claude/...`
//! paths must exist, and a gateway skill's routes must lead to library skills.

use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;

use crate::check::{Checked, Setting};
use crate::rules::Rule;
use crate::sources::Found;
use portcullis_frontmatter as frontmatter;

/// `Read("path")`, `Read('path')`, `Read(`path`)`.
static READ_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bRead\(\s*(?:file_path\s*[:=]\s*)?["'`]([^"'`\n]+)["'`]"#).expect("valid regex")
});
/// `[text](target)` (not images' alt text rules, which share the form and are checked alike).
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)"#).expect("valid regex")
});
/// A bare `.claude/...` path in prose or code.
static CLAUDE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[\s`'"(\[=:])(?:\./)?(\.claude/[^\s`'"()\[\],;|]+)"#).expect("valid regex")
});

/// Every path a skill tells the agent to read must exist; a gateway's library routes must be skills.
pub(crate) fn check(
    out: &mut Checked,
    found: &Found,
    split: &frontmatter::Split<'_>,
    name: Option<&str>,
    s: &Setting<'_>,
) {
    let dir = found.path.parent().unwrap_or(s.project);
    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let gateway = name.unwrap_or(folder).starts_with(&s.config.gateway_prefix)
        || folder.starts_with(&s.config.gateway_prefix);
    let body = split.body;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(body.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of =
        |offset: usize| split.body_line + line_starts.partition_point(|&s| s <= offset) - 1;
    // Each reference with its line, in the order a line's references are judged: `Read(...)` calls,
    // then links (outside code fences), then bare `.claude/...` paths not already named on the line.
    // `.claude/...` means the project the skill runs in: checkable only for the project's own skills,
    // not for a plugin's or the user's, which name files of whatever project they are used in.
    let own = found.path.starts_with(s.project.join(".claude"));
    let mut targets: Vec<(usize, u8, String, Base)> = Vec::new();
    if body.contains("Read(") {
        for c in READ_CALL.captures_iter(body) {
            let m = c.get(1).expect("group 1");
            targets.push((line_of(m.start()), 0, m.as_str().to_string(), Base::Either));
        }
    }
    if body.contains("](") {
        let fences = fenced_lines(body);
        for c in LINK.captures_iter(body) {
            let m = c.get(1).expect("group 1");
            let line = line_of(m.start());
            let line_start = line_starts[line - split.body_line];
            // A link inside an inline code span (odd backticks before it on its line) is code, shown as
            // an example, not a reference.
            let in_code = body[line_start..m.start()].matches('`').count() % 2 == 1;
            if !in_code && !fences.contains(&(line - split.body_line)) {
                targets.push((line, 1, m.as_str().to_string(), Base::Skill));
            }
        }
    }
    if body.contains(".claude/") {
        for c in CLAUDE_PATH.captures_iter(body) {
            let m = c.get(1).expect("group 1");
            let p = m
                .as_str()
                .trim_end_matches(['.', ':', '!', '?'])
                .to_string();
            targets.push((line_of(m.start()), 2, p, Base::Project));
        }
    }
    targets.sort_by_key(|t| (t.0, t.1));
    // Each target is judged once per file, at its first mention.
    let mut judged: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (i, (line_no, order, target, base)) in targets.iter().enumerate() {
        if *order == 2
            && targets[..i]
                .iter()
                .any(|(l, o, t, _)| l == line_no && *o < 2 && t.ends_with(target.as_str()))
        {
            continue;
        }
        let Some(clean) = checkable(target) else {
            continue;
        };
        if !own && (*base == Base::Project || clean.starts_with(".claude/")) {
            continue;
        }
        if !judged.insert(clean.clone()) {
            continue;
        }
        let candidates: Vec<PathBuf> = match base {
            Base::Project => vec![s.project.join(&clean)],
            Base::Skill => vec![dir.join(&clean)],
            Base::Either => vec![s.project.join(&clean), dir.join(&clean)],
        };
        let in_library = candidates.iter().any(|c| c.starts_with(s.library))
            || clean.starts_with(&s.config.library);
        let exists = candidates.into_iter().find(|c| s.exists(c));
        if gateway && in_library {
            let is_skill = exists
                .as_ref()
                .is_some_and(|p| !p.is_dir() || s.exists(&p.join("SKILL.md")));
            if !is_skill {
                out.add(
                    Rule::GatewayRoute,
                    *line_no,
                    format!("the route to `{clean}` points at no library skill"),
                    "point the route at an existing `SKILL.md` of the library (or its folder), or remove the row",
                );
            }
            continue;
        }
        if exists.is_none() {
            out.add(
                Rule::ReferenceMissing,
                *line_no,
                format!("`{clean}` does not exist, so the agent is told to read a missing file"),
                "fix the path (links are relative to the skill's folder, `.claude/...` to the project), or create the file",
            );
        }
    }
}

/// The 0-based lines of `body` inside (or opening and closing) fenced code blocks.
fn fenced_lines(body: &str) -> std::collections::HashSet<usize> {
    let mut out = std::collections::HashSet::new();
    let mut open = false;
    for (i, line) in body.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        if fence {
            open = !open;
        }
        if open || fence {
            out.insert(i);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// Relative to the project (`.claude/...`).
    Project,
    /// Relative to the skill's folder (Markdown links).
    Skill,
    /// Either (`Read("...")`).
    Either,
}

/// A reference worth checking on disk: local, literal, relative; its anchor and query removed.
fn checkable(target: &str) -> Option<String> {
    let t = target.trim();
    let scheme = t.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if t.is_empty()
        || t.starts_with('#')
        || t.starts_with('/')
        || t.starts_with('~')
        || scheme
        || t.contains(['{', '}', '<', '>', '*', '$', '%', '?', '|', '`'])
        || t.contains("...")
        || t.contains("XXX")
    {
        return None;
    }
    let t = t.split('#').next().unwrap_or(t);
    let t = t.strip_prefix("./").unwrap_or(t);
    // A file is named with its extension, a folder with a trailing `/`; `wiki/runbook` is a page of
    // some site in an example, not a file the skill ships.
    let last = t.rsplit('/').next().unwrap_or(t);
    let named = t.ends_with('/') || last.contains('.');
    (!t.is_empty() && named).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_literal_references_are_checked() {
        assert_eq!(checkable("./ref/a.md#x").as_deref(), Some("ref/a.md"));
        for t in [
            "https://x.dev/a",
            "mailto:a@b",
            "#anchor",
            "/abs/path",
            "~/x",
            "{skill}/a.md",
            "<path>",
            "${CLAUDE_PLUGIN_ROOT}/a",
            "internal-wiki/runbook",
            ".claude/skill-library/.../SKILL.md",
        ] {
            assert_eq!(checkable(t), None, "{t}");
        }
    }
}
