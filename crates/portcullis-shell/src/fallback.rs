//! The hand-written reader the parser replaced, kept for one case only: a command the parser panics on
//! (`brush-parser` has `unwrap`s, and the fuzzer finds inputs that reach them in seconds). A panic must
//! not turn agent-first's deny into an allow, so such a command is read the old way: simple commands
//! split on `;`, `&&`, `||`, `|`, `&` and newlines, `>`/`>>` redirections, `tee`, `sed -i`, `cp`/`mv`
//! destinations.

/// The write targets of `command`, as written (not resolved). Targets holding `$`, a backtick or a glob
/// character are skipped: they cannot be known before the shell runs.
#[must_use]
pub(crate) fn write_targets(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    for segment in split_segments(command) {
        let words = split_words(&segment);
        collect_redirections(&words, &mut out);
        collect_command_targets(&words, &mut out);
    }
    out.retain(|t| {
        !t.is_empty() && !t.contains(['$', '`', '*', '?', '[', '{']) && !t.starts_with('&')
    });
    out.dedup();
    out
}

/// Splits on unquoted `;`, `&&`, `||`, `|`, `&` and newlines.
fn split_segments(command: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (_, '\\') => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            // `>&2` and `&>` are redirections, not separators.
            (None, '&') if current.ends_with('>') || chars.peek() == Some(&'>') => current.push(c),
            (None, ';' | '|' | '&' | '\n') => segments.push(std::mem::take(&mut current)),
            (_, c) => current.push(c),
        }
    }
    segments.push(current);
    segments
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Shell-like words: whitespace-separated, quotes removed, redirection operators split off as words.
fn split_words(segment: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = segment.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
                in_word = true;
            }
            (None, '>') => {
                // `2>`, `&>`: the fd prefix belongs to the operator.
                if current.chars().all(|ch| ch.is_ascii_digit() || ch == '&') && !current.is_empty()
                {
                    current.clear();
                    in_word = false;
                }
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
                let op = if chars.peek() == Some(&'>') {
                    chars.next();
                    ">>"
                } else {
                    ">"
                };
                words.push(op.to_owned());
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

fn collect_redirections(words: &[String], out: &mut Vec<String>) {
    for pair in words.windows(2) {
        if pair[0] == ">" || pair[0] == ">>" {
            out.push(pair[1].clone());
        }
    }
}

/// Skips `sudo`, `env X=Y`, `command` and similar prefixes to the real program.
fn program(words: &[String]) -> Option<(usize, &str)> {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let is_assignment = w.contains('=') && !w.starts_with('=') && !w.starts_with('-');
        if matches!(
            w.as_str(),
            "sudo" | "env" | "command" | "nohup" | "time" | "exec"
        ) || is_assignment
        {
            i += 1;
            continue;
        }
        return Some((i, w.rsplit('/').next().unwrap_or(w)));
    }
    None
}

fn collect_command_targets(words: &[String], out: &mut Vec<String>) {
    // Words before the first redirection are the command's own arguments.
    let end = words
        .iter()
        .position(|w| w == ">" || w == ">>")
        .unwrap_or(words.len());
    let words = &words[..end];
    let Some((at, prog)) = program(words) else {
        return;
    };
    let args: Vec<&String> = words[at + 1..].iter().collect();
    let operands: Vec<&String> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    match prog {
        "tee" => out.extend(operands.into_iter().cloned()),
        "cp" | "mv" | "install" | "ln" => {
            // `-t DIR` names the destination folder; otherwise the last operand is the destination.
            if let Some(pos) = args
                .iter()
                .position(|a| *a == "-t" || *a == "--target-directory")
            {
                if let Some(dir) = args.get(pos + 1) {
                    out.push((*dir).clone());
                }
            } else if operands.len() >= 2
                && let Some(last) = operands.last()
            {
                out.push((*last).clone());
            }
        }
        "sed" | "perl"
            if args.iter().any(|a| {
                a.starts_with("-i") || a.starts_with("--in-place") || a.starts_with("-pi")
            }) =>
        {
            // Every operand after the script is a file edited in place. With -e/-f the script is the option's
            // argument, so every operand is a file.
            let mut files: Vec<&String> = Vec::new();
            let mut scripted = false;
            let mut skip_next = false;
            for a in &args {
                if skip_next {
                    skip_next = false;
                } else if matches!(a.as_str(), "-e" | "-f" | "--expression" | "--file") {
                    scripted = true;
                    skip_next = true;
                } else if !a.starts_with('-') {
                    files.push(a);
                }
            }
            if !scripted && !files.is_empty() {
                files.remove(0);
            }
            out.extend(files.into_iter().cloned());
        }
        _ => {}
    }
}
