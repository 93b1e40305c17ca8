//! What every portcullis command line shares: `--help`/`--version` for hooks without subcommands, one
//! parse-error path, and one way to end. A usage error exits [`USAGE_EXIT`], never 2, which Claude Code
//! would read as a block when a hook's command is run by mistake.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

/// Colour for a terminal: on when the stream is one and `NO_COLOR` is unset or empty (no-color.org);
/// off when piped or redirected, so files and tests get plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint(bool);

impl Paint {
    /// For text printed on stdout.
    #[must_use]
    pub fn stdout() -> Self {
        Self::when(io::IsTerminal::is_terminal(&io::stdout()))
    }

    /// For text printed on stderr.
    #[must_use]
    pub fn stderr() -> Self {
        Self::when(io::IsTerminal::is_terminal(&io::stderr()))
    }

    fn when(terminal: bool) -> Self {
        Self(terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
    }

    /// No colour at all.
    #[must_use]
    pub fn off() -> Self {
        Self(false)
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Failures and refusals.
    #[must_use]
    pub fn red(self, text: &str) -> String {
        self.wrap("1;31", text)
    }

    /// Warnings.
    #[must_use]
    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    /// Success.
    #[must_use]
    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    /// Headings and names.
    #[must_use]
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}

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
                "{name}: a portcullis hook for coding-agent clients (Claude Code, Codex CLI, Gemini CLI, Copilot CLI).\n\n\
                 Usage: {name} [--client claude|codex|gemini|copilot] < EVENT.json\n       {name} --help | --version\n\n\
                 The client runs it with one hook event as JSON on stdin; it prints a verdict as JSON, or \
                 nothing for an allow.\n\
                 --client NAME  the client the event comes from (recognised from the event when left out)\n\n\
                 Register it with `portcullis install`; try an event with `portcullis explain`.\n\n\
                 Example:\n  portcullis explain < event.json"
            );
            ExitCode::SUCCESS
        }
        other => {
            let _ = writeln!(
                out,
                "{name}: {} unexpected argument {other:?}; hook mode takes no arguments (try --help)",
                Paint::stderr().red("error:")
            );
            ExitCode::from(USAGE_EXIT)
        }
    }
}

/// How every portcullis command line ends: `Ok((text, code))` prints `text` to stdout and exits with
/// `code`; `Err(message)` prints `<name>: error: <message>` on stderr and exits 1 (never 2, which Claude Code
/// would read as a block when a hook's command is run by mistake).
#[must_use]
pub fn finish_command(name: &str, result: std::result::Result<(String, u8), String>) -> ExitCode {
    match result {
        Ok((text, code)) => {
            let _ = io::stdout().lock().write_all(text.as_bytes());
            let paint = Paint::stderr();
            for w in crate::warnings::take() {
                let _ = writeln!(
                    io::stderr().lock(),
                    "{name}: {} {w}",
                    paint.yellow("warning:")
                );
            }
            ExitCode::from(code)
        }
        Err(message) => {
            let _ = writeln!(
                io::stderr().lock(),
                "{name}: {} {message}",
                Paint::stderr().red("error:")
            );
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
        if !e.use_stderr() {
            // --help, --version: clap prints them as they are, on stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // The same `<name>: error:` prefix as every other failure.
        let text = e.render().to_string();
        let text = match text.strip_prefix("error:") {
            Some(rest) => format!("{}{rest}", Paint::stderr().red("error:")),
            None => text,
        };
        let short = std::path::Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name);
        let _ = write!(io::stderr().lock(), "{short}: {text}");
        ExitCode::from(USAGE_EXIT)
    })
}
