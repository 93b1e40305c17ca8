//! Warnings on stderr, at most one line per hook run.
//!
//! Problems that do not change the verdict (a corrupt state file set aside, an unreadable decision log) are
//! collected here while the hook runs, from anywhere, and the run loop prints them once at the end: one line
//! on success (the first warning, and how many more there were), none on failure, where the failure line
//! alone says what went wrong. Command lines print every warning, one per line.

use std::sync::Mutex;

static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Collects one warning (without the `portcullis <hook>:` prefix).
pub fn push(message: impl Into<String>) {
    if let Ok(mut w) = WARNINGS.lock() {
        w.push(message.into());
    }
}

/// Takes every warning collected so far.
#[must_use]
pub fn take() -> Vec<String> {
    WARNINGS
        .lock()
        .map(|mut w| std::mem::take(&mut *w))
        .unwrap_or_default()
}

/// The one stderr line for a hook run's warnings, if any.
#[must_use]
pub fn one_line(hook: &str, warnings: &[String]) -> Option<String> {
    let first = warnings.first()?.replace(['\n', '\r'], " ");
    let more = match warnings.len() {
        1 => String::new(),
        n => format!(
            " (and {} more warning{})",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    };
    Some(format!("portcullis {hook}: warning: {first}{more}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_warnings_fold_into_one_line() {
        let w = vec!["a\nb".to_owned(), "c".to_owned(), "d".to_owned()];
        assert_eq!(
            one_line("h", &w).unwrap(),
            "portcullis h: warning: a b (and 2 more warnings)"
        );
        assert_eq!(one_line("h", &[]), None);
    }
}
