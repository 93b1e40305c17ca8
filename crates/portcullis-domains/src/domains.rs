//! The domain table.

use globset::{Glob, GlobBuilder, GlobSetBuilder};
use portcullis_core::{Error, Result};

use crate::config::{DomainTable, DomainsConfig};

/// The built-in table, used when the config has no `domains`. Order matters: first match wins.
pub const DEFAULT_DOMAINS: &[(&str, &[&str])] = &[
    (
        "tests",
        &[
            "tests/**",
            "test/**",
            "**/__tests__/**",
            "**/*_test.go",
            "**/*_test.py",
            "**/test_*.py",
            "**/*.test.ts",
            "**/*.test.tsx",
            "**/*.test.js",
            "**/*.spec.ts",
            "**/*.spec.js",
        ],
    ),
    (
        "infra",
        &[
            "infra/**",
            "deploy/**",
            "terraform/**",
            "k8s/**",
            "helm/**",
            ".github/workflows/**",
            "**/Dockerfile",
            "**/*.tf",
            "**/docker-compose*.yml",
        ],
    ),
    (
        "frontend",
        &[
            "frontend/**",
            "web/**",
            "ui/**",
            "client/**",
            "**/*.tsx",
            "**/*.jsx",
            "**/*.vue",
            "**/*.svelte",
            "**/*.css",
            "**/*.scss",
            "**/*.html",
        ],
    ),
    (
        "backend",
        &[
            "backend/**",
            "server/**",
            "api/**",
            "cmd/**",
            "internal/**",
            "**/*.go",
            "**/*.rs",
            "**/*.py",
            "**/*.java",
            "**/*.kt",
            "**/*.rb",
            "**/*.php",
            "**/*.cs",
        ],
    ),
    ("docs", &["docs/**", "**/*.md", "**/*.mdx", "**/*.rst"]),
];

/// A path's domain and the glob that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainMatch {
    /// The domain name.
    pub domain: String,
    /// The glob that matched.
    pub glob: String,
}

/// A domain table, ready to classify paths.
///
/// Building a `GlobSet` costs far more than one hook call should (its regexes are compiled up front), so
/// the table keeps each glob parsed but uncompiled, with the literal runs any matching path must contain
/// (`required_literals`). `classify` compiles only the globs whose literals all occur in the path: for
/// most paths that is none or a few cheap ones.
#[derive(Debug)]
pub struct DomainMap {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    domain: String,
    text: String,
    glob: Glob,
    literals: Vec<String>,
}

/// Compiles one glob with portcullis's rules (`*` stays in one folder).
pub fn glob(text: &str) -> std::result::Result<Glob, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

/// The literal runs of `glob` that every path it matches contains. `**` with its slashes, `*`, `?`,
/// `[...]` and `{...}` are holes; a glob with `\` escapes gets no literals (no pre-filter, always compiled).
#[must_use]
pub(crate) fn required_literals(glob: &str) -> Vec<String> {
    if glob.contains('\\') {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = glob.chars().peekable();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                // `**` may match zero folders, so the slashes around it are not required.
                chars.next();
                if current.ends_with('/') {
                    current.pop();
                }
                flush(&mut current, &mut out);
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
            }
            '*' | '?' => flush(&mut current, &mut out),
            '[' => {
                flush(&mut current, &mut out);
                if matches!(chars.peek(), Some('!' | '^')) {
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                }
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
            }
            '{' => {
                flush(&mut current, &mut out);
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            c => current.push(c),
        }
    }
    flush(&mut current, &mut out);
    out
}

impl DomainMap {
    /// The table from config, or the built-in one.
    pub fn from_config(config: &DomainsConfig) -> Result<Self> {
        match &config.0 {
            Some(DomainTable(table)) => Self::new(
                table
                    .iter()
                    .map(|(d, g)| (d.as_str(), g.iter().map(String::as_str))),
            ),
            None => Self::new(DEFAULT_DOMAINS.iter().map(|(d, g)| (*d, g.iter().copied()))),
        }
    }

    /// Parses a table of (domain, globs); a bad glob is an error naming its domain.
    pub fn new<'a, G: IntoIterator<Item = &'a str>>(
        table: impl IntoIterator<Item = (&'a str, G)>,
    ) -> Result<Self> {
        let mut entries = Vec::new();
        for (domain, globs) in table {
            for g in globs {
                let parsed = glob(g)
                    .map_err(|e| Error::Other(format!("domain `{domain}`: bad glob `{g}`: {e}")))?;
                entries.push(Entry {
                    domain: domain.to_owned(),
                    text: g.to_owned(),
                    glob: parsed,
                    literals: required_literals(g),
                });
            }
        }
        Ok(Self { entries })
    }

    /// The first domain (in table order) whose glob matches the project-relative `path`.
    #[must_use]
    pub fn classify(&self, path: &str) -> Option<DomainMatch> {
        let candidates: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.literals.iter().all(|l| path.contains(l.as_str())))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut builder = GlobSetBuilder::new();
        for e in &candidates {
            builder.add(e.glob.clone());
        }
        // Building only fails on regex size limits, which globs this short cannot reach.
        let set = builder.build().ok()?;
        let first = set.matches(path).into_iter().min()?;
        let e = candidates[first];
        Some(DomainMatch {
            domain: e.domain.clone(),
            glob: e.text.clone(),
        })
    }

    /// The domain names, in table order, without repeats.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !v.contains(&e.domain.as_str()) {
                v.push(&e.domain);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_map() -> DomainMap {
        DomainMap::from_config(&DomainsConfig::default()).unwrap()
    }

    #[test]
    fn default_table_classifies_common_layouts() {
        let m = default_map();
        let d = |p: &str| m.classify(p).map(|x| x.domain);
        assert_eq!(d("api/x.go").as_deref(), Some("backend"));
        assert_eq!(d("src/lib.rs").as_deref(), Some("backend"));
        assert_eq!(d("web/app.ts").as_deref(), Some("frontend"));
        assert_eq!(d("src/App.tsx").as_deref(), Some("frontend"));
        assert_eq!(d("tests/it.rs").as_deref(), Some("tests"));
        assert_eq!(d("pkg/a_test.go").as_deref(), Some("tests"));
        assert_eq!(d("infra/main.tf").as_deref(), Some("infra"));
        assert_eq!(d("services/x/Dockerfile").as_deref(), Some("infra"));
        assert_eq!(d("docs/guide.txt").as_deref(), Some("docs"));
        assert_eq!(d("README.md").as_deref(), Some("docs"));
        assert_eq!(d("hello.txt"), None);
        assert_eq!(d("Makefile"), None);
    }

    #[test]
    fn first_match_wins_in_table_order() {
        let m = DomainMap::new([("a", ["**/*.go"]), ("b", ["api/**"])]).unwrap();
        assert_eq!(
            m.classify("api/x.go").unwrap(),
            DomainMatch {
                domain: "a".into(),
                glob: "**/*.go".into()
            }
        );
        let m = DomainMap::new([("b", ["api/**"]), ("a", ["**/*.go"])]).unwrap();
        assert_eq!(m.classify("api/x.go").unwrap().domain, "b");
    }

    #[test]
    fn star_stays_in_one_folder() {
        let m = DomainMap::new([("x", ["*.go"])]).unwrap();
        assert!(m.classify("a.go").is_some());
        assert!(m.classify("sub/a.go").is_none());
    }

    #[test]
    fn literals_of_common_globs() {
        assert_eq!(required_literals("**/*.go"), [".go"]);
        assert_eq!(required_literals("api/**"), ["api"]);
        assert_eq!(
            required_literals("a/**/b/*_test.go"),
            ["a", "b/", "_test.go"]
        );
        assert_eq!(
            required_literals("**/docker-compose*.yml"),
            ["docker-compose", ".yml"]
        );
        assert_eq!(required_literals("src/[ab]x{c,d}.rs"), ["src/", "x", ".rs"]);
        assert!(required_literals("a\\*b").is_empty());
    }

    proptest::proptest! {
        /// The shortcut is safe: a path a glob matches always contains the glob's literals, so the
        /// pre-filter never drops a glob that would have matched. Paths are built by filling in the glob's
        /// own parts, so most of them really match and the check has something to check.
        #[test]
        fn prefilter_never_rejects_a_match(parts in proptest::collection::vec((0usize..11, 0usize..4), 1..8)) {
            // (glob text, ways to fill it in)
            const PARTS: [(&str, [&str; 4]); 11] = [
                ("**/", ["", "a/", "a/b/", "b/"]), ("/**", ["", "/a", "/a/b", "/"]),
                ("a", ["a"; 4]), ("b", ["b"; 4]), ("/", ["/"; 4]), (".", ["."; 4]),
                ("*", ["", "a", "ab", "b.a"]), ("**", ["", "a", "a/b", "/"]), ("?", ["a", "b", ".", "c"]),
                ("[ab]", ["a", "b", "a", "b"]), ("{a,b/c}", ["a", "b/c", "a", "b/c"]),
            ];
            let text: String = parts.iter().map(|(p, _)| PARTS[*p].0).collect();
            let path: String = parts.iter().map(|(p, c)| PARTS[*p].1[*c]).collect();
            if let Ok(g) = glob(&text) {
                if g.compile_matcher().is_match(&path) {
                    for lit in required_literals(&text) {
                        proptest::prop_assert!(path.contains(&lit), "glob {text:?} matched {path:?} without {lit:?}");
                    }
                }
            }
        }

        /// And classification through the pre-filter equals a full GlobSet over the whole table.
        #[test]
        fn classify_equals_the_full_globset(path_parts in proptest::collection::vec(proptest::prop_oneof!["api/", "web/", "tests/", "x", "_test", ".go", ".tsx", ".md", "Dockerfile", "docs/"], 0..6)) {
            let path: String = path_parts.concat();
            let m = DomainMap::from_config(&DomainsConfig::default()).unwrap();
            let mut full = GlobSetBuilder::new();
            let mut owners = Vec::new();
            for (d, globs) in DEFAULT_DOMAINS {
                for g in *globs {
                    full.add(glob(g).unwrap());
                    owners.push(*d);
                }
            }
            let full = full.build().unwrap();
            let want = full.matches(&path).into_iter().min().map(|i| owners[i].to_owned());
            proptest::prop_assert_eq!(m.classify(&path).map(|x| x.domain), want);
        }
    }

    #[test]
    fn a_bad_glob_names_its_domain() {
        let err = DomainMap::new([("web", ["src/[x"])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("web") && err.contains("src/[x"), "{err}");
    }
}
