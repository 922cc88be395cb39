//! Audit events: who changed what, when and why. Written in the same transaction
//! as the change they describe, and chained: each event's hash covers the one
//! before it, so an edited, inserted or deleted event breaks the chain.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::ids::{AuditId, ContactId};

/// What an audit event is about.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EntityKind {
    Project,
    Contact,
    Expert,
    Task,
    Ticket,
    Token,
    Outbox,
    Document,
    User,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: AuditId,
    pub entity: EntityKind,
    pub entity_id: String,
    /// "operator", "expert", "client", "admin" or "agent".
    pub actor_kind: String,
    pub actor_label: String,
    pub actor_contact: Option<ContactId>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The event's place in the hub's audit chain (`null` until its
    /// transaction commits).
    pub chain_seq: Option<i64>,
    /// SHA-256 over the previous event's hash and this event.
    pub hash: Option<String>,
}

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The newest event of the chain: anchoring it elsewhere (a close-out bundle,
/// a note) makes later rewriting of earlier events detectable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// An event's columns exactly as stored, which is what its hash covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub entity: String,
    pub entity_id: String,
    pub actor_kind: String,
    pub actor_label: String,
    pub actor_contact: Option<String>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    pub details: String,
    pub at: String,
}

impl StoredEvent {
    /// One unambiguous text of every column (a JSON array).
    pub fn canonical(&self) -> String {
        serde_json::json!([
            self.id,
            self.entity,
            self.entity_id,
            self.actor_kind,
            self.actor_label,
            self.actor_contact,
            self.action,
            self.from_state,
            self.to_state,
            self.reason,
            self.details,
            self.at
        ])
        .to_string()
    }
}

/// The hash of the event at `seq` whose canonical text is `canonical`.
pub fn chain_hash(prev: &str, seq: i64, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// What a chain check found first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The event's content no longer matches its hash.
    Edited { seq: i64, id: String },
    /// An event at `seq` does not follow the one before it: one was inserted there.
    Inserted { seq: i64, id: String },
    /// Events before `seq` are missing.
    Deleted { after_seq: i64, missing: i64 },
    /// An event in the table that was never sealed into the chain.
    Unsealed { id: String },
    /// The head records more events, or another last hash, than the table holds.
    TailDeleted { head_seq: i64, last_seq: i64 },
}

/// Walks events in chain order and reports the first break.
#[derive(Debug)]
pub struct ChainCheck {
    prev_hash: String,
    prev_seq: i64,
    pub checked: u64,
    pub first_break: Option<ChainBreak>,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS.to_owned(),
            prev_seq: 0,
            checked: 0,
            first_break: None,
        }
    }
}

impl ChainCheck {
    /// Feeds the next sealed event (by `chain_seq`) with its stored chain columns.
    pub fn next(&mut self, event: &StoredEvent, seq: i64, prev_hash: &str, hash: &str) {
        self.checked += 1;
        if self.first_break.is_some() {
            return;
        }
        let found = if seq > self.prev_seq + 1 {
            Some(ChainBreak::Deleted {
                after_seq: self.prev_seq,
                missing: seq - self.prev_seq - 1,
            })
        } else if prev_hash != self.prev_hash || seq != self.prev_seq + 1 {
            Some(ChainBreak::Inserted {
                seq,
                id: event.id.clone(),
            })
        } else if chain_hash(prev_hash, seq, &event.canonical()) != hash {
            Some(ChainBreak::Edited {
                seq,
                id: event.id.clone(),
            })
        } else {
            None
        };
        self.first_break = found;
        self.prev_hash = hash.to_owned();
        self.prev_seq = seq;
    }

    /// Ends the walk against the recorded head.
    pub fn finish(&mut self, head: &ChainHead) {
        if self.first_break.is_none() && (head.seq != self.prev_seq || head.hash != self.prev_hash)
        {
            self.first_break = Some(ChainBreak::TailDeleted {
                head_seq: head.seq,
                last_seq: self.prev_seq,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> StoredEvent {
        StoredEvent {
            id: format!("e{n}"),
            entity: "project".into(),
            entity_id: "p".into(),
            actor_kind: "operator".into(),
            actor_label: "olga".into(),
            actor_contact: None,
            action: "block".into(),
            from_state: Some("active".into()),
            to_state: Some("blocked".into()),
            reason: Some("unpaid".into()),
            details: "{}".into(),
            at: "2026-12-07T10:00:00.000000Z".into(),
        }
    }

    /// `n` events chained properly: (event, seq, prev, hash).
    fn chain(n: u32) -> Vec<(StoredEvent, i64, String, String)> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|i| {
                let e = event(i);
                let seq = i64::from(i);
                let hash = chain_hash(&prev, seq, &e.canonical());
                let row = (e, seq, prev.clone(), hash.clone());
                prev = hash;
                row
            })
            .collect()
    }

    fn check(rows: &[(StoredEvent, i64, String, String)], head: &ChainHead) -> Option<ChainBreak> {
        let mut c = ChainCheck::default();
        for (e, seq, prev, hash) in rows {
            c.next(e, *seq, prev, hash);
        }
        c.finish(head);
        c.first_break
    }

    fn head_of(rows: &[(StoredEvent, i64, String, String)]) -> ChainHead {
        let last = rows.last().unwrap();
        ChainHead {
            seq: last.1,
            hash: last.3.clone(),
        }
    }

    #[test]
    fn an_intact_chain_checks_out() {
        let rows = chain(5);
        assert_eq!(check(&rows, &head_of(&rows)), None);
    }

    #[test]
    fn an_edited_event_is_named() {
        let mut rows = chain(5);
        let head = head_of(&rows);
        rows[2].0.reason = Some("paid".into());
        assert_eq!(
            check(&rows, &head),
            Some(ChainBreak::Edited {
                seq: 3,
                id: "e3".into()
            })
        );
    }

    #[test]
    fn a_deleted_event_is_found_in_the_middle_and_at_the_end() {
        let mut rows = chain(5);
        let head = head_of(&rows);
        rows.remove(1);
        assert_eq!(
            check(&rows, &head),
            Some(ChainBreak::Deleted {
                after_seq: 1,
                missing: 1
            })
        );
        let mut rows = chain(5);
        rows.pop();
        assert_eq!(
            check(&rows, &head),
            Some(ChainBreak::TailDeleted {
                head_seq: 5,
                last_seq: 4
            })
        );
    }

    #[test]
    fn an_inserted_event_does_not_follow_its_predecessor() {
        let mut rows = chain(3);
        let head = head_of(&rows);
        // A forged event slotted in as seq 2, hashed over the wrong predecessor.
        let forged = event(9);
        let hash = chain_hash(GENESIS, 2, &forged.canonical());
        rows.insert(1, (forged, 2, GENESIS.to_owned(), hash));
        assert!(matches!(
            check(&rows, &head),
            Some(ChainBreak::Inserted { seq: 2, .. })
        ));
    }
}
