//! The chassis every portcullis hook binary shares.
//!
//! A hook is a type implementing [`Hook`]: a name, a failure policy and a pure
//! `decide(&Event, &Ctx) -> Result<Verdict>`. Its `main` is one line:
//!
//! ```no_run
//! use portcullis_core::{Ctx, Event, Failure, Hook, Registration, Result, Verdict};
//!
//! struct Noop;
//! impl Hook for Noop {
//!     const NAME: &'static str = "noop";
//!     const SUMMARY: &'static str = "Allows everything.";
//!     const EVENTS: &'static [Registration] = &[Registration::every("Stop")];
//!     const ON_ERROR: Failure = Failure::Open;
//!     fn decide(_: &Event, _: &Ctx) -> Result<Verdict> {
//!         Ok(Verdict::allow())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     portcullis_core::run::<Noop>()
//! }
//! ```
//!
//! [`run()`] reads stdin with a cap, parses the [`Event`], builds the [`Ctx`], calls `decide`, renders the
//! [`Verdict`] as the JSON the event accepts (or nothing for an allow), appends it to the decision log, and
//! maps every error — and a panic — to the hook's [`Failure`] policy.
//!
//! Core knows no hook: each hook crate owns its config [`config::Section`], its events and its policies
//! (the constants of [`Hook`]), and the suite's registry (the `portcullis-suite` crate) lists the hooks.
//!
//! Modules: [`event`] (what Claude Code sends, and Codex's events read into the same shape), [`gemini`]
//! (Gemini CLI's events read into it), [`copilot`] (Copilot CLI's), [`continuation`] (Gemini's continuation of a held turn is no prompt), [`client`]
//! (which client sent it), [`tool_input`] (the tool inputs hooks read), [`patch`] (a Codex patch as the
//! files it writes), [`verdict`] (what we answer, in each client's dialect; the only stdout writer),
//! [`hook`] (the trait, the failure policy and registration data), [`run`](mod@run) (the loop and exit
//! codes), [`ctx`] (what `decide` may consult), [`env`](mod@env) and [`deadline`] (leaf values), [`config`] (layered
//! JSON config, sections owned by their hooks), [`state`] (locked, atomic state files), [`transcript`]
//! (reading JSONL from the end), [`log`] (the decision log), [`budget`] (time and size limits), [`files`]
//! (opening only regular files), [`json`] (JSON with lone surrogates, as JavaScript clients send it), [`child`] (running another program with a time limit), [`cli`] (what every
//! command line shares), [`env_vars`] (every variable we read), [`stop_chain`] (no Stop hook blocks a stuck agent forever, none cuts a progressing loop short),
//! [`warnings`] (at most one stderr line per run).

#![deny(missing_docs)]

pub mod budget;
pub mod child;
pub mod cli;
pub mod client;
pub mod config;
pub mod continuation;
pub mod copilot;
pub mod ctx;
pub mod deadline;
pub mod env;
pub mod env_vars;
pub mod error;
pub mod event;
pub mod files;
pub mod gemini;
pub mod hook;
pub mod json;
pub mod log;
pub mod patch;
pub mod run;
pub mod state;
mod stop_advice;
pub mod stop_chain;
pub mod tool_input;
pub mod transcript;
pub mod verdict;
pub mod warnings;

pub use client::Client;
pub use config::{Config, Mode, Section, SectionSpec};
pub use ctx::Ctx;
pub use deadline::Deadline;
pub use env::Env;
pub use error::{Error, Result};
pub use event::{Event, EventName, ToolInput};
pub use hook::{Failure, Hook, HookSpec, Registration};
pub use run::run;
pub use verdict::{Decision, Verdict};
