//! The portcullis manager CLI: `install`, `uninstall`, `doctor`, `log`, `explain`, `replay`.
//!
//! Everything it knows about the hooks comes from [`portcullis_suite::HOOKS`]; it edits Claude Code
//! settings files in place ([`settings`]) and runs hook binaries the way the client does ([`exec`]).

pub mod cli;
pub mod codex;
pub mod commands;
pub mod copilot;
pub mod diff;
pub mod exec;
pub mod gemini;
pub mod matcher;
mod projects;
pub mod registrations;
pub mod replay;
pub mod settings;
