//! Retention as a per-write TTL, from a policy in the format of esmond's `ps_remove_data.conf`
//! (esmond-storage.md §4.6): expired data leaves with the TTL and time-window compaction, with no
//! cleanup job.

use std::collections::BTreeMap;
use std::path::Path;

use esmond_model::SummaryType;
use serde::Deserialize;

const DAY: i64 = 86_400;

/// Cassandra refuses TTLs above 20 years.
pub const MAX_TTL: i32 = 630_720_000;

/// One rule: which data, and how many days it is kept (`never` keeps it forever).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RetentionRule {
    /// An event type name, or `*`.
    pub event_type: String,
    /// A summary type JSON name (`base`, `aggregation`, `average`, `statistics`), or `*`.
    pub summary_type: String,
    /// A window in seconds, or `*`; esmond's file writes it as a string, a number is accepted.
    #[serde(deserialize_with = "text_or_number")]
    pub summary_window: String,
    /// Days, or `never`.
    #[serde(deserialize_with = "text_or_number")]
    pub expire: String,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(i64),
    }
    Ok(match TextOrNumber::deserialize(deserializer)? {
        TextOrNumber::Text(text) => text,
        TextOrNumber::Number(number) => number.to_string(),
    })
}

/// How long data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expiry {
    /// Kept this many days after its time stamp.
    Days(i64),
    /// Kept forever (no matching rule, or `never`).
    Never,
}

/// A retention policy: rules looked up most specific first, event type before summary type
/// before window, falling back to `*` at each level as esmond's script does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    rules: BTreeMap<String, BTreeMap<String, BTreeMap<String, Expiry>>>,
}

/// The event types esmond's shipped policy keeps for 180 days at window 0.
const SHORT_LIVED: [&str; 9] = [
    "histogram-owdelay",
    "histogram-rtt",
    "histogram-ttl",
    "packet-loss-rate",
    "packet-count-sent",
    "packet-count-lost",
    "packet-duplicates",
    "packet-reorders",
    "time-error-estimates",
];

impl Default for RetentionPolicy {
    /// esmond's shipped policy: a year, five years for daily summaries, 180 days for the raw
    /// data of the high-rate latency and loss event types.
    fn default() -> Self {
        let rule = |event_type: &str, window: &str, expire: &str| RetentionRule {
            event_type: event_type.to_owned(),
            summary_type: "*".to_owned(),
            summary_window: window.to_owned(),
            expire: expire.to_owned(),
        };
        let mut rules = vec![rule("*", "*", "365"), rule("*", "86400", "1825")];
        rules.extend(
            SHORT_LIVED
                .iter()
                .map(|event_type| rule(event_type, "0", "180")),
        );
        RetentionPolicy::from_rules(&rules).expect("the default policy is valid")
    }
}

/// The JSON file of esmond's retention script.
#[derive(Debug, Deserialize)]
struct PolicyFile {
    policies: Vec<RetentionRule>,
}

impl RetentionPolicy {
    /// Builds a policy; `expire` must be a number of days or `never`.
    pub fn from_rules(rules: &[RetentionRule]) -> Result<RetentionPolicy, String> {
        let mut tree: BTreeMap<String, BTreeMap<String, BTreeMap<String, Expiry>>> =
            BTreeMap::new();
        for rule in rules {
            let expire = rule.expire.trim();
            let expiry = if expire == "never" {
                Expiry::Never
            } else {
                Expiry::Days(
                    expire
                        .parse()
                        .map_err(|_| format!("invalid expire {expire:?} in a retention rule"))?,
                )
            };
            tree.entry(rule.event_type.clone())
                .or_default()
                .entry(rule.summary_type.clone())
                .or_default()
                .insert(rule.summary_window.trim().to_owned(), expiry);
        }
        Ok(RetentionPolicy { rules: tree })
    }

    /// Reads a `ps_remove_data.conf` file (`{"policies": [...]}`).
    pub fn from_file(path: &Path) -> Result<RetentionPolicy, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let file: PolicyFile =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        RetentionPolicy::from_rules(&file.policies)
    }

    /// Returns how long data of this event type, summary type and window is kept.
    pub fn expiry(&self, event_type: &str, summary_type: &str, window: i64) -> Expiry {
        let window = window.to_string();
        for event_key in [event_type, "*"] {
            let Some(summaries) = self.rules.get(event_key) else {
                continue;
            };
            for summary_key in [summary_type, "*"] {
                let Some(windows) = summaries.get(summary_key) else {
                    continue;
                };
                for window_key in [window.as_str(), "*"] {
                    if let Some(expiry) = windows.get(window_key) {
                        return *expiry;
                    }
                }
            }
        }
        Expiry::Never
    }

    /// Returns the longest expiry among the summaries that a bin state of `window` serves
    /// (aggregation, average and statistics share one state).
    pub fn bin_expiry(&self, event_type: &str, window: i64) -> Expiry {
        [
            SummaryType::Aggregation,
            SummaryType::Average,
            SummaryType::Statistics,
        ]
        .into_iter()
        .map(|summary| self.expiry(event_type, summary.json_name(), window))
        .max()
        .unwrap_or(Expiry::Never)
    }

    /// Returns the TTL, in seconds, of data stamped `ts` (the end of its bin for summaries)
    /// arriving at time `now`; 0 means no TTL.
    ///
    /// Retention counts from the data's own time stamp. Data that arrives already past it (a
    /// backfill of old measurements) is kept for the whole retention period from its arrival:
    /// acknowledging a write and storing nothing is not an option.
    pub fn ttl(expiry: Expiry, ts: i64, now: i64) -> i32 {
        let Expiry::Days(days) = expiry else { return 0 };
        let period = days.saturating_mul(DAY).max(1);
        let remaining = period.saturating_sub(now.saturating_sub(ts));
        let ttl = if remaining > 0 { remaining } else { period };
        i32::try_from(ttl.min(i64::from(MAX_TTL))).unwrap_or(MAX_TTL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_picks_the_most_specific_rule() {
        let policy = RetentionPolicy::default();
        assert_eq!(
            policy.expiry("histogram-owdelay", "base", 0),
            Expiry::Days(180)
        );
        assert_eq!(
            policy.expiry("histogram-owdelay", "statistics", 0),
            Expiry::Days(180)
        );
        // Backtracking: the histogram-owdelay branch has no 86400 rule, so `*` decides.
        assert_eq!(
            policy.expiry("histogram-owdelay", "aggregation", 86400),
            Expiry::Days(1825)
        );
        assert_eq!(
            policy.expiry("histogram-owdelay", "aggregation", 3600),
            Expiry::Days(365)
        );
        assert_eq!(policy.expiry("throughput", "base", 0), Expiry::Days(365));
        assert_eq!(
            policy.expiry("throughput", "average", 86400),
            Expiry::Days(1825)
        );
    }

    #[test]
    fn esmond_policy_files_parse() {
        let file: PolicyFile = serde_json::from_str(
            r#"{"policies": [{"event_type": "*", "summary_type": "*", "summary_window": "*", "expire": "30"},
                             {"event_type": "throughput", "summary_type": "average", "summary_window": 86400, "expire": "never"}]}"#,
        )
        .unwrap();
        let policy = RetentionPolicy::from_rules(&file.policies).unwrap();
        assert_eq!(policy.expiry("throughput", "average", 86400), Expiry::Never);
        assert_eq!(policy.expiry("throughput", "base", 0), Expiry::Days(30));
        assert!(
            RetentionPolicy::from_rules(&[RetentionRule {
                event_type: "*".into(),
                summary_type: "*".into(),
                summary_window: "*".into(),
                expire: "soon".into(),
            }])
            .is_err()
        );
    }

    #[test]
    fn ttls_count_from_the_time_stamp() {
        let now = 1_000_000_000;
        assert_eq!(RetentionPolicy::ttl(Expiry::Days(1), now, now), 86_400);
        assert_eq!(
            RetentionPolicy::ttl(Expiry::Days(1), now - 86_000, now),
            400
        );
        // Past its retention on arrival: kept a full period from now.
        assert_eq!(
            RetentionPolicy::ttl(Expiry::Days(1), now - 86_400, now),
            86_400
        );
        assert_eq!(RetentionPolicy::ttl(Expiry::Never, 0, now), 0);
        assert_eq!(
            RetentionPolicy::ttl(Expiry::Days(100_000), now, now),
            630_720_000
        );
    }
}
