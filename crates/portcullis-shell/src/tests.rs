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
    // A `cd` home (`cd ~`, `cd`, `pushd ~`) moves relative paths there.
    assert_eq!(writes("cd ~ && echo > x"), ["~/x"]);
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

/// Issue 35, item 1: a process substitution as a redirection's target runs its own writers.
#[test]
fn process_substitution_as_a_redirect_target() {
    assert_eq!(writes("cmd > >(tee api/x.go)"), ["api/x.go"]);
    assert_eq!(writes("exec > >(tee log)"), ["log"]);
    assert_eq!(writes("make 2> >(tee -a api/err.log >&2)"), ["api/err.log"]);
    assert_eq!(writes("cd api && cmd > >(tee x.go)"), ["api/x.go"]);
    assert_eq!(writes("diff <(sed -i s/a/b/ api/x.go) y"), ["api/x.go"]);
}

/// Issue 35, item 2: every way a later relative path is moved to another folder.
#[test]
fn every_way_to_change_folder() {
    for c in [
        "if cd api; then echo > x.go; fi",
        "if cd api; then :; fi; echo > x.go",
        "builtin cd api && echo > x.go",
        "command cd api && echo > x.go",
        "while cd api; do echo > x.go; break; done",
    ] {
        assert_eq!(writes(c), ["api/x.go"], "{c}");
    }
    assert_eq!(writes("env -C api tee x.go"), ["api/x.go"]);
    assert_eq!(writes("env --chdir=api tee x.go"), ["api/x.go"]);
    assert_eq!(writes("env --chdir api sed -i s/a/b/ x.go"), ["api/x.go"]);
    // The shell's own redirection is made where the shell is, not where env moved the program.
    assert_eq!(writes("env -C api true > x.go"), ["x.go"]);
    assert_eq!(writes("pushd ~ && echo >> .bashrc"), ["~/.bashrc"]);
    assert_eq!(writes("cd && echo >> .bashrc"), ["~/.bashrc"]);
    assert_eq!(
        writes("cd ~/.ssh && echo k >> authorized_keys"),
        ["~/.ssh/authorized_keys"]
    );
}

/// Issue 35, item 4: a quoted name with glob characters is a literal name; an unquoted one is a pattern.
/// Combined short options that end in `-t` name the target folder.
#[test]
fn quoted_globs_and_combined_target_options() {
    assert_eq!(writes("echo x > 'api/[draft].txt'"), ["api/[draft].txt"]);
    assert_eq!(writes("echo x > \"api/what?.md\""), ["api/what?.md"]);
    assert!(writes("echo x > api/*.txt").is_empty());
    assert!(writes("echo x > api/{a,b}.txt").is_empty());
    assert_eq!(writes("cp -rt api src"), ["api/src"]);
    assert_eq!(writes("cp -vt api a b"), ["api/a", "api/b"]);
    assert_eq!(writes("mv -ft api x.go"), ["api/x.go"]);
    // Sources that cannot be known: the destination folder itself is written.
    assert_eq!(writes("cp *.go api/"), ["api"]);
}

/// Issue 35, item 5: writes inside command substitutions and the other places a command runs from.
#[test]
fn writes_in_every_position_that_runs() {
    for c in [
        "for f in $(echo > api/x.go); do :; done",
        "case $(echo > api/x.go) in *) ;; esac",
        "[[ -n $(echo > api/x.go) ]]",
        "cat <<< \"$(echo > api/x.go)\"",
        "cat < \"$(echo > api/x.go)\"",
        "cat <<EOF\n$(echo > api/x.go) it's fine\nEOF",
        "echo \"$(tee api/x.go < /dev/null)\"",
    ] {
        assert_eq!(writes(c), ["api/x.go"], "{c}");
    }
    // A substitution starts where its command is.
    assert_eq!(writes("cd api && x=$(echo > y.go)"), ["api/y.go"]);
    // A quoted here-document's body is text.
    assert!(writes("cat <<'EOF'\n$(echo > api/x.go)\nEOF").is_empty());
}

/// Issue 35, item 10: the common downloaders, archivers, copiers and shell wrappers.
#[test]
fn other_writers() {
    let cases: &[(&str, &[&str])] = &[
        ("curl -o /etc/x https://h/x", &["/etc/x"]),
        ("curl -sSLo api/x.tgz https://h/x", &["api/x.tgz"]),
        ("curl --output=api/x https://h", &["api/x"]),
        ("curl -O https://h/x", &["."]),
        ("wget -O api/x https://h/x", &["api/x"]),
        ("wget -P /opt https://h/x", &["/opt"]),
        ("tar -xzf a.tgz -C /opt", &["/opt"]),
        ("tar xzf a.tgz", &["."]),
        ("tar czf /tmp/a.tgz src", &["/tmp/a.tgz"]),
        ("unzip -d /opt a.zip", &["/opt"]),
        ("rsync -a src/ /backup/", &["/backup/"]),
        ("scp host:x /etc/x", &["/etc/x"]),
        ("dd if=/dev/zero of=/dev/sda bs=1M", &["/dev/sda"]),
        ("git clone https://h/r.git /opt/r", &["/opt/r"]),
        ("git clone https://h/r.git", &["r"]),
        ("touch api/new.go", &["api/new.go"]),
        ("mkdir -p -m 755 api/v2", &[]),
        ("truncate -s 0 api/x.go", &["api/x.go"]),
        ("chmod 600 ~/.ssh/config", &[]),
        ("sh -c 'echo > api/x.go'", &["api/x.go"]),
        ("bash -lc \"cd api && tee x.go\"", &["api/x.go"]),
        ("eval 'echo > api/x.go'", &["api/x.go"]),
        ("sudo sh -c 'echo x >> /etc/hosts'", &["/etc/hosts"]),
        ("find . -name '*.go' -exec sed -i s/a/b/ {} \\;", &[]),
        ("find . -exec cp {} /opt/ \\;", &["/opt"]),
        ("ls | xargs -I{} cp {} /opt/", &["/opt"]),
        ("sort -o api/x.txt api/x.txt", &["api/x.txt"]),
    ];
    for (c, want) in cases {
        assert_eq!(writes(c), *want, "{c}");
    }
}

/// Issue 35, items 8 and 12: links made in the same command lead writes to their targets; removals,
/// moves and resets are read as such.
#[test]
fn links_and_removals() {
    assert_eq!(
        writes("ln -s /etc l && echo > l/passwd"),
        ["l", "l/etc", "l/passwd", "/etc/passwd"]
    );
    assert!(
        writes("ln -sf ../../outside api/l; echo x > api/l")
            .contains(&"api/../../outside".to_owned())
    );
    assert!(
        writes("ln api/held.go mine.go && echo >> mine.go").contains(&"api/held.go".to_owned())
    );
    let removes = super::removal_targets;
    assert_eq!(removes("rm -f api/x.go"), ["api/x.go"]);
    assert_eq!(removes("mkdir -p -m 755 api/v2"), ["api/v2"]);
    assert_eq!(removes("chmod 600 ~/.ssh/config"), ["~/.ssh/config"]);
    assert_eq!(removes("mv api/x.go /tmp/"), ["api/x.go"]);
    assert_eq!(removes("git checkout -- api/x.go"), ["api/x.go"]);
    assert_eq!(removes("git restore api/x.go"), ["api/x.go"]);
    assert!(removes("git restore --staged api/x.go").is_empty());
    assert_eq!(removes("git stash"), ["."]);
    assert_eq!(removes("git -C api reset --hard"), ["api"]);
    assert_eq!(removes("cd api && git clean -fd"), ["api/."]);
    assert!(removes("git stash list").is_empty());
    assert!(removes("git status").is_empty());
}

/// Issue 35, item 3: a commit message or Markdown here-doc full of code spans is read by the parser, and
/// the fallback reader, where it is still used, reads what the parser reads in simple commands.
#[test]
fn code_spans_are_parsed_and_the_fallback_reads_like_the_parser() {
    let mut spans = String::new();
    for i in 0..120 {
        spans.push_str("`f");
        spans.push_str(&i.to_string());
        spans.push_str("()` and it's ");
    }
    let message = format!("git commit -m \"{spans}\" && cp notes.md api/");
    assert!(super::runs(&message).is_some(), "parsed");
    assert_eq!(writes(&message), ["api/notes.md"]);
    let heredoc =
        format!("cat > api/README.md <<'EOF'\n{spans}\nEOF\ncd api && sed -Ei s/a/b/ x.go");
    assert_eq!(writes(&heredoc), ["api/README.md", "api/x.go"]);
    for c in [
        "cp f api/",
        "cd api && tee x.go",
        "sed -Ei s/a/b/ api/x.go",
        "timeout 5 tee api/x.go",
        "cat <<EOF > api/x.go\nit's\nEOF\ncp a api/",
        "env -C api tee x.go",
    ] {
        let parsed = writes(c);
        let mut fallback = crate::fallback::reading(c).writes;
        fallback.dedup();
        assert_eq!(fallback, parsed, "{c}");
    }
}

/// Issue 35, item 9: Codex's patch tool run through the shell, under either name, from another folder,
/// with its headers indented.
#[test]
fn a_patch_applied_through_the_shell() {
    let patch = "*** Begin Patch\n*** Add File: x.go\n+package x\n*** End Patch";
    assert_eq!(
        writes(&format!("apply_patch <<'EOF'\n{patch}\nEOF")),
        ["x.go"]
    );
    assert_eq!(
        writes(&format!("applypatch <<'EOF'\n{patch}\nEOF")),
        ["x.go"]
    );
    assert_eq!(
        writes(&format!("cd /etc && apply_patch <<'EOF'\n{patch}\nEOF")),
        ["/etc/x.go"]
    );
    assert_eq!(writes(&format!("apply_patch \"{patch}\"")), ["x.go"]);
    let indented = "*** Begin Patch\n   *** Update File: /etc/hosts\n@@\n-a\n+b\n*** End Patch";
    assert_eq!(
        writes(&format!("apply_patch <<'EOF'\n{indented}\nEOF")),
        ["/etc/hosts"]
    );
}

/// Files redirected into a command's input, wherever the redirection stands.
#[test]
fn input_files_are_read_everywhere() {
    assert_eq!(super::input_files("cat < ~/.netrc"), ["~/.netrc"]);
    assert_eq!(super::input_files("base64 0< .env | head"), [".env"]);
    assert_eq!(
        super::input_files("while read l; do echo $l; done < .env"),
        [".env"]
    );
    assert_eq!(super::input_files("cd api && xxd -p < .env"), ["api/.env"]);
    assert!(super::input_files("cat <<EOF\nx\nEOF").is_empty());
    assert!(super::input_files("echo x > y").is_empty());
}
