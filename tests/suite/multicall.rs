//! The one installed binary (issue 36: a clean install took 311 s building fourteen fat-LTO binaries):
//! `portcullis` started under a hook's name is that hook. Through a link named after each hook it answers
//! every hook's home event byte for byte as the hook's own binary does, and keeps its command line.

use std::process::Command;

use portcullis_testkit::{run_with_stdin, workspace_bin};

use crate::support::home_event;

#[test]
fn the_manager_under_a_hooks_name_is_that_hook() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
    std::fs::write(
        root.join(".claude/agents/backend-developer.md"),
        "---\nname: backend-developer\ndescription: Use when Go changes.\n---\nGo.\n",
    )
    .unwrap();
    let links = root.join("bin");
    std::fs::create_dir_all(&links).unwrap();
    for hook in portcullis_suite::HOOKS {
        let link = links.join(hook.name);
        std::os::unix::fs::symlink(workspace_bin("portcullis"), &link).unwrap();
        let name = home_event(hook.name);
        let event = std::fs::read_to_string(
            portcullis_testkit::decide::events_dir().join(format!("{name}.json")),
        )
        .unwrap()
        .replace("/home/u/proj", root.to_str().unwrap());
        let run = |bin: &std::path::Path| {
            let mut cmd = Command::new(bin);
            cmd.current_dir(&root)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", root.join("no-home"))
                .env("CLAUDE_PROJECT_DIR", &root)
                .env("PORTCULLIS_STATE_DIR", root.join("state"));
            // Each run from an empty state: the second must not see what the first recorded.
            let _ = std::fs::remove_dir_all(root.join("state"));
            run_with_stdin(&mut cmd, event.as_bytes()).unwrap()
        };
        let own = run(&workspace_bin(hook.name));
        let linked = run(&link);
        assert_eq!(linked.status.code(), own.status.code(), "{}", hook.name);
        assert_eq!(
            String::from_utf8_lossy(&linked.stdout),
            String::from_utf8_lossy(&own.stdout),
            "{} through the link",
            hook.name
        );
        let version = Command::new(&link).arg("--version").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&version.stdout),
            format!("{} {}\n", hook.name, env!("CARGO_PKG_VERSION")),
        );
    }
    // Under its own name it is the manager.
    let manager = Command::new(workspace_bin("portcullis"))
        .arg("binaries")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&manager.stdout).contains("agent-first\n"));
}
