//! A small line diff for `install --dry-run` (settings files are small; LCS is plenty).

/// A unified-style diff of `old` → `new` with `context` lines around each change; empty when equal.
#[must_use]
pub fn unified(old: &str, new: &str, label: &str, context: usize) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        return format!(
            "--- {label}\n+++ {label}\n(file too large to diff; {} → {} lines)\n",
            a.len(),
            b.len()
        );
    }
    // lcs[i][j] = LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let mut out = format!("--- {label}\n+++ {label} (after)\n");
    let mut show = vec![false; ops.len()];
    for (k, _) in ops.iter().enumerate().filter(|(_, o)| o.0 != ' ') {
        for flag in &mut show[k.saturating_sub(context)..(k + context + 1).min(ops.len())] {
            *flag = true;
        }
    }
    for (k, (op, line)) in ops.iter().enumerate() {
        if !show[k] {
            continue;
        }
        if k == 0 || !show[k - 1] {
            out.push_str("@@\n");
        }
        out.push(*op);
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_added_and_removed_lines() {
        let d = unified("a\nb\nc\n", "a\nB\nc\nd\n", "f", 1);
        assert!(d.contains("-b\n+B\n"), "{d}");
        assert!(d.contains("+d\n"), "{d}");
        assert_eq!(unified("x", "x", "f", 3), "");
    }
}
