//! What every portcullis command line shares: `--help`/`--version` for hooks without subcommands, one
//! parse-error path, and one way to end. A usage error exits [`USAGE_EXIT`], never 2, which Claude Code
//! would read as a block when a hook's command is run by mistake.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

/// The exit code for command-line usage errors. Never 2, which Claude Code would read as a block.
pub const USAGE_EXIT: u8 = 64;

/// `--help`/`--version` for hooks without subcommands.
#[must_use]
pub fn default_command(name: &str, args: &[OsString]) -> ExitCode {
    let first = args.first().and_then(|a| a.to_str()).unwrap_or_default();
    let mut out = io::stderr().lock();
    match first {
        "--version" | "-V" => {
            let _ = writeln!(io::stdout().lock(), "{name} {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        "--help" | "-h" => {
            let _ = writeln!(
                io::stdout().lock(),
                "{name}: a portcullis hook for coding-agent clients (Claude Code, Codex CLI).\n\n\
                 Usage: {name} [--client claude|codex] < EVENT.json\n       {name} --help | --version\n\n\
                 The client runs it with one hook event as JSON on stdin; it prints a verdict as JSON, or \
                 nothing for an allow.\n\
                 --client NAME  the client the event comes from (recognised from the event when left out)\n\n\
                 Register it with `portcullis install`; try an event with `portcullis explain`:\n  \
                 portcullis explain < event.json"
            );
            ExitCode::SUCCESS
        }
        other => {
            let _ = writeln!(
                out,
                "{name}: unexpected argument {other:?}; hook mode takes no arguments (try --help)"
            );
            ExitCode::from(USAGE_EXIT)
        }
    }
}

/// How every portcullis command line ends: `Ok((text, code))` prints `text` to stdout and exits with
/// `code`; `Err(message)` prints `<name>: <message>` on stderr and exits 1 (never 2, which Claude Code
/// would read as a block when a hook's command is run by mistake).
#[must_use]
pub fn finish_command(name: &str, result: std::result::Result<(String, u8), String>) -> ExitCode {
    match result {
        Ok((text, code)) => {
            let _ = io::stdout().lock().write_all(text.as_bytes());
            for w in crate::warnings::take() {
                let _ = writeln!(io::stderr().lock(), "{name}: warning: {w}");
            }
            ExitCode::from(code)
        }
        Err(message) => {
            let _ = writeln!(io::stderr().lock(), "{name}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Parses a command line (`args` without the program name) the way every portcullis command does:
/// `--help`/`--version` print and exit 0, a usage error prints clap's message and exits [`USAGE_EXIT`]
/// (never 2). `Err` is the exit code to return.
#[cfg(feature = "cli")]
pub fn parse_command<C: clap::Parser>(
    name: &str,
    args: Vec<OsString>,
) -> std::result::Result<C, ExitCode> {
    C::try_parse_from(std::iter::once(OsString::from(name)).chain(args)).map_err(|e| {
        let code = if e.use_stderr() { USAGE_EXIT } else { 0 };
        let _ = e.print();
        ExitCode::from(code)
    })
}
