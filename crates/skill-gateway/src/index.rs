//! The retrieval index over the library, its BM25 ranking, and its cache.
//!
//! **Ranking.** Okapi BM25 (k1 1.2, b 0.75) over one weighted bag of terms per skill, BM25F-style: a
//! term counts 3 times in the name or keywords, twice in the description (where the "Use when"
//! triggers are) or a gateway route, once in a heading. Deterministic, no network, no model.
//!
//! **Cache.** The index is stored in the project's state folder (`skill-index.txt`) with a stamp
//! (modification time and length) of every library folder and `SKILL.md` it was built from, and the
//! config that shaped it. A run re-stats those and uses the cache when all hold; any change (a skill
//! edited, added or removed, a folder created) rebuilds it.
//!
//! The cache is read on every prompt, so it is plain text made to be read lazily, not JSON (a 300-skill
//! index in JSON took 2.2 ms to load, more than the rest of the hook): a header line, the stamps and
//! the skills one per line, then the inverted index as `term<TAB>doc*weight doc ...` lines sorted by
//! term. Loading splits the stamps and skills; a prompt binary-searches the term lines for its own few
//! terms. A built index goes through the same text, so the cached and the fresh index cannot differ.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Read;

use portcullis_core::state::{StateDir, write_atomic};
use rust_stemmers::Stemmer;

use crate::config::SkillsConfig;
use crate::library::{self, Library, Roots, Skill, Skipped, Stamp};
use crate::text;

const K1: f64 = 1.2;
const B: f64 = 0.75;
const NAME_WEIGHT: u32 = 3;
const DESCRIPTION_WEIGHT: u32 = 2;
const ROUTE_WEIGHT: u32 = 2;
const HEADING_WEIGHT: u32 = 1;

/// The cache file, in the project's state folder.
const CACHE_FILE: &str = "skill-index.txt";
/// Its first line; another first line (an older layout) means rebuild.
const HEADER: &str = "portcullis skill index 1";
/// A larger cache is not read (a 20,000-entry library makes a few MB).
const MAX_CACHE_BYTES: u64 = 64 << 20;

/// One skill's terms with their weights (the weighted term frequency).
fn weights(skill: &Skill, stemmer: &Stemmer) -> BTreeMap<String, u32> {
    let mut weights: BTreeMap<String, u32> = BTreeMap::new();
    let mut add = |text: &str, weight: u32| {
        for t in text::terms(text, stemmer) {
            *weights.entry(t).or_default() += weight;
        }
    };
    add(&skill.name.replace(['-', '_'], " "), NAME_WEIGHT);
    for k in &skill.keywords {
        add(k, NAME_WEIGHT);
    }
    if let Some(d) = &skill.description {
        add(d, DESCRIPTION_WEIGHT);
    }
    for r in &skill.routes {
        add(r, ROUTE_WEIGHT);
    }
    for h in &skill.headings {
        add(h, HEADING_WEIGHT);
    }
    weights
}

/// One skill as the index keeps it: what routing ranks and what the agent is told, nothing more
/// (`portcullis skills list` reads the library itself).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Doc {
    /// The skill's name.
    pub(crate) name: String,
    /// Its `SKILL.md`, as the agent is told it.
    pub(crate) path: String,
    /// The first line of its description.
    pub(crate) summary: String,
    /// The sum of its term weights (BM25's document length).
    len: f64,
}

/// The library's skills and their terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Index {
    /// What shaped the index besides the files: the folders and the gateway prefix.
    key: String,
    /// What the index was built from.
    stamps: Vec<Stamp>,
    pub(crate) docs: Vec<Doc>,
    avg_len: f64,
    /// The inverted index: `term<TAB>postings` lines sorted by term, postings being `doc*weight`
    /// entries separated by spaces (`*1` left out).
    table: String,
    /// Where each line of `table` starts and where its tab is.
    lines: Vec<(usize, usize)>,
}

/// A skill's score for a prompt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scored {
    /// Index into the index's docs.
    pub(crate) skill: usize,
    /// BM25.
    pub(crate) score: f64,
}

/// How the index was had.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Origin {
    /// From the cache, every stamp holding (or no library at all).
    Cached,
    /// Built now from this read of the library (and stored when it could be).
    Built(Library),
}

fn cache_key(roots: &Roots, config: &SkillsConfig) -> String {
    format!(
        "{:?}|{:?}|{}|{}",
        roots.libraries, roots.core, config.gateway_prefix, config.max_entries
    )
}

/// A field as one line's cell: tabs and line breaks become spaces.
fn cell(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn fits_a_cell(text: &str) -> bool {
    !text.contains(['\t', '\n', '\r'])
}

impl Index {
    /// Builds the index of `roots` as cache text; also returns the library it read (with the skills
    /// whose path cannot be a cell of the cache moved to `skipped`).
    fn build_text(roots: &Roots, config: &SkillsConfig) -> (String, Library) {
        let mut library = library::read(roots, config);
        let (kept, odd): (Vec<Skill>, Vec<Skill>) = std::mem::take(&mut library.skills)
            .into_iter()
            .partition(|s| fits_a_cell(&s.path));
        library.skills = kept;
        library.skipped.extend(odd.into_iter().map(|s| Skipped {
            path: cell(&s.path),
            why: "its path holds a tab or a line break".into(),
        }));
        let stemmer = text::stemmer();
        let mut docs = String::new();
        let mut lens = Vec::with_capacity(library.skills.len());
        let mut by_term: BTreeMap<String, String> = BTreeMap::new();
        for (i, skill) in library.skills.iter().enumerate() {
            let mut len = 0;
            for (term, w) in weights(skill, &stemmer) {
                len += w;
                let list = by_term.entry(term).or_default();
                if !list.is_empty() {
                    list.push(' ');
                }
                let _ = write!(list, "{i}");
                if w != 1 {
                    let _ = write!(list, "*{w}");
                }
            }
            lens.push(f64::from(len));
            let _ = writeln!(
                docs,
                "{len}\t{}\t{}\t{}",
                cell(&skill.name),
                skill.path,
                cell(&skill.summary())
            );
        }
        let avg_len = if lens.is_empty() {
            0.0
        } else {
            lens.iter().sum::<f64>() / lens.len() as f64
        };
        let stamps: Vec<&Stamp> = library
            .stamps
            .iter()
            .filter(|s| fits_a_cell(&s.path))
            .collect();
        let mut out = format!(
            "{HEADER}\nkey\t{}\nstamps\t{}\n",
            cell(&cache_key(roots, config)),
            stamps.len()
        );
        for s in stamps {
            let _ = writeln!(out, "{}\t{}\t{}", s.mtime, s.len, s.path);
        }
        let _ = writeln!(out, "docs\t{}\t{avg_len}", lens.len());
        out.push_str(&docs);
        let _ = writeln!(out, "terms\t{}", by_term.len());
        for (term, postings) in by_term {
            let _ = writeln!(out, "{term}\t{postings}");
        }
        (out, library)
    }

    /// Builds the index of `roots`; also returns the library it read.
    pub(crate) fn build(roots: &Roots, config: &SkillsConfig) -> (Self, Library) {
        let (text, library) = Self::build_text(roots, config);
        (Self::parse(text).unwrap_or_default(), library)
    }

    /// Reads cache text; `None` when it is not a whole index of this layout.
    fn parse(mut text: String) -> Option<Self> {
        let mut pos = 0;
        let mut line = |text: &str| -> Option<(usize, usize)> {
            let start = pos;
            let end = start + memchr::memchr(b'\n', text.get(start..)?.as_bytes())?;
            pos = end + 1;
            Some((start, end))
        };
        let (s, e) = line(&text)?;
        if &text[s..e] != HEADER {
            return None;
        }
        let (s, e) = line(&text)?;
        let key = text[s..e].strip_prefix("key\t")?.to_owned();
        let (s, e) = line(&text)?;
        let count: usize = text[s..e].strip_prefix("stamps\t")?.parse().ok()?;
        let mut stamps = Vec::with_capacity(count);
        for _ in 0..count {
            let (s, e) = line(&text)?;
            let mut cells = text[s..e].splitn(3, '\t');
            stamps.push(Stamp {
                mtime: cells.next()?.parse().ok()?,
                len: cells.next()?.parse().ok()?,
                path: cells.next()?.to_owned(),
            });
        }
        let (s, e) = line(&text)?;
        let (count, avg_len) = text[s..e].strip_prefix("docs\t")?.split_once('\t')?;
        let (count, avg_len): (usize, f64) = (count.parse().ok()?, avg_len.parse().ok()?);
        let mut docs = Vec::with_capacity(count);
        for _ in 0..count {
            let (s, e) = line(&text)?;
            let mut cells = text[s..e].splitn(4, '\t');
            docs.push(Doc {
                len: cells.next()?.parse().ok()?,
                name: cells.next()?.to_owned(),
                path: cells.next()?.to_owned(),
                summary: cells.next()?.to_owned(),
            });
        }
        let (s, e) = line(&text)?;
        let count: usize = text[s..e].strip_prefix("terms\t")?.parse().ok()?;
        let table = text.split_off(pos);
        let mut lines = Vec::with_capacity(count);
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', table.as_bytes()) {
            let tab = start + memchr::memchr(b'\t', &table.as_bytes()[start..end])?;
            lines.push((start, tab));
            start = end + 1;
        }
        if lines.len() != count || start != table.len() {
            return None;
        }
        Some(Self {
            key,
            stamps,
            docs,
            avg_len,
            table,
            lines,
        })
    }

    /// The paths of the skills named `name`.
    pub(crate) fn paths_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.docs
            .iter()
            .filter(move |d| d.name == name)
            .map(|d| d.path.as_str())
    }

    fn read_cache(state: &StateDir) -> Option<Self> {
        let path = state.path().join(CACHE_FILE);
        // Only a regular file of ours: a symlink or FIFO planted there is not followed or opened.
        let file = portcullis_core::files::open_own(&path, OpenOptions::new().read(true)).ok()?;
        let len = file.metadata().ok()?.len();
        if len > MAX_CACHE_BYTES {
            return None;
        }
        let mut text = String::with_capacity(usize::try_from(len).ok()? + 1);
        file.take(MAX_CACHE_BYTES).read_to_string(&mut text).ok()?;
        Self::parse(text)
    }

    /// The cached index when it still describes the library, else a new one (stored for next time).
    pub(crate) fn load(state: &StateDir, roots: &Roots, config: &SkillsConfig) -> (Self, Origin) {
        // Most projects have no library: nothing to read, cache or write.
        if !roots.libraries.iter().any(|l| l.is_dir()) {
            return (Self::default(), Origin::Cached);
        }
        if let Some(cached) = Self::read_cache(state)
            && cached.key == cell(&cache_key(roots, config))
            && !cached.stamps.is_empty()
            && cached.stamps.iter().all(Stamp::holds)
        {
            return (cached, Origin::Cached);
        }
        let (text, library) = Self::build_text(roots, config);
        // Written whole and renamed into place: a reader sees the old index or the new one. Two
        // builders write the same text; the last rename wins. The library outside the project
        // (`~/.claude`) is only read; the cache is the project's.
        if state.ensure().is_ok() {
            let _ = write_atomic(&state.path().join(CACHE_FILE), text.as_bytes());
        }
        (
            Self::parse(text).unwrap_or_default(),
            Origin::Built(library),
        )
    }

    /// The postings of `term`: (doc, weight) pairs.
    fn postings(&self, term: &str) -> Vec<(usize, f64)> {
        let found = self
            .lines
            .binary_search_by(|&(start, tab)| self.table[start..tab].cmp(term));
        let Ok(at) = found else {
            return Vec::new();
        };
        let (_, tab) = self.lines[at];
        let end = self.lines.get(at + 1).map_or(self.table.len(), |l| l.0) - 1;
        self.table[tab + 1..end]
            .split(' ')
            .filter_map(|e| {
                let (doc, w) = e.split_once('*').unwrap_or((e, "1"));
                Some((doc.parse::<usize>().ok()?, w.parse::<f64>().ok()?))
            })
            .filter(|&(doc, _)| doc < self.docs.len())
            .collect()
    }

    /// Every skill with a score above zero for `prompt`, best first (ties by name).
    pub(crate) fn rank(&self, prompt: &str, stemmer: &Stemmer) -> Vec<Scored> {
        let mut query = text::terms(prompt, stemmer);
        query.sort();
        query.dedup();
        if query.is_empty() || self.docs.is_empty() {
            return Vec::new();
        }
        let n = self.docs.len() as f64;
        let mut scores = vec![0.0f64; self.docs.len()];
        let mut hit = vec![false; self.docs.len()];
        for q in &query {
            let entries = self.postings(q);
            let df = entries.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for (doc, tf) in entries {
                let norm = K1 * (1.0 - B + B * self.docs[doc].len / self.avg_len.max(1.0));
                scores[doc] += idf * tf * (K1 + 1.0) / (tf + norm);
                hit[doc] = true;
            }
        }
        let mut ranked: Vec<Scored> = scores
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| hit[i])
            .map(|(skill, score)| Scored { skill, score })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.docs[a.skill].name.cmp(&self.docs[b.skill].name))
        });
        ranked
    }
}

/// The skills to offer from a ranking: at most `max_skills`, each at least `min_score` and at least
/// `relative_cut` of the best.
pub(crate) fn choose(ranked: &[Scored], config: &SkillsConfig) -> Vec<Scored> {
    let Some(best) = ranked.first() else {
        return Vec::new();
    };
    ranked
        .iter()
        .take_while(|s| s.score >= config.min_score && s.score >= best.score * config.relative_cut)
        .take(config.max_skills)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_text_that_is_cut_or_of_another_layout_is_not_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join(".claude/skill-library/a");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(
            lib.join("SKILL.md"),
            "---\nname: a-skill\ndescription: Alpha things. Use when alpha.\n---\n# Alpha\n",
        )
        .unwrap();
        let config = SkillsConfig::default();
        let roots = Roots::new(dir.path(), None, None, &config);
        let (text, _) = Index::build_text(&roots, &config);
        let whole = Index::parse(text.clone()).unwrap();
        assert_eq!(whole.docs[0].name, "a-skill");
        assert_eq!(
            whole.postings("alpha"),
            [(0, 5.0)],
            "twice in the description (2 each), once in a heading"
        );
        for cut in [0, 10, text.len() / 2, text.len() - 1] {
            assert!(
                Index::parse(text[..cut].to_owned()).is_none(),
                "cut at {cut}"
            );
        }
        assert!(Index::parse(text.replacen(HEADER, "portcullis skill index 0", 1)).is_none());
    }

    #[test]
    fn a_skill_whose_path_breaks_a_cache_line_is_skipped_and_said() {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["plain", "tab\there"] {
            let lib = dir.path().join(".claude/skill-library").join(folder);
            std::fs::create_dir_all(&lib).unwrap();
            std::fs::write(
                lib.join("SKILL.md"),
                format!(
                    "---\nname: {}\ndescription: D. Use when d.\n---\n",
                    folder.len()
                ),
            )
            .unwrap();
        }
        let config = SkillsConfig::default();
        let (index, library) = Index::build(&Roots::new(dir.path(), None, None, &config), &config);
        assert_eq!(index.docs.len(), 1);
        assert_eq!(index.docs[0].name, "5");
        assert_eq!(library.skipped.len(), 1);
        assert_eq!(
            library.skipped[0].why,
            "its path holds a tab or a line break"
        );
    }
}
