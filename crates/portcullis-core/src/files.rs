//! Opening files without the ways that can hang or escape: `open(2)` of a FIFO blocks until someone
//! writes, reading a device may never end, and a symlink planted where the suite keeps its own files
//! (state, decision log, locks) would make a hook write outside the project.
//!
//! - [`open_regular`]: files the user or the client made (transcripts, agent files, config): regular files
//!   only, symlinks followed (a config kept in a dotfiles repository is a normal setup).
//! - [`open_own`]: files the suite keeps itself: never follows a symlink (`O_NOFOLLOW`), never blocks
//!   (`O_NONBLOCK`), and refuses anything but a regular file after opening it. [`set_aside`] moves such an
//!   intruder out of the way so the suite can go on with a fresh file.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Opens `path` for reading when it is a regular file (symlinks followed); anything else, a folder, a
/// FIFO, a socket or a device, is an `InvalidInput` error naming what it is, and is never opened.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    File::open(path)
}

/// The `InvalidInput` error for something that is not a regular file, saying what it is.
fn not_regular(meta: &std::fs::Metadata) -> io::Error {
    let what = if meta.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    };
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

/// Opens a file the suite keeps (state, log, lock) with `options`: the last component is never followed
/// when it is a symlink, opening never blocks, and only a regular file is accepted. A symlink, FIFO,
/// socket, device or folder there is an `InvalidInput` error saying what it is.
pub fn open_own(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => io::Error::new(io::ErrorKind::InvalidInput, "a symlink"),
            // A FIFO opened for writing with nobody reading it.
            Some(libc::ENXIO) => io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
            _ => e,
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

/// Moves whatever is at `path` (a symlink, a FIFO, a corrupt file) aside to `<path>.set-aside-<millis>`,
/// without following it; returns where it went.
pub fn set_aside(path: &Path) -> io::Result<PathBuf> {
    let millis = chrono::Utc::now().timestamp_millis();
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".set-aside-{millis}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// [`open_own`], and when an intruder (symlink, FIFO, folder...) is in the way: one warning, the intruder
/// set aside, and one more try.
pub fn open_own_or_replace(path: &Path, options: &OpenOptions, what: &str) -> io::Result<File> {
    match open_own(path, &mut options.clone()) {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            let aside = set_aside(path)?;
            crate::warnings::push(format!(
                "{what} `{}` was {e}; moved to `{}` and replaced",
                path.display(),
                aside.display()
            ));
            open_own(path, &mut options.clone())
        }
        other => other,
    }
}

/// Checks that `dir` and every folder between `top` and it are real folders, not symlinks: the suite's
/// own files must stay where they seem to be. `dir` must lie below `top` (or be it).
pub fn check_real_dirs(top: &Path, dir: &Path) -> io::Result<()> {
    let Ok(rest) = dir.strip_prefix(top) else {
        return Ok(());
    };
    let mut here = top.to_path_buf();
    for part in std::iter::once(None).chain(rest.components().map(Some)) {
        if let Some(c) = part {
            here.push(c);
        }
        match std::fs::symlink_metadata(&here) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "`{}` is a symlink; portcullis keeps its state in real folders only",
                        here.display()
                    ),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_opened() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(open_regular(&file).is_ok());
        let err = open_regular(t.path()).unwrap_err();
        assert_eq!(err.to_string(), "a folder");
        let fifo = t.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        // Opening it would block forever; open_regular refuses before opening.
        assert_eq!(
            open_regular(&fifo).unwrap_err().to_string(),
            "not a regular file"
        );
        assert_eq!(
            open_regular(&t.path().join("none")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    fn mkfifo(path: &Path) {
        assert!(
            std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .unwrap()
                .success()
        );
    }

    #[test]
    fn own_files_are_never_followed_nor_waited_for() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::write(&outside, "secret").unwrap();
        let link = t.path().join("log.jsonl");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let mut append = OpenOptions::new();
        append.create(true).append(true);
        assert_eq!(
            open_own(&link, &mut append.clone())
                .unwrap_err()
                .to_string(),
            "a symlink"
        );
        let fifo = t.path().join("x.lock");
        mkfifo(&fifo);
        // Both directions return at once: for writing there is no reader, for reading nothing is waited for.
        let mut write = OpenOptions::new();
        write.create(true).write(true);
        assert_eq!(
            open_own(&fifo, &mut write).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            open_own(&fifo, OpenOptions::new().read(true))
                .unwrap_err()
                .to_string(),
            "not a regular file"
        );
        // Replaced: the intruder is moved aside (not followed), a real file takes its place.
        let file = open_own_or_replace(&link, &append, "decision log").unwrap();
        assert!(file.metadata().unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let _ = crate::warnings::take();
    }

    #[test]
    fn symlinked_state_folders_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().join("state");
        std::fs::create_dir_all(top.join("sessions")).unwrap();
        std::os::unix::fs::symlink(t.path(), top.join("sessions/s1")).unwrap();
        assert!(check_real_dirs(&top, &top.join("sessions/s1")).is_err());
        assert!(
            check_real_dirs(&top, &top.join("sessions/s2")).is_ok(),
            "not there yet: fine"
        );
        assert!(check_real_dirs(&top, &top.join("sessions")).is_ok());
    }
}
