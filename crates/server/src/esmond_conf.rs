//! Reading an existing esmond configuration (`/etc/esmond/esmond.conf`, Python ConfigParser
//! syntax) so that an esmond host can switch to esmond-rs without rewriting it.
//!
//! Only the keys esmond-rs uses are read from `[main]`: `sql_db_host`, `sql_db_port`,
//! `sql_db_user`, `sql_db_password`, `sql_db_name`. Everything else (the many dead keys of
//! esmond-storage.md §4.2) is ignored. Hand-written: the subset of ConfigParser needed is a few
//! lines, and no kept crate reproduces its `key: value` and continuation rules exactly.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;

/// The `[main]` section of an esmond.conf, keys lowercased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EsmondConf {
    main: HashMap<String, String>,
}

impl EsmondConf {
    /// Reads and parses a file.
    pub fn read(path: &Path) -> anyhow::Result<EsmondConf> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        Ok(EsmondConf::parse(&text))
    }

    /// Parses ConfigParser text: `[section]` headers, `key = value` or `key: value`, comments
    /// starting with `#` or `;`, indented continuation lines.
    pub fn parse(text: &str) -> EsmondConf {
        let mut main = HashMap::new();
        let mut in_main = false;
        let mut last_key: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if let Some(section) = trimmed
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
            {
                in_main = section.trim() == "main";
                last_key = None;
                continue;
            }
            if !in_main {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(key) = &last_key {
                    let value: &mut String = main.entry(key.clone()).or_default();
                    value.push('\n');
                    value.push_str(trimmed);
                }
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                continue;
            };
            let key = trimmed[..split].trim().to_lowercase();
            let value = trimmed[split + 1..].trim().to_owned();
            main.insert(key.clone(), value);
            last_key = Some(key);
        }
        EsmondConf { main }
    }

    /// Returns a non-empty `[main]` value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.main
            .get(key)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keys_of_a_packaged_file() {
        let conf = EsmondConf::parse(
            "[main]\n# esmond\nsql_db_engine = django.db.backends.postgresql_psycopg2\nsql_db_name = esmond\n\
             sql_db_user: esmond\nsql_db_password = s3cr=t\nsql_db_host =\ncassandra_servers = localhost:9160,\n    other:9160\n\
             [persist_map]\nsql_db_name = wrong\n",
        );
        assert_eq!(conf.get("sql_db_name"), Some("esmond"));
        assert_eq!(conf.get("sql_db_user"), Some("esmond"));
        assert_eq!(conf.get("sql_db_password"), Some("s3cr=t"));
        assert_eq!(conf.get("sql_db_host"), None);
        assert_eq!(
            conf.get("cassandra_servers"),
            Some("localhost:9160,\nother:9160")
        );
    }
}
