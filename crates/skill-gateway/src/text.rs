//! Text to terms: words split at anything not a letter or digit (and camelCase humps), lower-cased,
//! stop words dropped, stemmed with Snowball English (Porter 2), so "re-rendering", "renders" and
//! "rendered" meet at `render`.

use rust_stemmers::{Algorithm, Stemmer};

/// Words that say nothing about which skill fits: English function words, and the words every task
/// prompt and every skill description share ("use when", "please", "help me write").
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "done",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "let",
    "lets",
    "like",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "need",
    "needs",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "please",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "use",
    "used",
    "uses",
    "using",
    "very",
    "want",
    "wants",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "can't",
    "dont",
    "don't",
    "it's",
    "im",
    "i'm",
    "ive",
    "help",
    "make",
    "makes",
    "sure",
    "thing",
    "things",
    "something",
    "way",
    "go",
    "going",
    "look",
    "see",
    "try",
    "thanks",
    "thank",
    "ok",
    "okay",
    "yes",
    "yeah",
    "hi",
    "hello",
    "hey",
    "there",
    "again",
    "still",
    "really",
    "think",
    "know",
    "anything",
    "everything",
    "skill",
    "skills",
    "task",
    "tasks",
    "work",
    "working",
    "new",
    "add",
    "adding",
    "write",
    "writing",
    "code",
    "file",
    "files",
    "project",
    "app",
    "change",
    "changes",
    "update",
];

/// Greetings, thanks and acknowledgements (a prompt made only of these and [`FILLERS`] is conversation).
const ACKS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank you",
    "thx",
    "ty",
    "cheers",
    "ok",
    "okay",
    "great",
    "cool",
    "nice",
    "perfect",
    "awesome",
    "yes",
    "no",
    "yep",
    "nope",
    "sure",
    "good job",
    "well done",
    "lgtm",
    "sounds good",
    "go ahead",
    "continue",
    "proceed",
    "good morning",
    "good night",
    "got it",
];

/// Words that may surround an acknowledgement.
const FILLERS: &[&str] = &[
    "you", "that", "it", "this", "so", "very", "much", "a", "lot", "looks", "look", "is", "good",
    "great", "perfect", "fine", "thanks", "again", "there", "all", "everyone", "man", "mate",
    "buddy", "now", "please", "then",
];

/// Verbs of a question about what the agent did.
const DONE_VERBS: &[&str] = &[
    "do", "done", "change", "changed", "fix", "fixed", "touch", "touched", "edit", "edited",
];

/// True when the lower-cased `words` are conversation: an acknowledgement, or a question about the
/// session itself. Word lists, not a regex: a Unicode regex with bounded repeats took 3.5 ms to
/// compile, more than the rest of a prompt's routing.
fn is_conversation(words: &[&str]) -> bool {
    let Some(first) = words.first() else {
        return true;
    };
    // Only acknowledgements and fillers, at least one acknowledgement.
    let mut at = 0;
    let mut acked = false;
    'consume: while at < words.len() {
        for ack in ACKS {
            let n = ack.split(' ').count();
            if words.len() >= at + n && ack.split(' ').eq(words[at..at + n].iter().copied()) {
                at += n;
                acked = true;
                continue 'consume;
            }
        }
        if FILLERS.contains(&words[at]) {
            at += 1;
            continue;
        }
        break;
    }
    if acked && at == words.len() {
        return true;
    }
    let q = if *first == "so" { &words[1..] } else { words };
    let has = |w: &str| q.contains(&w);
    let pair = |a: &str, b: &str| q.windows(2).any(|p| p[0] == a && p[1] == b);
    // "what did you just change?", "which files have you touched"
    if q.len() <= 12
        && matches!(q.first(), Some(&("what" | "which")))
        && has("you")
        && (has("did") || has("have") || has("has"))
        && q.iter().any(|w| DONE_VERBS.contains(w))
    {
        return true;
    }
    // "where are we", "what are we up to"
    if q.len() <= 5 && matches!(q, ["where" | "what", "are" | "were", "we", ..]) {
        return true;
    }
    // "can you summarize what we did so far", "recap the session"
    if q.len() <= 12
        && q.iter()
            .take(5)
            .any(|w| matches!(*w, "summarize" | "summarise" | "recap"))
        && (has("session")
            || has("conversation")
            || pair("so", "far")
            || pair("we", "did")
            || pair("you", "did"))
    {
        return true;
    }
    // "what's next", "what is left", "status?"
    matches!(
        q,
        ["what's" | "whats", "next" | "left" | "the" | "status", ..]
            | ["what", "is", "next" | "left" | "the", ..]
            | ["status"]
    ) && q.len() <= 4
}

/// A stemmer for English; cheap to create.
pub(crate) fn stemmer() -> Stemmer {
    Stemmer::create(Algorithm::English)
}

/// Names whose symbols the split would lose, as one word each.
const SYMBOL_NAMES: &[(&str, &str)] = &[
    ("c++", " cpp "),
    ("c#", " csharp "),
    ("f#", " fsharp "),
    ("n+1", " nplus1 "),
    (".net", " dotnet "),
];

/// The terms of `text`, in order, repeats kept.
pub(crate) fn terms(text: &str, stemmer: &Stemmer) -> Vec<String> {
    let mut out = Vec::new();
    let named;
    let text = if text.contains(['+', '#']) || text.contains(".net") || text.contains(".NET") {
        let mut lower = text.to_lowercase();
        for (symbol, name) in SYMBOL_NAMES {
            lower = lower.replace(symbol, name);
        }
        named = lower;
        named.as_str()
    } else {
        text
    };
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        let word = word.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        push_term(word, stemmer, &mut out);
        // `useEffect` is also `use` + `effect` (and `GraphQL` also `graph` + `ql`).
        let humps = camel_humps(word);
        if humps.len() > 1 {
            for hump in humps {
                push_term(hump, stemmer, &mut out);
            }
        }
    }
    out
}

fn push_term(word: &str, stemmer: &Stemmer, out: &mut Vec<String>) {
    let lower = word.to_lowercase();
    if lower.chars().count() < 2
        || lower.chars().all(|c| c.is_ascii_digit())
        || STOP_WORDS.contains(&lower.as_str())
    {
        return;
    }
    let stem = stemmer.stem(&lower).into_owned();
    if !stem.is_empty() {
        out.push(stem);
    }
}

/// `useEffect` → `use`, `Effect`; a word with no lower-to-upper step is one hump.
fn camel_humps(word: &str) -> Vec<&str> {
    let mut humps = Vec::new();
    let mut start = 0;
    let mut prev_lower = false;
    for (i, c) in word.char_indices() {
        if c.is_uppercase() && prev_lower {
            humps.push(&word[start..i]);
            start = i;
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    humps.push(&word[start..]);
    humps
}

/// True when `prompt` is conversation rather than a task: small talk, thanks, a question about the
/// session, or too few words that could name a skill.
pub(crate) fn is_small_talk(prompt: &str, stemmer: &Stemmer) -> bool {
    let lower = prompt.trim().to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .collect();
    if is_conversation(&words) {
        return true;
    }
    let mut distinct = terms(&lower, stemmer);
    distinct.sort();
    distinct.dedup();
    distinct.len() < 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_stemmed_split_at_humps_and_stopped() {
        let s = stemmer();
        assert_eq!(
            terms("The component keeps re-rendering; useEffect renders", &s),
            [
                "compon",
                "keep",
                "re",
                "render",
                "useeffect",
                "effect",
                "render"
            ]
        );
        assert_eq!(terms("Use when the a an", &s), Vec::<String>::new());
        assert_eq!(
            terms("an N+1 query in C++ or C# on .NET", &s),
            ["nplus1", "queri", "cpp", "csharp", "dotnet"]
        );
        assert_eq!(
            terms("GraphQL k8s 2024 x", &s),
            ["graphql", "graph", "ql", "k8s"]
        );
    }

    #[test]
    fn conversation_is_not_a_task() {
        let s = stemmer();
        for talk in [
            "thanks!",
            "Thank you, that looks great",
            "ok",
            "hi there",
            "what did you just change?",
            "Where are we?",
            "can you summarize what we did so far",
            "what's next",
            "lgtm",
            "sounds good, go ahead",
            "so which files have you touched",
            "recap the session please",
            "status?",
        ] {
            assert!(is_small_talk(talk, &s), "{talk}");
        }
        for task in [
            "the dashboard re-renders on every keystroke",
            "add a column to the users table",
            "ok now add retries to the payment worker",
            "what did you mean by the cache stampede fix in the redis layer, explain the ttl choice there",
            "summarize the postgres query plan for the orders report",
        ] {
            assert!(!is_small_talk(task, &s), "{task}");
        }
    }
}
