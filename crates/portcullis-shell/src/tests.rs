//! The forms a hostile review found missed, and the ones the hand-written reader already saw.

use super::{might_write, runs, write_targets};

fn writes(command: &str) -> Vec<String> {
    write_targets(command)
}

#[test]
fn plain_writes_are_seen() {
    assert_eq!(writes("echo hi > api/x.go"), ["api/x.go"]);
    assert_eq!(writes("echo hi >>api/x.go"), ["api/x.go"]);
    assert_eq!(
        writes("cat <<'EOF' > 'api/my file.go'\nx\nEOF"),
        ["api/my file.go"]
    );
    assert_eq!(writes("printf x | tee -a a.go b.go"), ["a.go", "b.go"]);
    assert_eq!(writes("sed -i 's/a/b/' api/x.go"), ["api/x.go"]);
    assert_eq!(writes("sed -i.bak -e 's/a/b/' api/x.go"), ["api/x.go"]);
    assert_eq!(writes("sudo cp -r src dst"), ["dst", "dst/src"]);
}

#[test]
fn copies_into_a_folder_land_under_their_own_names() {
    assert_eq!(writes("cp f api/"), ["api/f"]);
    assert_eq!(writes("cp -t api f g"), ["api/f", "api/g"]);
    assert_eq!(writes("cp --target-directory=api lib/f.go"), ["api/f.go"]);
    assert_eq!(writes("install -m 644 a.go api/"), ["api/a.go"]);
    assert_eq!(writes("mv x.go api"), ["api", "api/x.go"]);
    assert_eq!(
        writes("ln -s ../lib/a.go api/a.go"),
        ["api/a.go", "api/a.go/a.go"]
    );
}

#[test]
fn comments_and_every_quoting_form() {
    assert_eq!(
        writes("echo x # it's a comment\necho y > api/x.go"),
        ["api/x.go"]
    );
    assert_eq!(writes("echo $'it\\'s' > api/x.go"), ["api/x.go"]);
    // Inside single quotes a backslash is literal: the quote ends at `\'`, the redirection is real.
    assert_eq!(writes("echo 'a\\' > api/x.go"), ["api/x.go"]);
    assert_eq!(writes("echo \"a > b\" 'c > d'"), Vec::<String>::new());
    assert_eq!(writes("echo x > \"api/my \"'file'.go"), ["api/my file.go"]);
}

#[test]
fn every_sed_and_perl_spelling() {
    for c in [
        "sed -Ei 's/a/b/' api/x.go",
        "sed -ri 's/a/b/' api/x.go",
        "sed --expression=s/a/b/ -i api/x.go",
        "sed -i -eS api/x.go",
        "sed --in-place=.bak 's/a/b/' api/x.go",
        "perl -0pi -e 's/a/b/' api/x.go",
        "perl -lpi -e 's/a/b/' api/x.go",
        "perl -pi -e 's/a/b/' api/x.go",
        "perl -i.bak -pe 's/a/b/' api/x.go",
    ] {
        assert_eq!(writes(c), ["api/x.go"], "{c}");
    }
    assert!(writes("sed -e 's/a/b/' api/x.go").is_empty());
    assert!(writes("perl -pe 's/a/b/' api/x.go").is_empty());
}

#[test]
fn every_redirection_that_writes() {
    for c in [
        "echo x >| api/x.go",
        "echo x >&api/x.go",
        "echo x >& api/x.go",
        "echo x &> api/x.go",
        "echo x &>> api/x.go",
        "echo x 2> api/x.go",
        "cat <> api/x.go",
    ] {
        assert_eq!(writes(c), ["api/x.go"], "{c}");
    }
    assert!(writes("cargo test 2>&1 | tail -n 20").is_empty());
    assert!(writes("ls >&2").is_empty());
}

#[test]
fn the_real_program_behind_wrappers() {
    for c in [
        "sudo -u bob tee api/x.go",
        "command -p tee api/x.go",
        "env -i HOME=/x tee api/x.go",
        "time -p tee api/x.go",
        "nice -n 5 tee api/x.go",
        "nice -5 tee api/x.go",
        "timeout 5 tee api/x.go",
        "timeout -s KILL 5s tee api/x.go",
        "nohup tee api/x.go",
        "FOO=1 tee api/x.go",
    ] {
        assert_eq!(writes(c), ["api/x.go"], "{c}");
    }
    assert!(writes("command -v tee").is_empty());
}

#[test]
fn inside_compound_commands() {
    for c in [
        "for f in a; do echo > api/x.go; done",
        "if true; then echo > api/x.go; fi",
        "{ echo > api/x.go; }",
        "! echo > api/x.go",
        "(echo > api/x.go)",
        "while false; do echo > api/x.go; done",
        "case x in x) echo > api/x.go;; esac",
        "true && echo > api/x.go || false",
        "x=$(echo > api/x.go)",
        "( ( echo > api/x.go ) )",
    ] {
        assert_eq!(writes(c), ["api/x.go"], "{c}");
    }
}

#[test]
fn a_literal_cd_moves_relative_paths() {
    assert_eq!(writes("cd api && echo > x.go"), ["api/x.go"]);
    assert_eq!(writes("pushd api; echo > x.go"), ["api/x.go"]);
    assert_eq!(
        writes("cd api/v1 && cd .. && echo > x.go"),
        ["api/v1/../x.go"]
    );
    assert_eq!(writes("cd /abs && echo > x.go"), ["/abs/x.go"]);
    // A subshell's cd stays in the subshell.
    assert_eq!(
        writes("(cd api; echo > x.go); echo > y.go"),
        ["api/x.go", "y.go"]
    );
    // Somewhere not literal: the relative path cannot be known.
    assert!(writes("cd \"$DIR\" && echo > x.go").is_empty());
    assert_eq!(writes("cd \"$DIR\" && echo > /tmp/x.go"), ["/tmp/x.go"]);
}

#[test]
fn what_cannot_be_known_is_not_guessed() {
    assert!(writes("echo $X > \"$OUT\"").is_empty());
    assert!(
        writes("ls > /dev/null 2>&1")
            .iter()
            .all(|t| t == "/dev/null")
    );
    assert!(writes("echo a > *.go").is_empty());
    assert!(writes("grep -r foo src").is_empty());
    assert!(writes("sed 's/a/b/' api/x.go").is_empty());
    assert!(writes("cp onlyone").is_empty());
    assert!(writes("echo 'unterminated > api/x.go").is_empty());
    assert!(writes("echo > ~bob/x.go").is_empty());
    assert!(writes("echo > a~/$X").is_empty());
}

/// `~` is HOME wherever bash expands it: the caller expands it (a jail must see `echo > ~/.bashrc`).
#[test]
fn a_leading_tilde_is_kept_for_the_caller() {
    assert_eq!(writes("echo > ~/x.go"), ["~/x.go"]);
    // A destination that may be a folder is reported both ways, as for any other `cp`.
    assert_eq!(writes("cp a.txt ~"), ["~", "~/a.txt"]);
    assert_eq!(writes("cd ~ && echo > x"), Vec::<String>::new());
}

/// An over-long number before `>` makes the parser panic (an `unwrap` on the number's parse): the
/// command is read by the fallback, and its writes are still seen.
#[test]
fn a_command_the_parser_panics_on_is_read_by_the_fallback() {
    let command = "echo 99999999999999999999>x; echo y > api/x.go";
    assert!(
        crate::walk::writes(command).is_none(),
        "the parser panics on it"
    );
    assert_eq!(writes(command), ["x", "api/x.go"]);
}

#[test]
fn the_pre_filter_lets_nothing_that_writes_through_unparsed() {
    assert!(!might_write("cargo build --release"));
    assert!(!might_write("git status"));
    assert!(might_write("echo > x"));
    assert!(might_write("sudo tee x"));
}

proptest::proptest! {
    /// Whatever the text, the analysis ends and never panics (the hooks abort on a panic).
    #[test]
    fn any_text_is_analysed_without_a_panic(s in "[a-z >|&;$'\"\\\\`(){}<#!\n=-]{0,80}") {
        let _ = write_targets(&s);
    }
}

/// Deep nesting is read by the fallback (the parser recurses; a stack overflow aborts), and the nesting
/// the parser is given at most parses on a test thread's small stack, in a debug build.
#[test]
fn deep_nesting_never_overflows_the_stack() {
    for open in ["(", "{ ", "$(", "if true; then ", "\"", "`"] {
        let command = format!("{} echo > api/x.go", open.repeat(20_000));
        let _ = writes(&command);
    }
    let deepest = format!(
        "{}echo > api/x.go{}",
        "( ".repeat(super::MAX_NESTING),
        " )".repeat(super::MAX_NESTING)
    );
    assert_eq!(writes(&deepest), ["api/x.go"]);
    let braces = format!(
        "{}echo > api/x.go;{}",
        "{ ".repeat(super::MAX_NESTING),
        " }".repeat(super::MAX_NESTING)
    );
    assert_eq!(writes(&braces), ["api/x.go"]);
}

/// Which commands run, and whose exit status is the command's.
#[test]
fn runs_and_whose_status_decides() {
    let deciding = |c: &str| -> Vec<(String, bool)> {
        runs(c)
            .unwrap()
            .iter()
            .map(|r| (r.text(), r.decides))
            .collect()
    };
    let t = |s: &str, d: bool| (s.to_owned(), d);
    assert_eq!(deciding("cargo test"), [t("cargo test", true)]);
    assert_eq!(
        deciding("cd api && cargo test"),
        [t("cd api", true), t("cargo test", true)]
    );
    assert_eq!(
        deciding("cargo test 2>&1 | tail -20"),
        [t("cargo test", false), t("tail -20", true)]
    );
    assert_eq!(
        deciding("cargo test || true"),
        [t("cargo test", false), t("true", false)]
    );
    assert_eq!(
        deciding("cargo test; echo done"),
        [t("cargo test", false), t("echo done", true)]
    );
    assert_eq!(
        deciding("true || cargo test"),
        [t("true", false), t("cargo test", false)]
    );
    assert_eq!(
        deciding("a || b && cargo test"),
        [t("a", false), t("b", false), t("cargo test", true)]
    );
    assert_eq!(deciding("! cargo test"), [t("cargo test", false)]);
    assert_eq!(deciding("(cargo test)"), [t("cargo test", true)]);
    assert_eq!(
        deciding("if true; then cargo test; fi"),
        [t("true", false), t("cargo test", false)]
    );
    assert_eq!(deciding("cargo test &"), [t("cargo test", false)]);
    assert_eq!(
        deciding("echo 'x; cargo test'"),
        [t("echo x_ cargo test", true)]
    );
    assert_eq!(
        deciding("echo \"(cargo test)\""),
        [t("echo _cargo test_", true)]
    );
    assert_eq!(deciding("cargo test $ARGS"), [t("cargo test $?", true)]);
    assert_eq!(
        deciding("diff <(cargo test) expected"),
        [t("cargo test", false), t("diff expected", true)]
    );
    assert!(runs("echo 'unterminated").is_none());
}
