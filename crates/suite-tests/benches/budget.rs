//! The bench's budgets (`benches/budget.toml`), their check, and the README table written from a run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::{Row, root, secs};

/// The budget file: per case, the most its median may cost.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Budgets {
    /// How far past its budget a case may measure before the check fails, as a fraction of the budget:
    /// the spread between runs of the same binaries on a shared machine.
    noise_margin: f64,
    /// As a ratio of the dynamically linked empty binary's median.
    ratio: BTreeMap<String, f64>,
    /// As milliseconds over the dynamically linked empty binary's median.
    extra_ms: BTreeMap<String, f64>,
    /// As a ratio of `git status --porcelain` on the same repository.
    vs_git: BTreeMap<String, f64>,
}

/// One case's budget, and the noise margin the check allows past it.
#[derive(Clone, Copy)]
pub(crate) struct Budget {
    limit: Limit,
    noise_margin: f64,
}

#[derive(Clone, Copy)]
enum Limit {
    /// At most this ratio of the floor's median.
    Ratio(f64),
    /// At most this many milliseconds over the floor's median.
    ExtraMs(f64),
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit {
            Limit::Ratio(r) => write!(f, "{r:.2}x"),
            Limit::ExtraMs(ms) => write!(f, "+{ms} ms"),
        }
    }
}

impl Budget {
    /// Whether `row` is within this budget plus the noise margin.
    pub(crate) fn holds(self, row: &Row) -> bool {
        let slack = 1.0 + self.noise_margin;
        match self.limit {
            Limit::Ratio(r) => row.ratio <= r * slack,
            Limit::ExtraMs(ms) => (secs(row.median) - secs(row.floor)) * 1e3 <= ms * slack,
        }
    }
}

fn budget_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/budget.toml")
}

impl Budgets {
    pub(crate) fn load() -> Self {
        let text = std::fs::read_to_string(budget_file()).unwrap();
        toml::from_str(&text).unwrap_or_else(|e| panic!("benches/budget.toml: {e}"))
    }

    /// The budget of a case measured against the empty binary.
    pub(crate) fn of(&self, case: &str) -> Option<Budget> {
        let limit = self
            .ratio
            .get(case)
            .map(|&r| Limit::Ratio(r))
            .or_else(|| self.extra_ms.get(case).map(|&ms| Limit::ExtraMs(ms)))?;
        Some(self.budget(limit))
    }

    /// The budget of a case measured against `git status`.
    pub(crate) fn vs_git(&self, case: &str) -> Option<Budget> {
        let limit = Limit::Ratio(*self.vs_git.get(case)?);
        Some(self.budget(limit))
    }

    fn budget(&self, limit: Limit) -> Budget {
        Budget {
            limit,
            noise_margin: self.noise_margin,
        }
    }
}

/// True when every row has a budget and is within it. (That every budget names a case of the bench is
/// a test: `tests/suite/registry.rs`.)
pub(crate) fn check(rows: &[Row]) -> bool {
    let mut ok = true;
    for row in rows {
        match row.budget {
            None => {
                println!("FAIL {}: no budget in benches/budget.toml", row.name);
                ok = false;
            }
            Some(budget) if !budget.holds(row) => {
                println!(
                    "FAIL {}: {:.2}x, {:.1} ms over its floor; budget {budget} (+{:.0}% for noise)",
                    row.name,
                    row.ratio,
                    (secs(row.median) - secs(row.floor)) * 1e3,
                    budget.noise_margin * 100.0
                );
                ok = false;
            }
            Some(_) => {}
        }
    }
    println!(
        "budget check: {}",
        if ok {
            "every case within its budget"
        } else {
            "FAILED"
        }
    );
    ok
}

const BEGIN: &str = "<!-- bench:begin (scripts/bench.sh --readme writes this table) -->";
const END: &str = "<!-- bench:end -->";

/// Replaces the README's performance table (between its markers) with this run's figures.
pub(crate) fn rewrite_readme(rows: &[Row], runs: usize) {
    use std::fmt::Write as _;
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md has no bench markers");
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let small = if std::env::var_os("PORTCULLIS_BENCH_SMALL").is_some() {
        "PORTCULLIS_BENCH_SMALL=1 "
    } else {
        ""
    };
    let mut table = format!(
        "{BEGIN}\nMeasured {} on {cpu}, {cores} cores, a shared machine: read the ratios, not the times \
         (`{small}scripts/bench.sh {runs} --readme`, median of {runs} interleaved runs).\n\n\
         | case | median | × empty, dynamic | × empty, as built | budget |\n|---|--:|--:|--:|--:|\n",
        chrono::Utc::now().format("%Y-%m-%d"),
    );
    for row in rows {
        let installed = row
            .ratio_installed
            .map_or_else(|| "(× git status)".to_owned(), |r| format!("{r:.2}"));
        let _ = writeln!(
            table,
            "| {} | {:.2} ms | {:.2} | {installed} | {} |",
            row.name,
            secs(row.median) * 1e3,
            row.ratio,
            row.budget.map_or_else(|| "-".to_owned(), |b| b.to_string())
        );
    }
    let updated = format!("{}{table}{}", &readme[..begin], &readme[end..]);
    std::fs::write(&path, updated).unwrap();
    println!("README.md: performance table rewritten");
}
