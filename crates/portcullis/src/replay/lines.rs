//! Reading a transcript as replay does: line by line, a line over [`super::MAX_LINE_BYTES`] skipped
//! without being held, and the live copy the hooks read written as the lines go by.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

pub(super) fn open(path: &Path) -> Result<BufReader<File>, String> {
    if path.is_dir() {
        return Err(format!(
            "`{}` is a directory, not a transcript",
            path.display()
        ));
    }
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("opening `{}`: {e}", path.display()))
}

/// Appends one line to a live transcript copy, creating it (and its folder) on first use.
pub(super) fn append_line(
    copy: &mut Option<File>,
    path: &Path,
    bytes: &[u8],
) -> Result<(), String> {
    use std::io::Write;
    if copy.is_none() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("creating `{}`: {e}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("creating `{}`: {e}", path.display()))?;
        *copy = Some(file);
    }
    if let Some(f) = copy.as_mut() {
        f.write_all(bytes)
            .and_then(|()| f.write_all(b"\n"))
            .map_err(|e| format!("writing `{}`: {e}", path.display()))?;
    }
    Ok(())
}

/// What [`read_line_bounded`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// `buf` holds one line (without its newline).
    Complete,
    /// The line was longer than the cap; it was read past and dropped.
    TooLong,
    /// End of input.
    End,
}

/// Reads one line into `buf`, never holding more than `max` bytes of it.
pub(super) fn read_line_bounded(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (read_any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        read_any = true;
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf.clear();
                buf.shrink_to_fit();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<String, &'static str>> {
        let mut r = std::io::Cursor::new(input.to_vec());
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line_bounded(&mut r, &mut buf, max).unwrap() {
                Line::End => return out,
                Line::TooLong => out.push(Err("too long")),
                Line::Complete => out.push(Ok(String::from_utf8(buf.clone()).unwrap())),
            }
        }
    }

    #[test]
    fn bounded_lines_skip_long_ones_and_keep_the_rest() {
        assert_eq!(
            lines(b"ab\nxxxxxxxx\ncd\n\nlast", 4),
            [
                Ok("ab".into()),
                Err("too long"),
                Ok("cd".into()),
                Ok(String::new()),
                Ok("last".into())
            ]
        );
        assert_eq!(lines(b"", 4), []);
        assert_eq!(lines(b"xxxxxx", 4), [Err("too long")]);
    }

    #[test]
    fn bounded_lines_work_across_small_buffer_refills() {
        let input = b"hello world\nsecond line here\n";
        let mut r = BufReader::with_capacity(3, &input[..]);
        let mut buf = Vec::new();
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 100).unwrap(),
            Line::Complete
        );
        assert_eq!(buf, b"hello world");
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 5).unwrap(),
            Line::TooLong
        );
        assert_eq!(read_line_bounded(&mut r, &mut buf, 5).unwrap(), Line::End);
    }
}
