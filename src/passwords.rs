//! Password hashing with argon2id at the OWASP-recommended parameters
//! (19 MiB of memory, 2 passes, 1 lane), as PHC strings that carry their own
//! parameters, so raising them later still verifies old hashes. Both
//! operations take tens of milliseconds of CPU and run off the async threads.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory in KiB, passes and lanes; the README states them.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("the parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .expect("hashing does not panic")
}

fn hash_now(password: &str) -> String {
    // A fresh 16-byte salt from the operating system's generator.
    let hash: PasswordHash = hasher()
        .hash_password(password.as_bytes())
        .expect("argon2 hashes any password of bounded length");
    hash.to_string()
}

/// Whether `password` matches `phc`. With no hash (an unknown account, or
/// one that never set a password) a dummy hash is checked instead, so the
/// answer takes as long either way and does not tell whether the account exists.
pub async fn verify(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| dummy().to_owned());
        let matches = PasswordHash::new(&phc)
            .is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok());
        known && matches
    })
    .await
    .expect("verifying does not panic")
}

fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("a password nobody has"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery".into()).await;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), Some(phc.clone())).await);
        assert!(!verify("correct horse batterY".into(), Some(phc.clone())).await);
        assert_ne!(phc, hash("correct horse battery".into()).await, "salted");
    }

    #[tokio::test]
    async fn no_hash_or_a_broken_one_never_verifies() {
        assert!(!verify("a password nobody has".into(), None).await);
        assert!(!verify("x".into(), Some("not a phc string".into())).await);
    }
}
