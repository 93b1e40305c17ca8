//! End-to-end: every scenario file in `tests/e2e/` runs the real Claude Code CLI (pinned, cached outside
//! the repo) against the stand-in model, with portcullis installed by `portcullis install --project`.
//! One named test per file: `cargo test --test e2e -- agent-first` runs a subset. The file format is
//! documented in `portcullis_testkit::scenario`.

use std::path::Path;

use libtest_mimic::{Arguments, Failed, Trial};
use portcullis_testkit::e2e::claude_or_skip;
use portcullis_testkit::scenario::{run_file, scenario_files};

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    let files = scenario_files(&dir);
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let trials = files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Trial::test(name, move || {
                let Some(claude) = claude_or_skip() else {
                    return Ok(());
                };
                run_file(&path, &claude).map_err(Failed::from)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
