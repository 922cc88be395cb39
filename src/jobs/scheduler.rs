//! Scheduled sweeps: offers that waited too long are withdrawn by the agent.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// How long an expert has to answer an offer.
    pub offer_ttl: Duration,
    /// How often the sweeps run.
    pub interval: Duration,
}

/// Runs every sweep once; returns how many projects it moved.
pub async fn sweep(store: &Store, config: &SchedulerConfig) -> usize {
    match store.expire_offers(config.offer_ttl).await {
        Ok(expired) => {
            for (project, t) in &expired {
                tracing::info!(%project, from = %t.from, to = %t.to, "offer expired; project back in matching");
            }
            expired.len()
        }
        Err(error) => {
            tracing::warn!(%error, "offer expiry sweep failed; will try again");
            0
        }
    }
}

/// Sweeps every `interval` until cancelled.
pub async fn run(store: Store, config: SchedulerConfig, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(config.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => {
                sweep(&store, &config).await;
            }
        }
    }
}
