//! A hook built on the chassis that allows everything: the yardstick for the chassis's own cost.
//! `scripts/release.sh -p bench-floors`
//!
//! For the contract tests it panics on the made-up event `PortcullisPanicTest`, proving that a panic takes
//! the failure policy (exit 1, one stderr line) rather than crashing with a backtrace.

use portcullis_core::{Ctx, Event, Failure, Hook, Registration, Result, Verdict};

struct Noop;

impl Hook for Noop {
    const NAME: &'static str = "noop-hook";
    const SUMMARY: &'static str = "Allows everything (the chassis alone).";
    const EVENTS: &'static [Registration] = &[Registration::every("PreToolUse")];
    const ON_ERROR: Failure = Failure::Open;

    fn decide(event: &Event, _: &Ctx) -> Result<Verdict> {
        assert!(
            event.hook_event_name.as_deref() != Some("PortcullisPanicTest"),
            "deliberate test panic"
        );
        Ok(Verdict::allow())
    }
}

fn main() -> std::process::ExitCode {
    portcullis_core::run::<Noop>()
}
