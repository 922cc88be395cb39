//! Ids of records in the connected tools that the hub wrote there or took
//! from there, so webhooks are neither echoed back nor applied twice.

use sqlx::AnyConnection;

use super::codec::{now, ts};
use super::{Store, StoreError};

/// Records `external_id` of `tool`; `false` when it was known already.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    tool: &str,
    external_id: &str,
    direction: &str,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO external_events (tool, external_id, direction, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tool, external_id) DO NOTHING",
    )
    .bind(tool.to_owned())
    .bind(external_id.to_owned())
    .bind(direction.to_owned())
    .bind(ts(now()))
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

impl Store {
    /// Remembers a record the hub made in `tool` (a comment it posted).
    pub async fn record_outbound(&self, tool: &str, external_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        record(&mut tx, tool, external_id, "out").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the hub made, or already took, this record of `tool`.
    pub async fn knows_external(&self, tool: &str, external_id: &str) -> Result<bool, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT direction FROM external_events WHERE tool = $1 AND external_id = $2",
        )
        .bind(tool.to_owned())
        .bind(external_id.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}
