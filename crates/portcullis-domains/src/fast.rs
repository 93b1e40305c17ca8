//! Direct tests for the common glob shapes of a domain table, so that classifying a path compiles no
//! regex for them. `DomainMap` falls back to a compiled glob for every other shape.

/// The shapes most table globs have, matched without a regex (on file paths: never empty, never ending in
/// `/`). Each is equivalent to the glob under portcullis's rules; a property test holds them to globset.
#[derive(Debug)]
pub(crate) enum Fast {
    /// `P/**`, `{a,b}/**`: the path is below one of these folders (each ends with `/`).
    Below(Vec<String>),
    /// `**/*.ext`, `**/*.{a,b}`, `**/*{Test,Tests}.{java,kt}`: the file name ends with one of these.
    Suffix(Vec<String>),
    /// `**/NAME`, `**/name.{a,b}`: the file name is one of these.
    Name(Vec<String>),
    /// `**/D/**`: some folder of the path is one of these.
    Folder(Vec<String>),
    /// A plain path: exactly this.
    Exact(String),
}

impl Fast {
    pub(crate) fn of(glob: &str) -> Option<Self> {
        if glob.contains('\\') {
            return None;
        }
        let no_slash = |alts: &[String]| alts.iter().all(|a| !a.is_empty() && !a.contains('/'));
        if let Some(rest) = glob.strip_prefix("**/") {
            if let Some(inner) = rest.strip_suffix("/**") {
                let alts = expand(inner)?;
                return no_slash(&alts).then_some(Self::Folder(alts));
            }
            if let Some(tail) = rest.strip_prefix('*') {
                // `*` stays in the file name: the name ends with one of the alternatives.
                let alts = expand(tail)?;
                return no_slash(&alts).then_some(Self::Suffix(alts));
            }
            let alts = expand(rest)?;
            return no_slash(&alts).then_some(Self::Name(alts));
        }
        if let Some(inner) = glob.strip_suffix("/**") {
            let alts = expand(inner)?;
            return alts
                .iter()
                .all(|a| !a.is_empty() && !a.starts_with('/'))
                .then(|| Self::Below(alts.iter().map(|a| format!("{a}/")).collect()));
        }
        let alts = expand(glob)?;
        (alts.len() == 1).then(|| Self::Exact(alts[0].clone()))
    }

    pub(crate) fn is_match(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        match self {
            Self::Below(prefixes) => prefixes.iter().any(|p| path.starts_with(p.as_str())),
            Self::Suffix(ends) => ends.iter().any(|e| name.ends_with(e.as_str())),
            Self::Name(names) => names.iter().any(|n| name == n),
            Self::Folder(dirs) => {
                let mut folders = path[..path.len() - name.len()].split('/');
                folders.any(|f| dirs.iter().any(|d| d == f))
            }
            Self::Exact(p) => path == p,
        }
    }
}

/// A list of globs under portcullis's rules, each tested directly when it has a common shape and by a
/// compiled matcher otherwise: for short lists (exemptions) checked once per call, where building a
/// `GlobSet` (an Aho-Corasick automaton) would cost more than every test together.
#[derive(Debug)]
pub struct GlobList(Vec<ListEntry>);

#[derive(Debug)]
enum ListEntry {
    Fast(Fast),
    Compiled(globset::GlobMatcher),
}

impl GlobList {
    /// Parses `globs`; the error names the first that does not parse.
    ///
    /// # Errors
    /// The glob that does not parse and why.
    pub fn new(globs: &[String]) -> Result<Self, String> {
        globs
            .iter()
            .map(|g| match Fast::of(g) {
                Some(fast) => Ok(ListEntry::Fast(fast)),
                None => crate::domains::glob(g)
                    .map(|glob| ListEntry::Compiled(glob.compile_matcher()))
                    .map_err(|e| format!("bad glob `{g}`: {e}")),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether any glob matches the project-relative file `path`.
    #[must_use]
    pub fn is_match(&self, path: &str) -> bool {
        self.0.iter().any(|entry| match entry {
            ListEntry::Fast(fast) if !path.is_empty() && !path.ends_with('/') => {
                fast.is_match(path)
            }
            ListEntry::Fast(_) => false,
            ListEntry::Compiled(m) => m.is_match(path),
        })
    }
}

/// The alternatives of a text whose only glob syntax is `{a,b}` groups (not nested), as their cross
/// product; `None` with any other glob syntax, or past 256 alternatives.
pub(crate) fn expand(text: &str) -> Option<Vec<String>> {
    if text.contains(['*', '?', '[', ']']) {
        return None;
    }
    let mut alts = vec![String::new()];
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        let group = &rest[open + 1..close];
        if group.contains('{') || rest[..open].contains('}') {
            return None;
        }
        let head = &rest[..open];
        alts = alts
            .iter()
            .flat_map(|a| {
                group.split(',').map(move |g| {
                    let mut alt = String::with_capacity(a.len() + head.len() + g.len());
                    alt.push_str(a);
                    alt.push_str(head);
                    alt.push_str(g);
                    alt
                })
            })
            .collect();
        if alts.len() > 256 {
            return None;
        }
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return None;
    }
    Some(alts.into_iter().map(|a| a + rest).collect())
}

#[cfg(test)]
mod tests {
    use super::GlobList;
    use crate::domains::glob;

    /// Direct shapes (folder, name, suffix, any-folder) and two that need a compiled matcher.
    const GLOBS: [&str; 6] = [
        ".claude/**",
        "**/CLAUDE.md",
        "**/*.{md,txt}",
        "**/gen/**",
        "src/*/mod.rs",
        "docs/[a-c]*.md",
    ];

    proptest::proptest! {
        /// A list answers what a `GlobSet` of the same globs answers, for every file path.
        #[test]
        fn a_glob_list_matches_like_a_globset(parts in proptest::collection::vec(proptest::prop_oneof![".claude/", "src/", "gen/", "docs/", "a", "b/", "mod.rs", "CLAUDE.md", ".md", ".txt", "x.rs", "/"], 1..6)) {
            let path: String = parts.concat();
            proptest::prop_assume!(!path.ends_with('/'));
            let owned: Vec<String> = GLOBS.iter().map(|g| (*g).to_owned()).collect();
            let list = GlobList::new(&owned).unwrap();
            let mut set = globset::GlobSetBuilder::new();
            for g in GLOBS {
                set.add(glob(g).unwrap());
            }
            proptest::prop_assert_eq!(list.is_match(&path), set.build().unwrap().is_match(&path), "{}", path);
        }
    }

    #[test]
    fn a_bad_glob_is_named() {
        let err = GlobList::new(&["ok/**".to_owned(), "src/[x".to_owned()]).unwrap_err();
        assert!(err.contains("`src/[x`"), "{err}");
    }
}
