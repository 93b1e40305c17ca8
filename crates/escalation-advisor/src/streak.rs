//! When to escalate: one agent's run of blocked stops, and loop-detect's `stuck` entries.
//!
//! Every Stop/SubagentStop of an agent updates its [`Streak`]. The streak is the shared stop chain's count
//! ([`portcullis_core::stop_chain`]): the agent's blocked stops before this one since its last tool call,
//! whoever blocked them. A loop that does work between its stops (a tool call) never builds a streak, however
//! long it runs; one that only answers text does. A stop continues the streak when the count grew since
//! the agent's previous stop; when it fell (a tool call came between), the streak and its levels start over.
//!
//! Escalation happens once per *level*: level `n` is reached when the streak reaches `n` × (threshold + 1),
//! so with the default threshold 3 the advisor is asked at the fifth stop in a row (after four blocks),
//! and, in a chain long enough, again after eight. A `stuck` entry of loop-detect that this agent has not
//! been escalated for counts as level 1. A level is claimed under the state lock before the advisor runs,
//! so the same situation is never escalated twice, even by parallel runs.

use std::collections::BTreeMap;

use portcullis_core::state::StateFile;
use serde::{Deserialize, Serialize};

/// The most agents remembered per session; the one whose last stop is oldest is forgotten first.
pub(crate) const MAX_AGENTS: usize = 64;

/// One agent's stops within one prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
// `streak` is the field's name in the state file already written by earlier versions.
#[allow(clippy::struct_field_names)]
pub struct Streak {
    /// The prompt of the agent's latest stop.
    pub prompt: Option<String>,
    /// How many stops in a row before the latest one were blocked.
    pub streak: u32,
    /// When the first stop of the streak happened (Unix milliseconds).
    pub started_ms: i64,
    /// When the latest stop happened (Unix milliseconds).
    pub last_stop_ms: i64,
    /// The highest level escalated in this streak (0: none yet).
    pub level: u32,
    /// The time of the newest loop-detect `stuck` entry already acted on, in this prompt.
    pub stuck_seen: Option<String>,
}

/// Every agent's streak in one session: `sessions/<id>/escalation.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Streaks {
    /// Agent key (`main` or the `agent_id`) → streak.
    pub agents: BTreeMap<String, Streak>,
}

impl StateFile for Streaks {
    const NAME: &'static str = "escalation";
    const SCHEMA_VERSION: u32 = 1;
}

/// What is known about the time since the agent's previous stop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// The shared stop chain's count: blocked stops before this one since the agent's last tool call.
    pub earlier: u32,
    /// The time of the newest loop-detect `stuck` entry for this agent since its previous stop.
    pub stuck: Option<String>,
}

/// Why an escalation happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The streak passed the threshold.
    Streak,
    /// loop-detect logged the agent as stuck.
    Stuck,
}

/// The agent's next streak after a stop at `now_ms`, and whether (and why) this stop escalates.
#[must_use]
pub(crate) fn step(
    prev: Option<&Streak>,
    prompt: Option<&str>,
    now_ms: i64,
    seen: &Seen,
    threshold: u32,
) -> (Streak, Option<Trigger>) {
    let same_prompt = prev.filter(|p| p.prompt.as_deref() == prompt);
    let continues = same_prompt.is_some_and(|p| seen.earlier > p.streak);
    let mut next = match same_prompt {
        Some(p) if continues => Streak {
            streak: seen.earlier,
            ..p.clone()
        },
        _ => Streak {
            prompt: prompt.map(str::to_owned),
            streak: seen.earlier,
            started_ms: now_ms,
            stuck_seen: same_prompt.and_then(|p| p.stuck_seen.clone()),
            ..Streak::default()
        },
    };
    next.last_stop_ms = now_ms;
    let due = next.streak / threshold.saturating_add(1);
    let new_stuck = seen
        .stuck
        .as_ref()
        .filter(|t| next.stuck_seen.as_ref() != Some(*t))
        .cloned();
    let mut trigger = None;
    if due > next.level {
        next.level = due;
        trigger = Some(Trigger::Streak);
    }
    if let Some(t) = new_stuck {
        if next.level == 0 {
            next.level = 1;
            trigger = Some(Trigger::Stuck);
        }
        next.stuck_seen = Some(t);
    }
    (next, trigger)
}

/// Records `next` for `agent`, forgetting the agent with the oldest stop when the table is full.
pub(crate) fn remember(streaks: &mut Streaks, agent: &str, next: Streak) {
    if !streaks.agents.contains_key(agent) && streaks.agents.len() >= MAX_AGENTS {
        let oldest = streaks
            .agents
            .iter()
            .min_by_key(|(_, s)| s.last_stop_ms)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            streaks.agents.remove(&k);
        }
    }
    streaks.agents.insert(agent.to_owned(), next);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs stops of one prompt; returns the streak numbers that escalated.
    fn escalations(stops: &[Seen], threshold: u32) -> Vec<(u32, Trigger)> {
        let mut rec: Option<Streak> = None;
        let mut out = Vec::new();
        for (i, seen) in stops.iter().enumerate() {
            let (next, t) = step(
                rec.as_ref(),
                Some("p"),
                i64::try_from(i).unwrap(),
                seen,
                threshold,
            );
            if let Some(t) = t {
                out.push((next.streak, t));
            }
            rec = Some(next);
        }
        out
    }

    /// The stops of a chain with no tool call: 0, 1, 2, ... earlier blocked stops.
    fn chain(n: u32) -> Vec<Seen> {
        (0..n)
            .map(|earlier| Seen {
                earlier,
                ..Seen::default()
            })
            .collect()
    }

    fn at(earlier: u32) -> Seen {
        Seen {
            earlier,
            ..Seen::default()
        }
    }

    #[test]
    fn the_fifth_stop_of_a_blocked_chain_escalates_once() {
        assert_eq!(escalations(&chain(7), 3), vec![(4, Trigger::Streak)]);
    }

    #[test]
    fn a_long_chain_escalates_again_at_the_next_level() {
        assert_eq!(
            escalations(&chain(11), 3),
            vec![(4, Trigger::Streak), (8, Trigger::Streak)]
        );
        assert_eq!(
            escalations(&chain(11), 1).len(),
            5,
            "levels at 2, 4, 6, 8, 10"
        );
    }

    #[test]
    fn work_between_stops_is_no_streak_and_starts_the_levels_over() {
        // A loop with a tool call before every stop: the chain's count stays at 0 or 1.
        let progressing: Vec<Seen> = (0..40).map(|i| at(u32::from(i > 0))).collect();
        assert!(escalations(&progressing, 3).is_empty());
        // Four blocks, a tool call, then four more: escalated at the first fifth stop, and again after.
        let mut stops = chain(5);
        stops.extend(chain(5));
        assert_eq!(
            escalations(&stops, 3),
            vec![(4, Trigger::Streak), (4, Trigger::Streak)]
        );
    }

    #[test]
    fn a_new_prompt_starts_over() {
        let (a, _) = step(None, Some("p"), 0, &at(0), 3);
        let (b, _) = step(Some(&a), Some("p"), 1, &at(1), 3);
        assert_eq!(b.streak, 1);
        let (c, _) = step(Some(&b), Some("q"), 2, &at(0), 3);
        assert_eq!((c.streak, c.started_ms, c.level), (0, 2, 0));
    }

    #[test]
    fn a_stuck_entry_escalates_once_and_not_again_at_the_threshold() {
        let stuck = |earlier: u32, t: &str| Seen {
            earlier,
            stuck: Some(t.into()),
        };
        let stops = vec![at(0), at(1), stuck(2, "t1"), stuck(3, "t1"), at(4), at(5)];
        assert_eq!(escalations(&stops, 3), vec![(2, Trigger::Stuck)]);
    }

    #[test]
    fn the_table_forgets_the_oldest_agent() {
        let mut s = Streaks::default();
        for i in 0..=MAX_AGENTS {
            let rec = Streak {
                last_stop_ms: i64::try_from(i).unwrap(),
                ..Streak::default()
            };
            remember(&mut s, &format!("a{i}"), rec);
        }
        assert_eq!(s.agents.len(), MAX_AGENTS);
        assert!(!s.agents.contains_key("a0"));
    }
}
