//! A test runner's own verdict, read from its output: for a test run whose exit status is not the command's
//! (`cargo test 2>&1 | tail -20`, `cargo test || true`, `cargo test; echo done`).
//!
//! The summary lines of cargo (`test result: ok.` / `FAILED.`, `error: could not compile`), pytest
//! (`=== 3 passed, 1 failed in 0.1s ===`), go test (`ok  pkg`, `FAIL`, `--- FAIL`), jest (`Tests: 1 failed,
//! 2 passed`), vitest (`Tests  1 failed | 2 passed`) and rspec (`3 examples, 1 failure`). A failure anywhere
//! wins over passes elsewhere (several test binaries in one run); no summary line at all is `None`.

use std::sync::OnceLock;

use regex::Regex;

/// (pattern, passed) per summary line; checked on every line of the output.
fn lines() -> &'static [(Regex, bool)] {
    static LINES: OnceLock<Vec<(Regex, bool)>> = OnceLock::new();
    LINES.get_or_init(|| {
        [
            // cargo test / nextest
            (r"^test result: FAILED\.", false),
            (r"^error: (could not compile|test failed)", false),
            (r"^test result: ok\.", true),
            (
                r"^\s*Summary \[.*\] \d+ tests? run: \d+ passed(, \d+ skipped)?\s*$",
                true,
            ),
            (r"^\s*Summary \[.*\] \d+ tests? run: .*\d+ failed", false),
            // pytest
            (r"^=+ .*\b\d+ (failed|errors?)\b.* in [\d.]+s", false),
            (r"^=+ .*\b\d+ passed\b.* in [\d.]+s", true),
            // go test
            (r"^(FAIL|--- FAIL)\b", false),
            (r"^ok\s+\S+", true),
            // jest (`Tests:`) and vitest (`Tests  `)
            (r"^\s*Tests:?\s+.*\b\d+ failed", false),
            (r"^\s*Tests:?\s+\d+ passed", true),
            // rspec
            (r"^\d+ examples?, [1-9]\d* failures?", false),
            (r"^\d+ examples?, 0 failures", true),
        ]
        .into_iter()
        .map(|(p, passed)| (Regex::new(p).expect("summary patterns are valid"), passed))
        .collect()
    })
}

/// The runner's verdict in `output`: `Some(true)` when it reports a pass and no failure, `Some(false)`
/// on any reported failure, `None` without a summary line.
#[must_use]
pub(crate) fn verdict(output: &str) -> Option<bool> {
    let mut seen = None;
    for line in output.lines() {
        for (pattern, passed) in lines() {
            if pattern.is_match(line) {
                if !passed {
                    return Some(false);
                }
                seen = Some(true);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::verdict;

    #[test]
    fn each_runner_s_summary() {
        let cases = [
            (
                "running 3 tests\ntest result: ok. 3 passed; 0 failed; 0 ignored",
                Some(true),
            ),
            (
                "test result: ok. 3 passed\ntest result: FAILED. 1 passed; 1 failed",
                Some(false),
            ),
            (
                "error: could not compile `x` (lib test) due to 1 previous error",
                Some(false),
            ),
            ("==== 12 passed in 0.31s ====", Some(true)),
            ("==== 1 failed, 11 passed in 0.40s ====", Some(false)),
            ("ok  \texample.com/api\t0.012s", Some(true)),
            (
                "--- FAIL: TestX (0.00s)\nFAIL\texample.com/api\t0.01s",
                Some(false),
            ),
            ("Tests:       1 failed, 4 passed, 5 total", Some(false)),
            ("Tests:       5 passed, 5 total", Some(true)),
            (" Tests  2 passed (2)", Some(true)),
            (" Tests  1 failed | 1 passed (2)", Some(false)),
            ("12 examples, 0 failures", Some(true)),
            ("12 examples, 2 failures", Some(false)),
            ("done\nall good", None),
        ];
        for (output, want) in cases {
            assert_eq!(verdict(output), want, "{output}");
        }
    }
}
