//! The daily credential sweep: approved credentials whose validity ended are
//! marked expired, which blocks the project or suspends the expert and revokes
//! access (unless a renewal stands in); those expiring soon are logged for the
//! operators, who also see them at `GET /credentials/expiring`.

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
        match store.expire_document(doc.id, today).await {
            Ok(outcome) => {
                done += 1;
                tracing::warn!(
                    document = %doc.id, doc_type = %doc.doc_type, expires_on = ?doc.expires_on,
                    blocked = outcome.transitions.len(), vetting = ?outcome.vetting,
                    "credential expired; access revoked where it was granted and no renewal stands in"
                );
            }
            Err(error) => {
                tracing::warn!(document = %doc.id, %error, "could not expire a credential; will try again")
            }
        }
    }
    done
}

/// Logs the credentials expiring within `days` of `today`; returns how many.
pub async fn warn_expiring(store: &Store, today: time::Date, days: u32) -> usize {
    let until = today.saturating_add(time::Duration::days(i64::from(days)));
    match store.expiring_documents(today, until).await {
        Ok(docs) => {
            for doc in &docs {
                tracing::info!(
                    document = %doc.id, doc_type = %doc.doc_type, subject = ?doc.subject,
                    expires_on = ?doc.expires_on, "credential expires soon; ask for a renewal"
                );
            }
            docs.len()
        }
        Err(error) => {
            tracing::warn!(%error, "credential sweep could not list expiring documents");
            0
        }
    }
}

/// Sweeps every `interval` until cancelled.
pub async fn run(store: Store, interval: Duration, warning_days: u32, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => {
                let today = now().date();
                let expired = sweep(&store, today).await;
                let expiring = warn_expiring(&store, today, warning_days).await;
                tracing::info!(expired, expiring, "credential sweep done");
            }
        }
    }
}
