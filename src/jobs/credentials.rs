//! The daily credential sweep: approved credentials whose validity ended are
//! marked expired, which blocks the project or suspends the expert and revokes
//! access; those expiring soon are listed for the operators.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::{Store, now};

/// Expires every credential whose validity ended before `today`; returns how many.
pub async fn sweep(store: &Store, today: time::Date) -> usize {
    let expired = match store.expired_documents(today).await {
        Ok(docs) => docs,
        Err(error) => {
            tracing::warn!(%error, "credential sweep could not list expired documents");
            return 0;
        }
    };
    let mut done = 0;
    for doc in expired {
        match store.expire_document(doc.id).await {
            Ok(outcome) => {
                done += 1;
                tracing::warn!(
                    document = %doc.id, doc_type = %doc.doc_type, expires_on = ?doc.expires_on,
                    blocked = outcome.transitions.len(), vetting = ?outcome.vetting,
                    "credential expired; access revoked where it was granted"
                );
            }
            Err(error) => {
                tracing::warn!(document = %doc.id, %error, "could not expire a credential; will try again")
            }
        }
    }
    done
}

/// Sweeps every `interval` until cancelled.
pub async fn run(store: Store, interval: Duration, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
                        _ = ticks.tick() => {
                sweep(&store, now().date()).await;
            }
        }
    }
}
