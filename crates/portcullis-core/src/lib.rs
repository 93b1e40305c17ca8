//! The chassis every portcullis hook binary shares.
//!
//! A hook is a type implementing [`Hook`]: a name, a failure policy and a pure
//! `decide(&Event, &Ctx) -> Result<Verdict>`. Its `main` is one line:
//!
//! ```no_run
//! use portcullis_core::{Ctx, Event, Failure, Hook, Result, Verdict};
//!
//! struct Noop;
//! impl Hook for Noop {
//!     const NAME: &'static str = "noop";
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
//! [`run`] reads stdin with a cap, parses the [`Event`], builds the [`Ctx`], calls `decide`, renders the
//! [`Verdict`] as the JSON the event accepts (or nothing for an allow), appends it to the decision log, and
//! maps every error — and a panic — to the hook's [`Failure`] policy.
//!
//! Modules: [`event`] (what Claude Code sends), [`verdict`] (what we answer; the only stdout writer),
//! [`run`](mod@run) (the loop and exit codes), [`ctx`] (injectable environment, clock, deadline),
//! [`config`] (layered JSON config), [`state`] (locked, atomic state files), [`transcript`] (reading JSONL
//! from the end), [`log`] (the decision log), [`registry`] (which binary handles which events),
//! [`budget`] (time and size limits), [`files`] (opening only regular files), [`child`] (running another program with a time limit), [`env_vars`] (every variable we read), [`stop_cap`] (no Stop hook
//! blocks forever), [`warnings`] (at most one stderr line per run).

#![deny(missing_docs)]

pub mod budget;
pub mod child;
pub mod config;
pub mod ctx;
pub mod env_vars;
pub mod error;
pub mod event;
pub mod files;
pub mod log;
pub mod registry;
pub mod run;
pub mod state;
pub mod stop_cap;
pub mod transcript;
pub mod verdict;
pub mod warnings;

pub use config::Config;
pub use ctx::{Ctx, Deadline, Env};
pub use error::{Error, Result};
pub use event::{Event, EventName, ToolInput};
pub use run::{Failure, Hook, run};
pub use verdict::{Decision, Verdict};
