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
                let folders = &path[..path.len() - name.len()];
                dirs.iter().any(|d| {
                    folders.starts_with(&format!("{d}/")) || folders.contains(&format!("/{d}/"))
                })
            }
            Self::Exact(p) => path == p,
        }
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
            .flat_map(|a| group.split(',').map(move |g| format!("{a}{head}{g}")))
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
