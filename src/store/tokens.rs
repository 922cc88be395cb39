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
    /// After this the token is refused; `null`: it does not expire.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
    /// When it was last used, to the minute.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<time::OffsetDateTime>,
}

/// How long a new token of each role lives, in days (0: until revoked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLifetimes {
    pub admin: u32,
    pub operator: u32,
    pub expert: u32,
    pub client: u32,
}

impl TokenLifetimes {
    /// `ttl_days` when given, else the role's default; `None`: no expiry.
    pub fn lifetime(&self, role: Role, ttl_days: Option<u32>) -> Option<time::Duration> {
        let days = ttl_days.unwrap_or(match role {
            Role::Admin => self.admin,
            Role::Operator => self.operator,
            Role::Expert => self.expert,
            Role::Client => self.client,
        });
        (days > 0).then(|| time::Duration::days(i64::from(days)))
    }
}

/// What a presented secret turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenCheck {
    Valid(TokenRecord),
    /// A real token past its `expires_at`.
    Expired(TokenRecord),
    /// Not a token, or a revoked one.
    Unknown,
}

impl TokenCheck {
    pub fn valid(self) -> Option<TokenRecord> {
        match self {
            TokenCheck::Valid(t) => Some(t),
            TokenCheck::Expired(_) | TokenCheck::Unknown => None,
        }
    }
}

/// Last-use times are written at most this often per token, so reading a
/// token does not become a write on every request.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

impl TokenRecord {
    pub fn is_expired(&self, at: time::OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|e| e <= at)
    }

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

const TOKEN_COLUMNS: &str = "id, role, contact_id, label, created_at, expires_at, last_used_at";

#[derive(FromRow)]
struct TokenRow {
    id: String,
    role: String,
    contact_id: Option<String>,
    label: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
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
            expires_at: r.expires_at.as_deref().map(parse_ts).transpose()?,
            last_used_at: r.last_used_at.as_deref().map(parse_ts).transpose()?,
        })
    }
}

impl Store {
    /// Creates a token living for `lifetime` (`None`: until revoked). Expert
    /// and client tokens must name a contact of that kind.
    pub async fn create_token(
        &self,
        role: Role,
        contact: Option<ContactId>,
        label: Option<&str>,
        lifetime: Option<time::Duration>,
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
        let created_at = now();
        let record = TokenRecord {
            id: TokenId::new(),
            role,
            contact_id: contact,
            label,
            created_at,
            expires_at: lifetime.map(|l| created_at + l),
            last_used_at: None,
        };
        sqlx::query("INSERT INTO api_tokens (id, role, contact_id, label, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(record.id.to_string())
            .bind(role.as_str())
            .bind(contact.map(|c| c.to_string()))
            .bind(record.label.clone())
            .bind(hash(&secret))
            .bind(ts(record.created_at))
            .bind(record.expires_at.map(ts))
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry::change(EntityKind::Token, record.id, actor, "create")
            .with_details(serde_json::json!({ "role": role, "contact_id": contact, "expires_at": record.expires_at.map(ts) }));
        audit::append(&mut tx, entry, record.created_at).await?;
        tx.commit().await?;
        Ok(NewToken { record, secret })
    }

    /// What `secret` is: a valid token, an expired one, or nothing. A valid
    /// token's last use is recorded (at most once a minute, off the request's path).
    pub async fn authenticate(&self, secret: &str) -> Result<TokenCheck, StoreError> {
        if !secret.starts_with(PREFIX) {
            return Ok(TokenCheck::Unknown);
        }
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        )))
        .bind(hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(token) = row.map(TokenRecord::try_from).transpose()? else {
            return Ok(TokenCheck::Unknown);
        };
        let at = now();
        if token.is_expired(at) {
            return Ok(TokenCheck::Expired(token));
        }
        if token
            .last_used_at
            .is_none_or(|last| at - last >= TOUCH_EVERY)
        {
            let store = self.clone();
            let id = token.id;
            tokio::spawn(async move {
                if let Err(error) = store.touch_token(id, at).await {
                    tracing::debug!(token = %id, %error, "last use of a token not recorded");
                }
            });
        }
        Ok(TokenCheck::Valid(token))
    }

    async fn touch_token(&self, id: TokenId, at: time::OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(ts(at))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Gives a token a new secret, and a new lifetime (`ttl_days`, else its
    /// role's), keeping its id, role and contact; the old secret stops working at once.
    pub async fn rotate_token(
        &self,
        id: TokenId,
        lifetimes: &TokenLifetimes,
        ttl_days: Option<u32>,
        actor: &Actor,
    ) -> Result<NewToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let role: Option<(String,)> =
            sqlx::query_as("SELECT role FROM api_tokens WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let (role,) = role.ok_or_else(|| StoreError::not_found("token", id))?;
        let lifetime = lifetimes.lifetime(parse_col("api_tokens.role", &role)?, ttl_days);
        let secret = generate_secret();
        let at = now();
        let expires_at = lifetime.map(|l| at + l);
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE api_tokens SET token_hash = $1, expires_at = $2, last_used_at = NULL
             WHERE id = $3 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
        )))
        .bind(hash(&secret))
        .bind(expires_at.map(ts))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let record = row
            .ok_or_else(|| StoreError::not_found("token", id))?
            .try_into()?;
        let entry = AuditEntry::change(EntityKind::Token, id, actor, "rotate")
            .with_details(serde_json::json!({ "expires_at": expires_at.map(ts) }));
        audit::append(&mut tx, entry, at).await?;
        tx.commit().await?;
        Ok(NewToken { record, secret })
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

    /// Tokens not revoked, expired ones included (see [`TokenRecord::is_expired`]).
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE revoked_at IS NULL ORDER BY id"
        )))
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
