//! Opening files a hook did not create (transcripts, agent files, config, state) without the ways that can
//! hang: `open(2)` of a FIFO blocks until someone writes, and reading a device may never end.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading when it is a regular file (symlinks followed); anything else, a folder, a
/// FIFO, a socket or a device, is an `InvalidInput` error naming what it is, and is never opened.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file"
        };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, what));
    }
    File::open(path)
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
}
