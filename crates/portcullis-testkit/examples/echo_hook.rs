//! A test-only hook for end-to-end scenarios: appends every event it receives (one JSON line) to the file
//! named by its first argument, so a test can see exactly what the real client sent. With
//! `--block-stops N` it blocks the first N `Stop` events it has seen (counted in that file), giving the
//! reason `ECHO-HOOK-BLOCK <n>: keep going`; that is how a scenario proves the client's re-fire with
//! `stop_hook_active: true` before any portcullis Stop hook exists to do it. With `--replace-output TEXT`
//! it answers every `PostToolUse` with `updatedToolOutput` whose `stdout` is TEXT: two of them with
//! different texts show which replacement the client takes when two hooks give one.
//!
//! Not part of the product: it lives in the testkit's examples and is never installed.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: echo_hook EVENTS_FILE [--block-stops N | --replace-output TEXT [--sleep-ms N]]"
        );
        return ExitCode::from(64);
    };
    let block_stops: usize = match args.get(1).map(String::as_str) {
        Some("--block-stops") => args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0),
        _ => 0,
    };
    let replacement = match args.get(1).map(String::as_str) {
        Some("--replace-output") => args.get(2).cloned(),
        _ => None,
    };
    // `--sleep-ms N` after the replacement: answer N ms later (which of two replacements the client takes
    // is a question of which hook finishes when).
    let sleep_ms: u64 = match args.get(3).map(String::as_str) {
        Some("--sleep-ms") => args.get(4).and_then(|n| n.parse().ok()).unwrap_or(0),
        _ => 0,
    };
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        return ExitCode::from(1);
    }
    let event: serde_json::Value = serde_json::from_str(&input).unwrap_or_default();
    let line = serde_json::to_string(&event).unwrap_or_default();
    let Ok(mut file) = OpenOptions::new().create(true).append(true).open(path) else {
        return ExitCode::from(1);
    };
    let _ = writeln!(file, "{line}");
    drop(file);
    if let Some(text) = replacement
        && event["hook_event_name"] == "PostToolUse"
    {
        std::thread::sleep(std::time::Duration::from_millis(sleep_ms));
        let verdict = serde_json::json!({"hookSpecificOutput": {"hookEventName": "PostToolUse",
            "updatedToolOutput": {"stdout": text, "stderr": "", "interrupted": false, "isImage": false,
                "noOutputExpected": false}}});
        let _ = writeln!(std::io::stdout(), "{verdict}");
    }
    if event["hook_event_name"] == "Stop" && block_stops > 0 {
        let seen = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"hook_event_name\":\"Stop\""))
            .count();
        if seen <= block_stops {
            let verdict = serde_json::json!({
                "decision": "block",
                "reason": format!("ECHO-HOOK-BLOCK {seen}: keep going"),
            });
            let _ = writeln!(std::io::stdout(), "{verdict}");
        }
    }
    ExitCode::SUCCESS
}
