//! Background work: delivering the outbox to the connectors, and the scheduled
//! sweeps (offer expiry). Each job is a loop around a `step` that tests can
//! call directly to drain a queue deterministically.

pub mod credentials;
pub mod delivery;
pub mod scheduler;
pub mod verification;

use std::time::Duration;

/// A small random factor in `[0.5, 1.0)`, to spread retries ("jitter") so
/// that failures of many entries do not retry in lockstep.
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    0.5 + (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64 / 2.0
}

/// Exponential backoff for the `attempt`-th failure (1-based), capped, jittered.
pub fn backoff(attempt: i64, base: Duration, max: Duration) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = base.saturating_mul(2u32.saturating_pow(exponent)).min(max);
    full.mul_f64(jitter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for (attempt, full) in [(1, 1), (2, 2), (3, 4), (7, 60), (40, 60)] {
            let d = backoff(attempt, base, max);
            let full = Duration::from_secs(full);
            assert!(
                d >= full / 2 && d < full,
                "attempt {attempt}: {d:?} not in [{:?}, {full:?})",
                full / 2
            );
        }
        assert_eq!(backoff(3, Duration::ZERO, max), Duration::ZERO);
    }
}
