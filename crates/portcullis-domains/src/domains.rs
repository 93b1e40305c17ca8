//! The domain table.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use portcullis_core::config::{Config, DomainTable};
use portcullis_core::{Error, Result};

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

/// A compiled domain table.
#[derive(Debug)]
pub struct DomainMap {
    set: GlobSet,
    /// Per glob index: (domain, glob text).
    owners: Vec<(String, String)>,
}

/// Compiles one glob with portcullis's rules (`*` stays in one folder).
pub fn glob(text: &str) -> std::result::Result<Glob, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

impl DomainMap {
    /// The table from config, or the built-in one.
    pub fn from_config(config: &Config) -> Result<Self> {
        match &config.domains {
            Some(DomainTable(table)) => Self::new(
                table
                    .iter()
                    .map(|(d, g)| (d.as_str(), g.iter().map(String::as_str))),
            ),
            None => Self::new(DEFAULT_DOMAINS.iter().map(|(d, g)| (*d, g.iter().copied()))),
        }
    }

    /// Compiles a table of (domain, globs).
    pub fn new<'a, G: IntoIterator<Item = &'a str>>(
        table: impl IntoIterator<Item = (&'a str, G)>,
    ) -> Result<Self> {
        let mut builder = GlobSetBuilder::new();
        let mut owners = Vec::new();
        for (domain, globs) in table {
            for g in globs {
                builder.add(glob(g).map_err(|e| {
                    Error::Other(format!("domain `{domain}`: bad glob `{g}`: {e}"))
                })?);
                owners.push((domain.to_owned(), g.to_owned()));
            }
        }
        let set = builder
            .build()
            .map_err(|e| Error::Other(format!("domains: {e}")))?;
        Ok(Self { set, owners })
    }

    /// The first domain (in table order) whose glob matches the project-relative `path`.
    #[must_use]
    pub fn classify(&self, path: &str) -> Option<DomainMatch> {
        let first = self.set.matches(path).into_iter().min()?;
        let (domain, glob) = &self.owners[first];
        Some(DomainMatch {
            domain: domain.clone(),
            glob: glob.clone(),
        })
    }

    /// The domain names, in table order, without repeats.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for (d, _) in &self.owners {
            if !v.contains(&d.as_str()) {
                v.push(d);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_map() -> DomainMap {
        DomainMap::from_config(&Config::default()).unwrap()
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
    fn a_bad_glob_names_its_domain() {
        let err = DomainMap::new([("web", ["src/[x"])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("web") && err.contains("src/[x"), "{err}");
    }
}
