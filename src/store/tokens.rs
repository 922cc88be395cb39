//! API tokens. Only a SHA-256 hash of each token is stored: the secret is shown
//! once at creation. Tokens are 256-bit random, so a fast hash is enough (there
//! is nothing to brute-force the way there is with a password).

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use super::audit::{self, AuditEntry};
use super::codec::{now, parse_col, parse_opt_col, parse_ts, ts};
use super::{Store, StoreError, contacts};
use crate::domain::actor::{Actor, Person, Role};
use crate::domain::audit::EntityKind;
use crate::domain::contact::ContactKind;
use crate::domain::ids::{ContactId, TokenId};
use crate::domain::validation::{ValidationErrors, text};

const PREFIX: &str = "ssot_";

/// A token as stored: who it speaks for, never the secret.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TokenRecord {
    pub id: TokenId,
    pub role: Role,
    pub contact_id: Option<ContactId>,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl TokenRecord {
    /// The actor this token acts as.
    pub fn actor(&self) -> Actor {
        Actor::Person(Person {
            role: self.role,
            contact: self.contact_id,
            label: self.label.clone(),
        })
    }
}

/// A freshly created token: the record and the secret, shown once.
#[derive(Debug)]
pub struct NewToken {
    pub record: TokenRecord,
    pub secret: String,
}

fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("{PREFIX}{}", hex::encode(bytes))
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    role: String,
    contact_id: Option<String>,
    label: String,
    created_at: String,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: parse_col("api_tokens.id", &r.id)?,
            role: parse_col("api_tokens.role", &r.role)?,
            contact_id: parse_opt_col("api_tokens.contact_id", r.contact_id.as_deref())?,
            label: r.label,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

impl Store {
    /// Creates a token. Expert and client tokens must name a contact of that kind.
    pub async fn create_token(
        &self,
        role: Role,
        contact: Option<ContactId>,
        label: Option<&str>,
        actor: &Actor,
    ) -> Result<NewToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let label = match (role.needs_contact(), contact) {
            (true, None) => {
                return Err(ValidationErrors::single(
                    "contact",
                    format!("a {role} token must name a contact"),
                )
                .into());
            }
            (false, Some(_)) => {
                return Err(ValidationErrors::single(
                    "contact",
                    format!("a {role} token speaks for the agency, not a contact"),
                )
                .into());
            }
            (true, Some(id)) => {
                let c = contacts::fetch(&mut tx, id).await?;
                let expected = if role == Role::Expert {
                    ContactKind::Expert
                } else {
                    ContactKind::Client
                };
                if c.kind != expected {
                    return Err(ValidationErrors::single(
                        "contact",
                        format!(
                            "{id} is a {} contact, not {}",
                            c.kind.as_str(),
                            expected.as_str()
                        ),
                    )
                    .into());
                }
                label.map_or_else(|| Ok(c.full_name.clone()), |l| text("label", l, 100, false))
            }
            (false, None) => {
                label.map_or_else(|| Ok(role.to_string()), |l| text("label", l, 100, false))
            }
        }
        .map_err(|e| ValidationErrors(vec![e]))?;
        let secret = generate_secret();
        let record = TokenRecord {
            id: TokenId::new(),
            role,
            contact_id: contact,
            label,
            created_at: now(),
        };
        sqlx::query("INSERT INTO api_tokens (id, role, contact_id, label, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(record.id.to_string())
            .bind(role.as_str())
            .bind(contact.map(|c| c.to_string()))
            .bind(record.label.clone())
            .bind(hash(&secret))
            .bind(ts(record.created_at))
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry::change(EntityKind::Token, record.id, actor, "create")
            .with_details(serde_json::json!({ "role": role, "contact_id": contact }));
        audit::append(&mut tx, entry, record.created_at).await?;
        tx.commit().await?;
        Ok(NewToken { record, secret })
    }

    /// The live token for `secret`, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<TokenRecord>, StoreError> {
        if !secret.starts_with(PREFIX) {
            return Ok(None);
        }
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, role, contact_id, label, created_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        row.map(TokenRecord::try_from).transpose()
    }

    pub async fn revoke_token(&self, id: TokenId, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("token", id));
        }
        audit::append(
            &mut tx,
            AuditEntry::change(EntityKind::Token, id, actor, "revoke"),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT id, role, contact_id, label, created_at FROM api_tokens WHERE revoked_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TokenRecord::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a), hash(&a.clone()));
    }
}
