//! The process bench's cases for feature-progress: a session start with no features folder (the common
//! path, issue 23: at most 1.1x the empty binary) and with three active features and a finished one.

use std::path::Path;

use super::Case;
use super::cases::captured;

/// feature-progress's cases.
pub(crate) fn feature_progress_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let bin = rel.join("feature-progress");
    let none = tmp.join("progress-none");
    std::fs::create_dir_all(none.join(".claude")).unwrap();
    let some = tmp.join("progress-some");
    let store = feature_progress::store::Store::new(&some);
    let now = "2026-12-01T10:00:00Z";
    for (title, phase) in [
        ("Login form", "8"),
        ("Fix crash", "3"),
        ("Billing export", "13"),
    ] {
        let m = store
            .start(title, feature_progress::manifest::WorkType::Medium, now)
            .unwrap();
        let deadline = portcullis_core::Deadline::after(std::time::Duration::from_secs(5));
        store
            .update(&m.id, &deadline, |m| {
                let n = m.find_phase(phase).unwrap();
                m.move_to(n, now);
                m.note("halfway", now);
                Ok(())
            })
            .unwrap();
    }
    let done = store
        .start(
            "Old work",
            feature_progress::manifest::WorkType::Bugfix,
            now,
        )
        .unwrap();
    let deadline = portcullis_core::Deadline::after(std::time::Duration::from_secs(5));
    store
        .update(&done.id, &deadline, |m| {
            m.finish(now);
            Ok(())
        })
        .unwrap();
    let start = |project: &Path| captured("SessionStart-startup", project, &serde_json::json!({}));
    vec![
        Case::plain(
            "feature-progress / SessionStart, no feature",
            &bin,
            &none,
            start(&none),
        ),
        Case::plain(
            "feature-progress / SessionStart, 3 active features",
            &bin,
            &some,
            start(&some),
        ),
    ]
}
