//! `decide` on captured events re-pointed at temp projects.

use super::*;
use portcullis_core::Decision;
use portcullis_testkit::decide::TestProject;
use serde_json::{Value, json};

/// A Write of `path` by the main thread, or by subagent `agent` when given.
fn write(p: &TestProject, path: &str, agent: Option<&str>) -> Event {
    let mut changes = json!({"tool_input": {"file_path": path, "content": "x"}});
    if let Some(a) = agent {
        changes["agent_id"] = json!(a);
        changes["agent_type"] = json!("backend-developer");
    }
    p.event("PreToolUse-Write", &changes)
}

fn bash(p: &TestProject, command: &str, agent: Option<&str>) -> Event {
    let mut changes = json!({"tool_input": {"command": command}});
    if let Some(a) = agent {
        changes["agent_id"] = json!(a);
    }
    p.event("PreToolUse-Bash", &changes)
}

/// Runs the hook with the temp folder pointed at a folder that does not exist, so that the temp dirs of
/// the tests (and a checkout under `/tmp`) lie outside the workspace.
fn run(p: &TestProject, event: &Event, config: &Value) -> Verdict {
    let ctx = p
        .ctx::<WorkspaceGuard>()
        .env("TMPDIR", NO_TMP)
        .config(config)
        .build();
    WorkspaceGuard::decide(event, &ctx).unwrap()
}

const NO_TMP: &str = "/nonexistent-portcullis-tmp";

/// Runs the hook with exactly `env` (and the builder's HOME, which points nowhere).
fn run_env(p: &TestProject, event: &Event, env: &[(&str, &str)]) -> Verdict {
    let mut b = p.ctx::<WorkspaceGuard>();
    for (k, v) in env {
        b = b.env(k, v);
    }
    WorkspaceGuard::decide(event, &b.build()).unwrap()
}

/// A folder outside the project (the tests' temp folder is [`NO_TMP`]).
fn outside_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().canonicalize().unwrap();
    (dir, real)
}

fn denied(v: &Verdict) -> bool {
    v.decision == Decision::Block
}

#[test]
fn the_first_writer_claims_and_another_agent_is_refused_until_it_stops() {
    let p = TestProject::new();
    let target = p.path("src/app.ts");
    assert!(run(&p, &write(&p, &target, Some("a1")), &json!({})).is_silent());
    assert!(
        run(&p, &write(&p, &target, Some("a1")), &json!({})).is_silent(),
        "the holder writes on"
    );
    let v = run(&p, &write(&p, &target, Some("a2")), &json!({}));
    assert!(denied(&v), "{v:?}");
    let reason = v.reason_text();
    assert!(
        reason.contains(
            "`src/app.ts` is being written by subagent `a1` (backend-developer) of this session"
        ) && reason.contains("portcullis locks release src/app.ts"),
        "{reason}"
    );
    let v = run(&p, &bash(&p, "echo x >> src/app.ts", None), &json!({}));
    assert!(
        denied(&v),
        "the main thread's shell write is refused too: {v:?}"
    );
    // a1 ends: its claim goes, and a2 may write.
    let stop = p.event(
        "SubagentStop-subagent",
        &json!({"agent_id": "a1", "agent_type": "backend-developer"}),
    );
    assert!(
        run(&p, &stop, &json!({})).is_silent(),
        "a routine release logs nothing"
    );
    assert!(run(&p, &write(&p, &target, Some("a2")), &json!({})).is_silent());
}

#[test]
fn the_main_threads_claims_end_at_stop_and_a_sessions_at_session_end() {
    let p = TestProject::new();
    let target = p.path("a.txt");
    assert!(run(&p, &write(&p, &target, None), &json!({})).is_silent());
    assert!(
        run(&p, &bash(&p, "echo > a.txt", Some("x1")), &json!({})).is_silent(),
        "a subagent works on its main thread's behalf: it takes the claim over"
    );
    assert!(
        denied(&run(&p, &write(&p, &target, None), &json!({}))),
        "and the main thread waits for it"
    );
    run(&p, &p.event("SessionEnd", &json!({})), &json!({}));
    assert!(run(&p, &write(&p, &target, None), &json!({})).is_silent());
    let other = p.event(
        "PreToolUse-Write",
        &json!({"session_id": "other-session", "agent_id": "z9", "tool_input": {"file_path": target}}),
    );
    assert!(
        denied(&run(&p, &other, &json!({}))),
        "another session's agent waits for our main thread"
    );
    run(&p, &p.event("Stop", &json!({})), &json!({}));
    assert!(run(&p, &other, &json!({})).is_silent());
}

#[test]
fn a_refused_call_leaves_no_claims_behind() {
    let p = TestProject::new();
    run(&p, &write(&p, &p.path("b.txt"), Some("a1")), &json!({}));
    let v = run(
        &p,
        &bash(&p, "tee a.txt b.txt c.txt < /dev/null", Some("a2")),
        &json!({}),
    );
    assert!(denied(&v));
    assert!(
        run(&p, &write(&p, &p.path("a.txt"), Some("a3")), &json!({})).is_silent(),
        "a2's claim on a.txt was given back when its call was refused"
    );
}

#[test]
fn warn_and_off_modes() {
    let p = TestProject::new();
    let target = p.path("a.txt");
    run(&p, &write(&p, &target, Some("a1")), &json!({}));
    let v = run(
        &p,
        &write(&p, &target, Some("a2")),
        &json!({"workspace_guard": {"claims": "warn"}}),
    );
    assert_eq!(v.decision, Decision::Allow);
    assert!(v.context[0].contains("(warn mode)"), "{v:?}");
    let v = run(
        &p,
        &write(&p, &target, Some("a2")),
        &json!({"workspace_guard": {"claims": "off"}}),
    );
    assert!(v.is_silent());
}

#[test]
fn writes_outside_the_workspace_are_denied_with_the_resolved_target() {
    let p = TestProject::new();
    let (_keep, out) = outside_dir();
    let v = run(
        &p,
        &write(&p, &out.join("x.txt").display().to_string(), None),
        &json!({}),
    );
    assert!(
        denied(&v) && v.reason_text().contains("outside the workspace"),
        "{v:?}"
    );
    // `..` all the way up, then down into `out`.
    let up = "../".repeat(p.root.components().count() - 1);
    let escape = format!(
        "{up}{}/x.txt",
        out.display().to_string().trim_start_matches('/')
    );
    let v = run(
        &p,
        &bash(&p, &format!("echo > {escape}"), Some("a1")),
        &json!({}),
    );
    assert!(denied(&v), "{v:?}");
    let v = run(
        &p,
        &bash(&p, &format!("cd src && cp a.txt ../{escape}"), Some("a1")),
        &json!({}),
    );
    assert!(denied(&v), "{v:?}");
    std::os::unix::fs::symlink(&out, p.root.join("link")).unwrap();
    let v = run(&p, &write(&p, &p.path("link/y.txt"), None), &json!({}));
    assert!(denied(&v), "{v:?}");
    assert!(
        v.reason_text()
            .contains(&format!("resolves to `{}`", out.join("y.txt").display())),
        "{}",
        v.reason_text()
    );
    let v = run(
        &p,
        &bash(&p, "echo hi > ~/.bashrc-portcullis-test", None),
        &json!({}),
    );
    assert!(denied(&v), "`~` is HOME: {v:?}");
}

#[test]
fn the_project_temp_devices_and_added_folders_stay_writable() {
    let p = TestProject::new();
    let (_keep, extra_dir) = outside_dir();
    let (_keep2, tmp) = outside_dir();
    let env = [("TMPDIR", tmp.to_str().unwrap())];
    assert!(
        run(
            &p,
            &bash(&p, "ls > /dev/null 2>&1 && echo x > /dev/stderr", None),
            &json!({})
        )
        .is_silent()
    );
    assert!(
        run_env(&p, &write(&p, "/tmp/portcullis-jail-test.txt", None), &[]).is_silent(),
        "without TMPDIR, /tmp is the temp folder"
    );
    assert!(
        run_env(
            &p,
            &write(&p, &tmp.join("t.txt").display().to_string(), None),
            &env
        )
        .is_silent()
    );
    assert!(
        denied(&run_env(
            &p,
            &write(&p, "/tmp/portcullis-jail-test.txt", None),
            &env
        )),
        "with TMPDIR elsewhere, /tmp is not the temp folder"
    );
    let config = json!({"workspace_guard": {"allow_write": ["/tmp"]}});
    let ctx = p
        .ctx::<WorkspaceGuard>()
        .env("TMPDIR", tmp.to_str().unwrap())
        .config(&config)
        .build();
    let v =
        WorkspaceGuard::decide(&write(&p, "/tmp/portcullis-jail-test.txt", None), &ctx).unwrap();
    assert!(v.is_silent(), "unless config names it");
    assert!(run_env(&p, &write(&p, &p.path("in-project.txt"), None), &env).is_silent());
    let target = extra_dir.join("x.txt").display().to_string();
    assert!(denied(&run(&p, &write(&p, &target, None), &json!({}))));
    p.put(
        ".claude/settings.json",
        &json!({"permissions": {"additionalDirectories": [extra_dir]}}).to_string(),
    );
    assert!(run(&p, &write(&p, &target, None), &json!({})).is_silent());
    std::fs::remove_file(p.root.join(".claude/settings.json")).unwrap();
    let config = json!({"workspace_guard": {"allow_write": [extra_dir]}});
    assert!(run(&p, &write(&p, &target, None), &config).is_silent());
    // `/add-dir` during the session.
    assert!(denied(&run(&p, &write(&p, &target, None), &json!({}))));
    let added = p.event(
        "SessionEnd",
        &json!({"hook_event_name": "DirectoryAdded", "directory": extra_dir, "source": "slash_command"}),
    );
    run(&p, &added, &json!({}));
    assert!(run(&p, &write(&p, &target, None), &json!({})).is_silent());
}

#[test]
fn warn_and_off_for_the_jail() {
    let p = TestProject::new();
    let v = run(
        &p,
        &write(&p, "/etc/portcullis-test", None),
        &json!({"workspace_guard": {"jail": "warn"}}),
    );
    assert_eq!(v.decision, Decision::Allow);
    assert!(v.context[0].contains("/etc/portcullis-test"));
    assert!(
        run(
            &p,
            &write(&p, "/etc/portcullis-test", None),
            &json!({"workspace_guard": {"jail": "off"}})
        )
        .is_silent()
    );
}

#[test]
fn reads_are_jailed_only_when_asked() {
    let p = TestProject::new();
    let read = p.event(
        "PreToolUse-Read",
        &json!({"tool_input": {"file_path": "/etc/hostname"}}),
    );
    assert!(run(&p, &read, &json!({})).is_silent());
    let strict = json!({"workspace_guard": {"jail_reads": true}});
    let v = run(&p, &read, &strict);
    assert!(
        denied(&v) && v.reason_text().contains("reads `/etc/hostname`"),
        "{v:?}"
    );
    let inside = p.event(
        "PreToolUse-Read",
        &json!({"tool_input": {"file_path": p.path("x")}}),
    );
    assert!(run(&p, &inside, &strict).is_silent());
    let skill = p.event(
        "PreToolUse-Read",
        &json!({"tool_input": {"file_path": p.path("no-home/.claude/skills/x/SKILL.md")}}),
    );
    assert!(
        run(&p, &skill, &strict).is_silent(),
        "the client's own folder is readable"
    );
}

#[test]
fn agents_may_not_write_the_claims() {
    let p = TestProject::new();
    let v = run(
        &p,
        &bash(&p, "echo '{}' > .claude/locks/x.lock", Some("a1")),
        &json!({}),
    );
    assert!(
        denied(&v) && v.reason_text().contains("portcullis locks release"),
        "{v:?}"
    );
}

#[test]
fn calls_that_write_nothing_are_not_looked_at() {
    let p = TestProject::new();
    assert!(run(&p, &bash(&p, "cargo test", None), &json!({})).is_silent());
    assert!(
        !p.root.join(claims::LOCKS_DIR).exists(),
        "no claim folder for a call that writes nothing"
    );
    let glob = p.event(
        "PreToolUse-Read",
        &json!({"tool_name": "Glob", "tool_input": {"pattern": "**/*.rs"}}),
    );
    assert!(run(&p, &glob, &json!({"workspace_guard": {"jail_reads": true}})).is_silent());
}

#[test]
fn stale_claims_of_others_are_swept_at_a_stop_and_logged() {
    let p = TestProject::new();
    run(&p, &write(&p, &p.path("old.rs"), Some("gone")), &json!({}));
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let stop = p.event("Stop", &json!({}));
    let v = WorkspaceGuard::decide(&stop, &p.ctx::<WorkspaceGuard>().now(later).build()).unwrap();
    let mark = v.log_mark.expect("logged");
    assert_eq!(mark.verdict, "stale-claims-released");
    assert_eq!(mark.detail["claims"], json!(["old.rs"]));
}

/// Issue 35, items 6 and 7: home is outside the jail however the command gets there, and a path below a
/// descriptor (`/dev/fd/3/x`, with `3<DIR` open) is a file, not a device.
#[test]
fn home_and_descriptor_folders_are_outside() {
    let p = TestProject::new();
    for c in [
        "cd ~ && echo x >> .bashrc",
        "cd && echo x >> .bashrc",
        "cd ~/.ssh && echo key >> authorized_keys",
        "pushd ~; echo x >> .profile",
        "exec 3</etc; echo x > /dev/fd/3/cron.d/job",
    ] {
        let v = run(&p, &bash(&p, c, Some("a1")), &json!({}));
        assert!(denied(&v), "{c}: {v:?}");
    }
    for c in [
        "echo x > /dev/fd/2",
        "echo x > /proc/self/fd/1",
        "echo x > /dev/null",
    ] {
        assert!(
            run(&p, &bash(&p, c, Some("a1")), &json!({})).is_silent(),
            "{c}"
        );
    }
}

/// Issue 35, item 8: a link made in the same command does not carry a write out of the jail, nor past
/// another agent's claim.
#[test]
fn links_made_in_the_command_are_followed() {
    let p = TestProject::new();
    let (_o, outside) = outside_dir();
    let c = format!("ln -s {} l && echo x > l/file", outside.display());
    assert!(
        denied(&run(&p, &bash(&p, &c, Some("a1")), &json!({}))),
        "{c}"
    );
    let c = format!(
        "ln -sf {} api/l; echo x >> api/l",
        outside.join("f").display()
    );
    assert!(
        denied(&run(&p, &bash(&p, &c, Some("a1")), &json!({}))),
        "{c}"
    );
    let held = p.path("src/held.ts");
    assert!(run(&p, &write(&p, &held, Some("a1")), &json!({})).is_silent());
    let v = run(
        &p,
        &bash(
            &p,
            "ln src/held.ts mine.ts && echo x >> mine.ts",
            Some("a2"),
        ),
        &json!({}),
    );
    assert!(denied(&v), "a hard link to a held file: {v:?}");
}

/// Issue 35, item 12: while one agent holds a file, another may not remove, move away, reset or stash
/// it; the holder may.
#[test]
fn another_agents_file_is_not_removed_moved_or_reset() {
    let p = TestProject::new();
    std::fs::create_dir_all(p.root.join("src")).unwrap();
    std::fs::write(p.root.join("src/app.ts"), "x").unwrap();
    let held = p.path("src/app.ts");
    assert!(run(&p, &write(&p, &held, Some("a1")), &json!({})).is_silent());
    for c in [
        "rm src/app.ts",
        "rm -rf src",
        "mv src/app.ts src/old.ts",
        "git checkout -- src/app.ts",
        "git restore src/app.ts",
        "git stash",
        "git reset --hard",
        "git clean -fd",
        "truncate -s 0 src/app.ts",
        "cd src && git checkout -- app.ts",
    ] {
        let v = run(&p, &bash(&p, c, Some("a2")), &json!({}));
        assert!(denied(&v), "{c}: {v:?}");
        assert!(
            v.reason_text().contains("subagent `a1`"),
            "{c}: {}",
            v.reason_text()
        );
    }
    assert!(
        run(
            &p,
            &bash(&p, "git checkout -- src/app.ts", Some("a1")),
            &json!({})
        )
        .is_silent(),
        "the holder is never refused its own file"
    );
}

/// Issue 35, items 11 and 13: no agent changes the rules that bind it or frees another's claim; the
/// refusal says what the user can do.
#[test]
fn agents_may_not_change_their_own_rules_or_free_claims() {
    let p = TestProject::new();
    for path in [
        ".claude/settings.json",
        ".claude/settings.local.json",
        ".claude/portcullis.json",
        ".claude/portcullis/sessions/s/attempts.json",
    ] {
        let v = run(&p, &write(&p, &p.path(path), None), &json!({}));
        assert!(denied(&v), "{path}: {v:?}");
        assert!(
            v.reason_text().contains("user"),
            "{path}: {}",
            v.reason_text()
        );
    }
    for c in [
        "echo '{\"workspace_guard\":{\"jail\":\"off\"}}' > .claude/portcullis.json",
        "rm -rf .claude/locks",
        "mv .claude/locks /tmp/x",
        "rm .claude/locks/src%app.ts.0123456789abcdef.lock",
        "portcullis locks release src/app.ts",
        "~/.local/bin/portcullis locks release --all",
        "portcu''llis locks release --all",
        "port\\cullis uninstall",
        "cd .. && portcullis uninstall",
        "sed -i s/enforce/off/ .claude/portcullis.json",
    ] {
        let v = run(
            &p,
            &bash(&p, c, Some("a2")),
            &json!({"workspace_guard": {"jail": "off", "claims": "off"}}),
        );
        assert!(denied(&v), "{c}: {v:?}");
    }
    assert!(run(&p, &bash(&p, "portcullis locks", None), &json!({})).is_silent());
    assert!(run(&p, &bash(&p, "cat .claude/settings.json", None), &json!({})).is_silent());
    let (_o, outside) = outside_dir();
    let v = run(
        &p,
        &write(&p, &outside.join("x").display().to_string(), None),
        &json!({}),
    );
    assert!(
        v.reason_text().contains("ask the user"),
        "{}",
        v.reason_text()
    );
}
