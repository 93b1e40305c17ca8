//! The one error type of portcullis-core. Every variant names the file, field or limit involved, so the
//! single line a failing hook prints is enough to act on.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in a hook run. `run` is the only caller that maps these to exit codes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// stdin held more than the cap.
    InputTooLarge {
        /// The cap in bytes.
        cap: u64,
    },
    /// stdin could not be read.
    ReadInput(io::Error),
    /// stdin was not a JSON object of the expected shape.
    BadEvent(String),
    /// A field the hook needs is missing from the event.
    MissingField(&'static str),
    /// A config file is unreadable, not JSON, or has an unknown key or wrong type.
    Config {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Reading or writing a file failed.
    Io {
        /// What we were doing, e.g. "writing state".
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Another process held a state lock for longer than the bounded wait.
    LockTimeout(PathBuf),
    /// The hook's deadline passed during a phase that can grow.
    DeadlineExceeded(&'static str),
    /// A session or agent id that cannot safely be used as a folder name.
    UnsafeId(String),
    /// Anything else, already worded for the user.
    Other(String),
}

impl Error {
    /// Shorthand for an [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputTooLarge { cap } => write!(f, "stdin is larger than the {cap}-byte cap"),
            Self::ReadInput(e) => write!(f, "reading stdin: {e}"),
            Self::BadEvent(m) => write!(f, "stdin is not a hook event: {m}"),
            Self::MissingField(name) => write!(f, "the event has no `{name}`"),
            Self::Config { path, message } => write!(f, "config `{}`: {message}", path.display()),
            Self::Io {
                action,
                path,
                source,
            } => write!(f, "{action} `{}`: {source}", path.display()),
            Self::LockTimeout(p) => write!(f, "waiting for lock `{}`: timed out", p.display()),
            Self::DeadlineExceeded(phase) => write!(f, "{phase}: ran out of time"),
            Self::UnsafeId(id) => write!(f, "id {id:?} is not safe as a folder name"),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ReadInput(e) | Self::Io { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
