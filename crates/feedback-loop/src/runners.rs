//! The test runners feedback-loop knows without configuration, and what a run of one tests: the code of
//! its language, where it was pointed (issue 36: `npm test` used to clear a Go back end, and pytest did
//! not count for a Python folder without a pytest config at the project root).
//!
//! A simple command is a test run when its program (by its file name, so `/usr/local/bin/pytest`,
//! `./node_modules/.bin/vitest` and `~/.cargo/bin/cargo` count like the bare names; past `env`, `time`,
//! `timeout N`, `nice`, `sudo`, `npx`, `uv run`, `poetry run`, `pipenv run`, `bundle exec` and
//! `python -m`) is a runner below. It tests the modified files of its languages under the folder it ran in,
//! or under the paths it was given (`go test ./api/...`, `pytest scripts/`, `jest web/`, `make -C api
//! test`).

use std::path::Path;

/// A test runner: the languages it tests, the files that mark a project of them, and what to run.
#[derive(Debug)]
pub(crate) struct Runner {
    /// File extensions of the code it tests; empty: any (`make test`).
    pub(crate) exts: &'static [&'static str],
    /// Files that mark a project it tests (the hint names the folder that holds one).
    pub(crate) manifests: &'static [&'static str],
    /// The command a hint names.
    pub(crate) hint: &'static str,
}

static CARGO: Runner = Runner {
    exts: &["rs"],
    manifests: &["Cargo.toml"],
    hint: "cargo test",
};
static GO: Runner = Runner {
    exts: &["go"],
    manifests: &["go.mod"],
    hint: "go test ./...",
};
static PYTHON: Runner = Runner {
    exts: &["py"],
    manifests: &[
        "pyproject.toml",
        "pytest.ini",
        "setup.cfg",
        "setup.py",
        "tox.ini",
        "conftest.py",
        "requirements.txt",
    ],
    hint: "pytest",
};
static JS: Runner = Runner {
    exts: &[
        "js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts", "vue", "svelte",
    ],
    manifests: &["package.json"],
    hint: "npm test",
};
static RUBY: Runner = Runner {
    exts: &["rb"],
    manifests: &["Gemfile"],
    hint: "bundle exec rspec",
};
static JVM: Runner = Runner {
    exts: &["java", "kt", "kts", "scala", "groovy"],
    manifests: &["pom.xml", "build.gradle", "build.gradle.kts"],
    hint: "mvn test",
};
static NATIVE: Runner = Runner {
    exts: &["c", "cc", "cpp", "cxx", "h", "hh", "hpp"],
    manifests: &["CMakeLists.txt"],
    hint: "ctest",
};
static MAKE: Runner = Runner {
    exts: &[],
    manifests: &["Makefile", "makefile", "GNUmakefile"],
    hint: "make test",
};

/// The runners a hint may name, by what a domain's files are.
pub(crate) static HINTED: &[&Runner] = &[&CARGO, &GO, &PYTHON, &JS, &RUBY, &JVM, &NATIVE];

/// Whether a file is of a language some runner tests: only such files must each be tested before a run
/// clears their domain (a `.sql` or `.css` file is tested by whatever tests its neighbours, or not at all).
pub(crate) fn testable(file: &str) -> bool {
    let ext = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    HINTED.iter().any(|r| r.exts.contains(&ext))
}

/// The command that tests a file of this kind (`pytest` for `scripts/etl.py`), found by its language
/// alone: a run of it counts wherever it runs, with or without a project file.
#[must_use]
pub fn runner_of(file: &str) -> Option<&'static str> {
    let ext = Path::new(file).extension()?.to_str()?;
    HINTED
        .iter()
        .find(|r| r.exts.contains(&ext))
        .map(|r| r.hint)
}

/// A test run: its runner and the paths it was pointed at (relative to where it ran; empty: that folder).
#[derive(Debug)]
pub(crate) struct TestRun {
    pub(crate) runner: &'static Runner,
    pub(crate) paths: Vec<String>,
}

/// Programs that run the program after them.
const WRAPPERS: &[&str] = &[
    "env", "time", "nice", "nohup", "sudo", "command", "exec", "stdbuf", "npx", "pnpx", "bunx",
    "chronic",
];

/// The test run a simple command's words are, if any.
pub(crate) fn recognise(words: &[Option<String>]) -> Option<TestRun> {
    let words: Vec<&str> = words
        .iter()
        .map(|w| w.as_deref().unwrap_or("\u{0}"))
        .collect();
    let mut i = 0;
    loop {
        let w = *words.get(i)?;
        let name = base(w);
        if w.contains('=') && !w.starts_with('-') && !w.starts_with('=') {
            i += 1;
        } else if WRAPPERS.contains(&name) {
            i += 1;
            // `timeout 600 cargo test`, `nice -n 5 …`: their own options and operands.
            while words.get(i).is_some_and(|a| a.starts_with('-')) {
                i += 1;
            }
        } else if name == "timeout" {
            i += 1;
            while words.get(i).is_some_and(|a| a.starts_with('-')) {
                i += 1;
            }
            i += 1;
        } else if (matches!(name, "uv" | "poetry" | "pipenv" | "hatch" | "pdm" | "rye")
            && words.get(i + 1) == Some(&"run"))
            || (name == "bundle" && words.get(i + 1) == Some(&"exec"))
        {
            i += 2;
        } else {
            break;
        }
    }
    let program = base(words[i]);
    let rest = &words[i + 1..];
    let operands = |from: usize| -> Vec<String> {
        rest.iter()
            .skip(from)
            .filter(|a| !a.starts_with('-') && **a != "\u{0}")
            .map(|a| clean_path(a))
            .collect()
    };
    let first = rest.first().copied().unwrap_or("");
    let run = |runner: &'static Runner, paths: Vec<String>| Some(TestRun { runner, paths });
    match program {
        "cargo" if first == "test" || (first == "nextest" && rest.get(1) == Some(&"run")) => {
            run(&CARGO, Vec::new())
        }
        "cargo" if first.starts_with('+') && rest.get(1) == Some(&"test") => {
            run(&CARGO, Vec::new())
        }
        "go" if first == "test" => run(&GO, operands(1)),
        "pytest" | "py.test" | "tox" | "nox" => run(&PYTHON, operands(0)),
        p if p.starts_with("python") && first == "-m" && rest.get(1) == Some(&"pytest") => {
            run(&PYTHON, operands(2))
        }
        "npm" | "pnpm" | "yarn" | "bun" if matches!(first, "test" | "t") => run(&JS, Vec::new()),
        "npm" | "pnpm" | "yarn" | "bun" if first == "run" && rest.get(1) == Some(&"test") => {
            run(&JS, Vec::new())
        }
        "jest" | "vitest" | "mocha" | "ava" => run(
            &JS,
            operands(0).into_iter().filter(|p| p != "run").collect(),
        ),
        "playwright" | "deno" if first == "test" => run(&JS, operands(1)),
        "rspec" => run(&RUBY, operands(0)),
        "rake" if first == "test" || first == "spec" => run(&RUBY, Vec::new()),
        "mvn" | "mvnw" if rest.iter().any(|a| matches!(*a, "test" | "verify")) => {
            run(&JVM, Vec::new())
        }
        "gradle" | "gradlew" if rest.iter().any(|a| *a == "test" || *a == "check") => {
            run(&JVM, Vec::new())
        }
        "ctest" => run(&NATIVE, Vec::new()),
        "make"
            if rest
                .iter()
                .any(|a| matches!(*a, "test" | "check" | "tests")) =>
        {
            let dir = rest
                .iter()
                .position(|a| *a == "-C")
                .and_then(|at| rest.get(at + 1))
                .map(|d| clean_path(d));
            run(&MAKE, dir.into_iter().collect())
        }
        _ => None,
    }
}

fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// A path a runner was pointed at, as a folder prefix: `./api/...` → `api`, `tests/test_x.py` as given.
fn clean_path(p: &str) -> String {
    let p = p.trim_end_matches("/...").trim_end_matches("...");
    let p = p.strip_prefix("./").unwrap_or(p);
    let p = p.trim_end_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_owned()
    }
}

/// Whether a run from `dir` (project-relative) tests the project-relative file `file`.
pub(crate) fn tests_file(run: &TestRun, dir: &str, file: &str) -> bool {
    let ext = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    if !run.runner.exts.is_empty() && !run.runner.exts.contains(&ext) {
        return false;
    }
    let join = |p: &str| -> String {
        match (dir.is_empty(), p.is_empty()) {
            (_, true) => dir.to_owned(),
            (true, false) => p.to_owned(),
            (false, false) => format!("{dir}/{p}"),
        }
    };
    let scopes: Vec<String> = if run.paths.is_empty() {
        vec![dir.to_owned()]
    } else {
        run.paths.iter().map(|p| join(p)).collect()
    };
    scopes
        .iter()
        .any(|s| s.is_empty() || file == s || file.starts_with(&format!("{s}/")))
}

/// What to run to test `files` (project-relative, of one domain): the runner of their language, in the
/// nearest folder above one of them (the project root included) that holds one of its manifests (`go
/// test ./...` in `api/`). `None` when no such folder is there: a project with no test set-up for that
/// language is not asked to run its tests (a run still counts wherever it happens).
pub(crate) fn hint(files: &[String], project: &Path) -> Option<String> {
    files.iter().find_map(|file| file_hint(file, project))
}

/// Every distinct [`hint`] of `files`, in their order: one per runner and folder (`portcullis init`'s
/// table of what each domain's testing asks for).
#[must_use]
pub fn hints(files: &[String], project: &Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in files.iter().filter_map(|f| file_hint(f, project)) {
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

fn file_hint(file: &str, project: &Path) -> Option<String> {
    {
        let ext = Path::new(file).extension()?.to_str()?;
        let runner = HINTED.iter().find(|r| r.exts.contains(&ext))?;
        let dir = Path::new(file).ancestors().skip(1).find(|d| {
            runner
                .manifests
                .iter()
                .any(|m| project.join(d).join(m).is_file())
        })?;
        let dir = dir.to_string_lossy();
        Some(if dir.is_empty() {
            format!("run `{}`", runner.hint)
        } else {
            format!("run `{}` in `{dir}/`", runner.hint)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(c: &str) -> Vec<Option<String>> {
        c.split_whitespace().map(|w| Some(w.to_owned())).collect()
    }

    #[test]
    fn runners_by_name_and_by_path() {
        for c in [
            "cargo test",
            "~/.cargo/bin/cargo test -p x",
            "cargo nextest run",
            "RUST_LOG=1 timeout 600 cargo test",
            "cargo +nightly test",
        ] {
            assert!(
                recognise(&words(c)).unwrap().runner.hint == CARGO.hint,
                "{c}"
            );
        }
        for c in [
            "pytest",
            "/usr/local/bin/pytest -q",
            "python -m pytest",
            "python3 -m pytest x",
            "uv run pytest",
        ] {
            assert!(
                recognise(&words(c)).unwrap().runner.hint == PYTHON.hint,
                "{c}"
            );
        }
        for c in [
            "npm test",
            "pnpm run test",
            "./node_modules/.bin/vitest run",
            "npx jest",
            "yarn test",
        ] {
            assert!(recognise(&words(c)).unwrap().runner.hint == JS.hint, "{c}");
        }
        for c in [
            "cargo build",
            "npm install",
            "go build ./...",
            "python -m http.server",
            "make build",
        ] {
            assert!(recognise(&words(c)).is_none(), "{c}");
        }
    }

    #[test]
    fn a_run_tests_its_language_where_it_was_pointed() {
        let go = recognise(&words("go test ./api/...")).unwrap();
        assert!(tests_file(&go, "", "api/x.go"));
        assert!(!tests_file(&go, "", "cmd/y.go"));
        assert!(!tests_file(&go, "", "api/x.ts"));
        let npm = recognise(&words("npm test")).unwrap();
        assert!(tests_file(&npm, "web", "web/src/app.tsx"));
        assert!(!tests_file(&npm, "web", "api/x.go"));
        assert!(!tests_file(&npm, "web", "admin/app.ts"));
        let py = recognise(&words("pytest scripts/")).unwrap();
        assert!(tests_file(&py, "", "scripts/etl.py"));
        assert!(!tests_file(&py, "", "tools/x.py"));
        let make = recognise(&words("make -C api test")).unwrap();
        assert!(tests_file(&make, "", "api/x.go"));
        assert!(!tests_file(&make, "", "web/x.ts"));
    }

    #[test]
    fn hints_name_the_command_and_the_folder() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("api")).unwrap();
        std::fs::write(t.path().join("api/go.mod"), "module x\n").unwrap();
        assert_eq!(
            hint(&["api/h/x.go".to_owned()], t.path()).as_deref(),
            Some("run `go test ./...` in `api/`")
        );
        assert_eq!(
            hint(&["scripts/etl.py".to_owned()], t.path()),
            None,
            "no Python set-up"
        );
        std::fs::write(t.path().join("requirements.txt"), "pytest\n").unwrap();
        assert_eq!(
            hint(&["scripts/etl.py".to_owned()], t.path()).as_deref(),
            Some("run `pytest`")
        );
        assert_eq!(hint(&["README".to_owned()], t.path()), None);
    }
}
