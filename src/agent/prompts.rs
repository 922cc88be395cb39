//! The prompt files (`prompts/`), with a version hash stored beside every
//! result so a report says exactly which wording the model saw.

use std::path::Path;

use sha2::{Digest, Sha256};

const SYSTEM: &str = "verify_system.md";
const USER: &str = "verify_user.md";

/// Compiled-in copies, used when no prompts folder is at hand (an installed binary).
const BUILTIN_SYSTEM: &str = include_str!("../../prompts/verify_system.md");
const BUILTIN_USER: &str = include_str!("../../prompts/verify_user.md");

#[derive(Clone, Debug)]
pub struct Prompts {
    pub system: String,
    user: String,
    /// `sha256:<hex>` of the two files.
    pub version: String,
}

impl Prompts {
    /// Reads the prompt files from `dir` when it holds them, else the built-in copies.
    pub fn load(dir: Option<&Path>) -> std::io::Result<Self> {
        let (system, user) = match dir.filter(|d| d.join(SYSTEM).exists()) {
            Some(d) => (
                std::fs::read_to_string(d.join(SYSTEM))?,
                std::fs::read_to_string(d.join(USER))?,
            ),
            None => (BUILTIN_SYSTEM.to_owned(), BUILTIN_USER.to_owned()),
        };
        let mut h = Sha256::new();
        h.update(system.as_bytes());
        h.update([0]);
        h.update(user.as_bytes());
        let version = format!("sha256:{}", hex::encode(h.finalize()));
        Ok(Self {
            system,
            user,
            version,
        })
    }

    /// The user prompt with every `{{name}}` replaced.
    pub fn user(&self, vars: &[(&str, &str)]) -> String {
        let mut out = self.user.clone();
        for (name, value) in vars {
            out = out.replace(&format!("{{{{{name}}}}}"), value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_follows_the_wording() {
        let builtin = Prompts::load(None).unwrap();
        assert!(builtin.version.starts_with("sha256:") && builtin.version.len() == 7 + 64);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SYSTEM), "be careful").unwrap();
        std::fs::write(dir.path().join(USER), "Type: {{doc_type}}").unwrap();
        let custom = Prompts::load(Some(dir.path())).unwrap();
        assert_ne!(custom.version, builtin.version);
        assert_eq!(custom.user(&[("doc_type", "nda")]), "Type: nda");
    }
}
