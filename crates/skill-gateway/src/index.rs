//! The retrieval index over the library, its BM25 ranking, and its cache.
//!
//! **Ranking.** Okapi BM25 (k1 1.2, b 0.75) over one weighted bag of terms per skill, BM25F-style: a
//! term counts 3 times in the name or keywords, twice in the description (where the "Use when"
//! triggers are) or a gateway route, once in a heading. Deterministic, no network, no model.
//!
//! **Cache.** The index is stored in the project's state folder (`skill-index.json`) with a stamp
//! (modification time and length) of every library folder and `SKILL.md` it was built from, and the
//! config that shaped it. A run re-stats those and uses the cache when all hold; any change (a skill
//! edited, added or removed, a folder created) rebuilds it. Each skill's terms are stored as one string
//! (`term*weight term ...`) so that loading the cache parses a few hundred strings, not tens of
//! thousands of JSON values.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use portcullis_core::Deadline;
use portcullis_core::state::{StateDir, StateFile};
use rust_stemmers::Stemmer;
use serde::{Deserialize, Serialize};

use crate::config::SkillsConfig;
use crate::library::{self, Library, Roots, Skill, Stamp};
use crate::text;

const K1: f64 = 1.2;
const B: f64 = 0.75;
const NAME_WEIGHT: u32 = 3;
const DESCRIPTION_WEIGHT: u32 = 2;
const ROUTE_WEIGHT: u32 = 2;
const HEADING_WEIGHT: u32 = 1;

/// One skill's weighted terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Terms {
    /// `term*weight` separated by spaces; `*1` is left out.
    packed: String,
    /// Sum of the weights.
    len: f64,
}

impl Terms {
    fn of(skill: &Skill, stemmer: &Stemmer) -> Self {
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
        let mut packed = String::new();
        let mut len = 0u32;
        for (term, w) in &weights {
            if !packed.is_empty() {
                packed.push(' ');
            }
            packed.push_str(term);
            if *w != 1 {
                let _ = write!(packed, "*{w}");
            }
            len += w;
        }
        Self {
            packed,
            len: f64::from(len),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.packed.split(' ').filter(|t| !t.is_empty()).map(|t| {
            t.split_once('*').map_or((t, 1.0), |(term, w)| {
                (term, w.parse::<u32>().map_or(1.0, f64::from))
            })
        })
    }
}

/// The library and its terms, as cached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Index {
    /// What shaped the index besides the files: the folders and the gateway prefix.
    key: String,
    pub(crate) library: Library,
    terms: Vec<Terms>,
    avg_len: f64,
}

impl StateFile for Index {
    const NAME: &'static str = "skill-index";
    const SCHEMA_VERSION: u32 = 1;
}

/// A skill's score for a prompt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scored {
    /// Index into the library's skills.
    pub(crate) skill: usize,
    /// BM25.
    pub(crate) score: f64,
}

/// How the index was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// From the cache, every stamp holding.
    Cached,
    /// Built now (and stored when it could be).
    Built,
}

fn cache_key(roots: &Roots, config: &SkillsConfig) -> String {
    format!(
        "{:?}|{:?}|{}|{}",
        roots.libraries, roots.core, config.gateway_prefix, config.max_entries
    )
}

impl Index {
    /// Builds the index of `roots`.
    pub(crate) fn build(roots: &Roots, config: &SkillsConfig) -> Self {
        let library = library::read(roots, config);
        let stemmer = text::stemmer();
        let terms: Vec<Terms> = library
            .skills
            .iter()
            .map(|s| Terms::of(s, &stemmer))
            .collect();
        #[allow(clippy::cast_precision_loss)] // fewer skills than 2^52
        let avg_len = if terms.is_empty() {
            0.0
        } else {
            terms.iter().map(|t| t.len).sum::<f64>() / terms.len() as f64
        };
        Self {
            key: cache_key(roots, config),
            library,
            terms,
            avg_len,
        }
    }

    /// The cached index when it still describes the library, else a new one (stored for next time).
    pub(crate) fn load(
        state: &StateDir,
        roots: &Roots,
        config: &SkillsConfig,
        deadline: &Deadline,
    ) -> (Self, Origin) {
        // Most projects have no library: nothing to read, cache or write.
        if !roots.libraries.iter().any(|l| l.is_dir()) {
            return (Self::default(), Origin::Cached);
        }
        let key = cache_key(roots, config);
        if let Ok((cached, _)) = state.load::<Self>()
            && cached.key == key
            && !cached.library.stamps.is_empty()
            && cached.library.stamps.iter().all(Stamp::holds)
        {
            return (cached, Origin::Cached);
        }
        let built = Self::build(roots, config);
        // The library outside the project (`~/.claude`) is only read; the cache is the project's.
        let _ = state.update::<Self, _>(deadline, |c| c.clone_from(&built));
        (built, Origin::Built)
    }

    /// Every skill with a score above zero for `prompt`, best first (ties by name).
    pub(crate) fn rank(&self, prompt: &str, stemmer: &Stemmer) -> Vec<Scored> {
        let mut query = text::terms(prompt, stemmer);
        query.sort();
        query.dedup();
        if query.is_empty() || self.terms.is_empty() {
            return Vec::new();
        }
        let slot: HashMap<&str, usize> = query
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        // tf of each query term in each skill, and each term's document frequency.
        let mut tfs: Vec<Vec<(usize, f64)>> = Vec::with_capacity(self.terms.len());
        let mut df = vec![0u32; query.len()];
        for terms in &self.terms {
            let mut hits = Vec::new();
            for (term, weight) in terms.iter() {
                if let Some(&q) = slot.get(term) {
                    hits.push((q, weight));
                    df[q] += 1;
                }
            }
            tfs.push(hits);
        }
        #[allow(clippy::cast_precision_loss)]
        let n = self.terms.len() as f64;
        let idf: Vec<f64> = df
            .iter()
            .map(|&d| {
                let d = f64::from(d);
                (1.0 + (n - d + 0.5) / (d + 0.5)).ln()
            })
            .collect();
        let mut scored: Vec<Scored> = tfs
            .iter()
            .enumerate()
            .filter(|(_, hits)| !hits.is_empty())
            .map(|(i, hits)| {
                let norm = K1 * (1.0 - B + B * self.terms[i].len / self.avg_len.max(1.0));
                let score = hits
                    .iter()
                    .map(|&(q, tf)| idf[q] * tf * (K1 + 1.0) / (tf + norm))
                    .sum();
                Scored { skill: i, score }
            })
            .collect();
        scored.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then_with(|| {
                self.library.skills[a.skill]
                    .name
                    .cmp(&self.library.skills[b.skill].name)
            })
        });
        scored
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
