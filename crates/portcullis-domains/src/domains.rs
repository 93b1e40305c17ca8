//! The domain table.

use globset::{Glob, GlobBuilder};
use portcullis_core::{Error, Result};

use std::path::Path;

pub use crate::builtin::{
    BY_MANIFEST, DEFAULT_DOMAINS, SERVER_PACKAGES, SOURCE_EXTENSIONS, UI_PACKAGES,
};
use crate::config::{DomainTable, DomainsConfig, FallbackDomain};
use crate::fast::Fast;
use crate::manifest;

/// A path's domain and the rule that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainMatch {
    /// The domain name.
    pub domain: String,
    /// The rule: the glob that matched, the manifest that decided, or why the fallback took it.
    pub rule: String,
    /// Which kind of rule it was.
    pub kind: MatchKind,
}

/// How a path got its domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// A glob of the table.
    Glob,
    /// The nearest `package.json` (JavaScript/TypeScript of no telling location).
    Manifest,
    /// The fallback domain: source code no domain claims.
    Fallback,
    /// An agent's `owns:` (a domain declared where the agent is declared).
    Declared,
}

impl DomainMatch {
    /// Whether the fallback domain took the path.
    #[must_use]
    pub fn is_fallback(&self) -> bool {
        self.kind == MatchKind::Fallback
    }

    /// The rule as a reader wants it: "glob `api/**`", or the manifest or fallback reason.
    #[must_use]
    pub fn why(&self) -> String {
        match self.kind {
            MatchKind::Glob => format!("glob `{}`", self.rule),
            MatchKind::Manifest | MatchKind::Fallback | MatchKind::Declared => self.rule.clone(),
        }
    }
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
    fallback: Option<String>,
}

#[derive(Debug)]
struct Entry {
    domain: String,
    text: String,
    /// Parsed when the table is built, except for the built-in table, whose globs are parsed only when one
    /// must be compiled (a test checks that they all parse).
    glob: Option<Glob>,
    /// A direct test for the common shapes (so they never compile a regex), else the literal runs every
    /// match contains (the pre-filter); worked out when the entry is first needed, since classifying
    /// stops at the first match.
    test: std::cell::OnceCell<Test>,
}

/// How an entry is tested.
#[derive(Debug)]
enum Test {
    Fast(Fast),
    Literals(Vec<String>),
}

impl Entry {
    fn new(domain: &str, text: &str, glob: Option<Glob>) -> Self {
        Self {
            domain: domain.to_owned(),
            text: text.to_owned(),
            glob,
            test: std::cell::OnceCell::new(),
        }
    }

    fn test(&self) -> &Test {
        self.test.get_or_init(|| {
            Fast::of(&self.text)
                .map_or_else(|| Test::Literals(required_literals(&self.text)), Test::Fast)
        })
    }

    /// Whether the glob matches the project-relative file `path`: directly for the common shapes, else
    /// compiled now (and parsed now, for the built-in table) when the path holds all its literals.
    fn matches(&self, path: &str) -> bool {
        match self.test() {
            Test::Fast(fast) if !path.is_empty() && !path.ends_with('/') => {
                return fast.is_match(path);
            }
            Test::Literals(literals) if !literals.iter().all(|l| path.contains(l.as_str())) => {
                return false;
            }
            _ => {}
        }
        match &self.glob {
            Some(g) => g.compile_matcher().is_match(path),
            None => glob(&self.text).is_ok_and(|g| g.compile_matcher().is_match(path)),
        }
    }
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
    /// The table from config, or the built-in one, with the fallback domain when it is on.
    pub fn from_config(config: &DomainsConfig, fallback: &FallbackDomain) -> Result<Self> {
        let mut map = match &config.0 {
            Some(DomainTable(table)) => Self::new(
                table
                    .iter()
                    .map(|(d, g)| (d.as_str(), g.iter().map(String::as_str))),
            ),
            None => Ok(Self::builtin()),
        }?;
        map.fallback = fallback.enabled.then(|| fallback.name.clone());
        Ok(map)
    }

    /// The built-in table ([`DEFAULT_DOMAINS`]), its globs left unparsed until one must be compiled.
    fn builtin() -> Self {
        let entries = DEFAULT_DOMAINS
            .iter()
            .flat_map(|(domain, globs)| globs.iter().map(move |g| Entry::new(domain, g, None)))
            .collect();
        Self {
            entries,
            fallback: None,
        }
    }

    /// Parses a table of (domain, globs); a bad glob is an error naming its domain.
    pub fn new<'a, G: IntoIterator<Item = &'a str>>(
        table: impl IntoIterator<Item = (&'a str, G)>,
    ) -> Result<Self> {
        let mut entries = Vec::new();
        for (domain, globs) in table {
            for g in globs {
                // A glob of a shape with a direct test is plain text and braces: valid, and never
                // compiled for a file path, so it is not parsed here.
                let parsed = if Fast::of(g).is_some() {
                    None
                } else {
                    Some(glob(g).map_err(|e| {
                        Error::Other(format!("domain `{domain}`: bad glob `{g}`: {e}"))
                    })?)
                };
                entries.push(Entry::new(domain, g, parsed));
            }
        }
        Ok(Self {
            entries,
            fallback: None,
        })
    }

    /// The first domain (in table order) whose glob matches the project-relative `path`. Globs of the
    /// common shapes are tested directly (`Fast`); the others are compiled only when the path holds all
    /// their literals.
    #[must_use]
    pub fn classify(&self, path: &str) -> Option<DomainMatch> {
        let e = self.entries.iter().find(|e| e.matches(path))?;
        Some(DomainMatch {
            domain: e.domain.clone(),
            rule: e.text.clone(),
            kind: MatchKind::Glob,
        })
    }

    /// The domain of the project-relative `path` in `project`: the table's first match, with
    /// JavaScript/TypeScript of no telling location ([`BY_MANIFEST`]) decided by the nearest `package.json`,
    /// and source files that nothing claims given to the fallback domain (when it is on). Non-code files
    /// that nothing claims have no domain.
    #[must_use]
    pub fn classify_in(&self, project: &Path, path: &str) -> Option<DomainMatch> {
        match self.classify(path) {
            Some(m) if m.domain == BY_MANIFEST => match manifest::decide(project, path) {
                Some(v) => Some(DomainMatch {
                    domain: v.domain.to_owned(),
                    rule: format!("`{}` depends on `{}`", v.manifest, v.dependency),
                    kind: MatchKind::Manifest,
                }),
                None => self.fallback_for(
                    "JavaScript/TypeScript whose folder and nearest package.json name no UI or server framework",
                ),
            },
            Some(m) => Some(m),
            None if is_source(path) => self.fallback_for("source code no domain claims"),
            None => None,
        }
    }

    fn fallback_for(&self, why: &str) -> Option<DomainMatch> {
        self.fallback.as_ref().map(|name| DomainMatch {
            domain: name.clone(),
            rule: format!("fallback: {why}"),
            kind: MatchKind::Fallback,
        })
    }

    /// The fallback domain's name, when it is on.
    #[must_use]
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The rules no path can reach as written: for each glob, a path it matches (`**` and `*` filled in,
    /// the first of each `{a,b}`) that an earlier glob of another domain takes first. Each finding names
    /// both globs and the path; `portcullis doctor` shows them for tables the user wrote.
    #[must_use]
    pub fn shadowed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let sample = sample_path(&e.text);
            let earlier = self.entries[..i]
                .iter()
                .find(|o| o.domain != e.domain && o.matches(&sample));
            if let Some(o) = earlier
                && e.matches(&sample)
            {
                out.push(format!(
                    "`{}` glob `{}` is shadowed: `{sample}` goes to `{}` by its earlier glob `{}`",
                    e.domain, e.text, o.domain, o.text
                ));
            }
        }
        out
    }

    /// Every (domain, glob) of the table, in order.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.domain.as_str(), e.text.as_str()))
    }

    /// The domain names, in table order, without repeats (the manifest pseudo-domain stands for the
    /// frontend and backend it resolves to; the fallback comes last).
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        let all = self
            .entries
            .iter()
            .map(|e| e.domain.as_str())
            .filter(|d| *d != BY_MANIFEST)
            .chain(self.fallback.as_deref());
        for d in all {
            if !v.contains(&d) {
                v.push(d);
            }
        }
        v
    }
}

/// A path `glob` matches: `**/` dropped, `**` and `*` as `x`, `?` as `x`, the first choice of `{a,b}` and
/// of `[...]`.
fn sample_path(glob: &str) -> String {
    let mut out = String::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                } else {
                    out.push('x');
                }
            }
            '*' | '?' => out.push('x'),
            '{' => {
                let mut first = true;
                for c in chars.by_ref() {
                    match c {
                        '}' => break,
                        ',' => first = false,
                        c if first => out.push(c),
                        _ => {}
                    }
                }
            }
            '[' => {
                let mut taken = false;
                for c in chars.by_ref() {
                    match c {
                        ']' if taken => break,
                        '!' | '^' if !taken => {}
                        c if !taken => {
                            out.push(c);
                            taken = true;
                        }
                        _ => {}
                    }
                }
            }
            '\\' => {
                if let Some(c) = chars.next() {
                    out.push(c);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `path` is source code by its extension ([`SOURCE_EXTENSIONS`]).
#[must_use]
pub fn is_source(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SOURCE_EXTENSIONS.contains(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fast::expand;
    use globset::GlobSetBuilder;

    fn default_map() -> DomainMap {
        DomainMap::from_config(&DomainsConfig::default(), &FallbackDomain::default()).unwrap()
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
                rule: "**/*.go".into(),
                kind: MatchKind::Glob,
            }
        );
        let m = DomainMap::new([("b", ["api/**"]), ("a", ["**/*.go"])]).unwrap();
        assert_eq!(m.classify("api/x.go").unwrap().domain, "b");
    }

    #[test]
    fn shadowed_rules_are_found_with_an_example_path() {
        let m = DomainMap::new([
            ("backend", vec!["api/**", "**/*.go"]),
            ("docs", vec!["api/docs/**", "docs/**"]),
            ("web", vec!["**/*.{ts,tsx}", "api/**/*.ts"]),
        ])
        .unwrap();
        let found = m.shadowed();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("`api/docs/**`") && found[0].contains("`api/docs/x`"),
            "{found:?}"
        );
        assert!(found[1].contains("`api/**/*.ts`"), "{found:?}");
        assert!(
            default_map().shadowed().len() < 20,
            "the built-in table shadows on purpose, rarely"
        );
        assert_eq!(sample_path("src/{a,b}/[!c]x?/**/*.rs"), "src/a/cxx/x.rs");
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
            if let Ok(g) = glob(&text)
                && g.compile_matcher().is_match(&path) {
                    for lit in required_literals(&text) {
                        proptest::prop_assert!(path.contains(&lit), "glob {text:?} matched {path:?} without {lit:?}");
                    }
                }
        }

        /// And classification through the pre-filter equals a full GlobSet over the whole table.
        #[test]
        fn classify_equals_the_full_globset(path_parts in proptest::collection::vec(proptest::prop_oneof!["api/", "web/", "tests/", "x", "_test", ".go", ".tsx", ".md", "Dockerfile", "docs/", "apps/web/", "components/", "__tests__/", "conftest.py", ".ts", ".c", "migrations/", "/", "a/", ".gitlab-ci.yml", "compose.yaml", ".test.ts", "Test.java", "Spec.kt", ".hpp"], 0..7)) {
            let path: String = path_parts.concat();
            let m = DomainMap::from_config(&DomainsConfig::default(), &FallbackDomain::default()).unwrap();
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
    fn every_built_in_glob_parses_and_most_have_a_direct_test() {
        let mut direct = 0;
        let mut total = 0;
        for (domain, globs) in DEFAULT_DOMAINS {
            for g in *globs {
                assert!(glob(g).is_ok(), "{domain}: {g}");
                total += 1;
                direct += usize::from(Fast::of(g).is_some());
            }
        }
        assert!(
            direct * 10 >= total * 9,
            "{direct} of {total} globs have a direct test"
        );
        assert_eq!(
            expand("a{b,c}d{e,f}").unwrap(),
            ["abde", "abdf", "acde", "acdf"]
        );
        assert!(expand("a*{b}").is_none() && expand("a{b").is_none() && expand("{a{b}}").is_none());
    }

    #[test]
    fn a_bad_glob_names_its_domain() {
        let err = DomainMap::new([("web", ["src/[x"])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("web") && err.contains("src/[x"), "{err}");
    }
}
