//! `ssot init DIR`: a folder a hub can start in, with the shipped protocol
//! vault and a commented `ssot.toml`. Nothing already there is overwritten.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/default_vault.rs"));

/// The configuration file `ssot init` writes, every key commented out.
pub const CONFIG_TEMPLATE: &str = include_str!("init/ssot.toml");

/// Writes `DIR/protocols/...` and `DIR/ssot.toml`; returns the files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let protocols = dir.join("protocols");
    let config = dir.join(crate::config::DEFAULT_CONFIG_FILE);
    for existing in [&protocols, &config] {
        if existing.exists() {
            return Err(format!(
                "{} exists already; nothing was written (move it away, or use another folder)",
                existing.display()
            ));
        }
    }
    let mut written = Vec::new();
    for (inside, text) in DEFAULT_VAULT {
        let path = protocols.join(inside);
        write(&path, text)?;
        written.push(path);
    }
    write(&config, CONFIG_TEMPLATE)?;
    written.push(config);
    Ok(written)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn init_writes_a_vault_the_agent_loads_and_a_config_that_parses() {
        let dir = tempfile::tempdir().unwrap();
        let written = init(dir.path()).unwrap();
        assert!(
            written.len() > DEFAULT_VAULT.len(),
            "the vault and ssot.toml"
        );
        let vault = crate::agent::vault::Vault::load(&dir.path().join("protocols")).unwrap();
        assert!(vault.errors().is_empty(), "{:?}", vault.errors());
        assert_eq!(
            vault.set.protocols.len(),
            8,
            "four client and four expert protocols"
        );
        let config = dir.path().join("ssot.toml");
        assert!(Settings::load(Some(&config)).is_ok());
        // Every commented key is a real one with a valid value.
        let uncommented: String = CONFIG_TEMPLATE
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            })
            .take_while(|l| !l.starts_with("base_url"))
            .map(|l| format!("{l}\n"))
            .collect();
        let plain = dir.path().join("all.toml");
        std::fs::write(&plain, uncommented).unwrap();
        let loaded = Settings::load(Some(&plain));
        assert!(loaded.is_ok(), "{:?}", loaded.err());
        assert!(init(dir.path()).unwrap_err().contains("exists already"));
    }
}
