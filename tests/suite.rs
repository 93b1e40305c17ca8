//! Whole-suite checks, one test binary (`cargo test -p suite-tests`).

// Test helpers outside #[test] functions are not covered by clippy's allow-unwrap-in-tests; in tests a
// panic with the failing value is exactly what we want.
#![allow(clippy::unwrap_used)]

#[path = "suite/anneal.rs"]
mod anneal;
#[path = "suite/audit.rs"]
mod audit;
#[path = "suite/bad_input.rs"]
mod bad_input;
#[path = "suite/contract.rs"]
mod contract;
#[path = "suite/contract_codex.rs"]
mod contract_codex;
#[path = "suite/contract_copilot.rs"]
mod contract_copilot;
#[path = "suite/contract_gemini.rs"]
mod contract_gemini;
#[path = "suite/domains.rs"]
mod domains;
#[path = "suite/gemini_prompts.rs"]
mod gemini_prompts;
#[path = "suite/handoffs.rs"]
mod handoffs;
#[path = "suite/init.rs"]
mod init;
#[path = "suite/install.rs"]
mod install;
#[path = "suite/install_codex.rs"]
mod install_codex;
#[path = "suite/install_copilot.rs"]
mod install_copilot;
#[path = "suite/install_gemini.rs"]
mod install_gemini;
#[path = "suite/locks.rs"]
mod locks;
#[path = "suite/multicall.rs"]
mod multicall;
#[path = "suite/never_trapped.rs"]
mod never_trapped;
#[path = "suite/odd_unicode.rs"]
mod odd_unicode;
#[path = "suite/one_replacement.rs"]
mod one_replacement;
#[path = "suite/own_files.rs"]
mod own_files;
#[path = "suite/progress.rs"]
mod progress;
#[path = "suite/read_only.rs"]
mod read_only;
#[path = "suite/registry.rs"]
mod registry;
#[path = "suite/replay.rs"]
mod replay;
#[path = "suite/run_with_secrets.rs"]
mod run_with_secrets;
#[path = "suite/skills.rs"]
mod skills;
#[path = "suite/stop_advice.rs"]
mod stop_advice;
#[path = "suite/stress.rs"]
mod stress;
#[path = "suite/support.rs"]
mod support;
#[path = "suite/terminal.rs"]
mod terminal;
