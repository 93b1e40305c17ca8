//! Text to terms: words split at anything not a letter or digit (and camelCase humps), lower-cased,
//! stop words dropped, stemmed with Snowball English (Porter 2), so "re-rendering", "renders" and
//! "rendered" meet at `render`.

use std::sync::LazyLock;

use regex::Regex;
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

/// Prompts that are conversation, not work: greetings, thanks, acknowledgements, and questions about the
/// session itself. Matched against the whole prompt, trimmed and lower-cased.
static SMALL_TALK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // Greetings, thanks and acknowledgements, with at most a few filler words after them.
        r"^(?:hi|hello|hey|thanks|thank you|thx|ty|cheers|ok|okay|great|cool|nice|perfect|awesome|",
        r"yes|no|yep|nope|sure|good job|well done|lgtm|sounds good|go ahead|continue|proceed)",
        r"(?:[\s!.,]+(?:you|that|it|this|so|very|much|a lot|looks?|is|good|great|perfect|fine|thanks|again|",
        r"there|all|everyone|man|mate|buddy))*[\s!.,]*$",
        // Questions about the session itself.
        r"|^(?:so )?(?:what|which)\b.{0,30}\b(?:did|have|has) you\b.{0,40}(?:do|done|change|changed|fix|fixed|touch|edit|edited)\b[^.]{0,30}$",
        r"|^(?:so )?(?:where|what) (?:are|were) we(?: at| doing| up to)?[\s?.!]*$",
        r"|^.{0,20}\b(?:summari[sz]e|recap)\b.{0,30}\b(?:session|conversation|so far|you did|we did)\b",
        r"|^(?:what'?s|what is) (?:the )?(?:status|next|left)\b",
    ))
    .expect("valid regex")
});

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
    let trimmed = prompt.trim().to_lowercase();
    if SMALL_TALK.is_match(&trimmed) {
        return true;
    }
    let mut distinct = terms(&trimmed, stemmer);
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
        ] {
            assert!(is_small_talk(talk, &s), "{talk}");
        }
        for task in [
            "the dashboard re-renders on every keystroke",
            "add a column to the users table",
            "ok now add retries to the payment worker",
        ] {
            assert!(!is_small_talk(task, &s), "{task}");
        }
    }
}
