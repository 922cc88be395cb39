//! Users of the pages, their one-time invitations and their server-side
//! sessions. Invitation and session secrets are 256-bit random and only their
//! SHA-256 is stored; passwords arrive here already hashed (see
//! `crate::passwords`), so this layer never sees one.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};
use time::{Duration, OffsetDateTime};

use super::audit::{self, AuditEntry};
use super::codec::{now, parse_col, parse_opt_col, parse_opt_ts, parse_ts, ts};
use super::{Store, StoreError, contacts};
use crate::domain::actor::{Actor, Role};
use crate::domain::audit::EntityKind;
use crate::domain::contact::{ContactKind, Email};
use crate::domain::ids::{InvitationId, UserId};
use crate::domain::user::{Locale, NewUser, User};
use crate::domain::validation::ValidationErrors;

/// A user with the stored password hash, for checking a sign-in.
#[derive(Clone, Debug)]
pub struct SignInRecord {
    pub user: User,
    pub password_hash: Option<String>,
}

/// An invitation as stored, never its secret.
#[derive(Clone, Debug, PartialEq)]
pub struct InvitationRecord {
    pub id: InvitationId,
    pub user_id: UserId,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A fresh invitation and the secret of its link, shown once.
#[derive(Debug)]
pub struct NewInvitation {
    pub record: InvitationRecord,
    pub secret: String,
}

/// How long a session lives: since it was last used, and at most in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

/// A signed-in session: its user and the token its forms must carry.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
}

/// A new session's cookie secret and form token.
#[derive(Debug)]
pub struct NewSession {
    pub secret: String,
    pub csrf_token: String,
}

/// Last-seen times are written at most this often per session.
const TOUCH_EVERY: Duration = Duration::minutes(1);

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    hex::encode(bytes)
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const USER_COLUMNS: &str = "u.id, u.email, u.display_name, u.role, u.contact_id, u.password_hash, u.locale, u.disabled_at, u.created_at";

#[derive(FromRow)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    role: String,
    contact_id: Option<String>,
    password_hash: Option<String>,
    locale: Option<String>,
    disabled_at: Option<String>,
    created_at: String,
}

impl TryFrom<UserRow> for SignInRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let user = User {
            id: parse_col("users.id", &r.id)?,
            email: Email::parse(&r.email)
                .map_err(|e| StoreError::Corrupt(format!("users.email: {e}")))?,
            display_name: r.display_name,
            role: parse_col("users.role", &r.role)?,
            contact_id: parse_opt_col("users.contact_id", r.contact_id.as_deref())?,
            locale: parse_opt_col("users.locale", r.locale.as_deref())?,
            active: r.password_hash.is_some(),
            disabled_at: parse_opt_ts(r.disabled_at.as_deref())?,
            created_at: parse_ts(&r.created_at)?,
        };
        Ok(SignInRecord {
            user,
            password_hash: r.password_hash,
        })
    }
}

fn user_of(row: UserRow) -> Result<User, StoreError> {
    SignInRecord::try_from(row).map(|r| r.user)
}

async fn fetch_user(conn: &mut AnyConnection, id: UserId) -> Result<User, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(user_of)
        .transpose()?
        .ok_or_else(|| StoreError::not_found("user", id))
}

/// Ends every session of `user`.
async fn end_sessions_of(conn: &mut AnyConnection, user: UserId) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

impl Store {
    /// Creates a user; an expert or client user must name a contact of that
    /// kind. `password_hash` is `None` for a user who will accept an invitation.
    pub async fn create_user(
        &self,
        new: NewUser,
        password_hash: Option<String>,
        actor: &Actor,
    ) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(contact) = new.contact_id {
            let c = contacts::fetch(&mut tx, contact).await?;
            let expected = if new.role == Role::Expert {
                ContactKind::Expert
            } else {
                ContactKind::Client
            };
            if c.kind != expected {
                return Err(ValidationErrors::single(
                    "contact_id",
                    format!(
                        "{} is a {} contact, not {}",
                        c.full_name,
                        c.kind.as_str(),
                        expected.as_str()
                    ),
                )
                .into());
            }
        }
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(new.email.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(ValidationErrors::single("email", "already has an account").into());
        }
        let at = now();
        let user = User {
            id: UserId::new(),
            email: new.email,
            display_name: new.display_name,
            role: new.role,
            contact_id: new.contact_id,
            locale: None,
            active: password_hash.is_some(),
            disabled_at: None,
            created_at: at,
        };
        sqlx::query("INSERT INTO users (id, email, display_name, role, contact_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(user.id.to_string())
            .bind(user.email.as_str())
            .bind(user.display_name.clone())
            .bind(user.role.as_str())
            .bind(user.contact_id.map(|c| c.to_string()))
            .bind(password_hash)
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry::change(EntityKind::User, user.id, actor, "create").with_details(
            serde_json::json!({ "email": user.email, "role": user.role, "contact_id": user.contact_id }),
        );
        audit::append(&mut tx, entry, at).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch_user(&mut conn, id).await
    }

    /// The account signing in as `email`, if there is one.
    pub async fn user_for_sign_in(
        &self,
        email: &Email,
    ) -> Result<Option<SignInRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"
        )))
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(SignInRecord::try_from).transpose()
    }

    /// Every user, staff first, then by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY CASE u.role WHEN 'admin' THEN 0 WHEN 'operator' THEN 1 WHEN 'expert' THEN 2 ELSE 3 END, u.display_name, u.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(user_of).collect()
    }

    /// Disables a user (ending their sessions and open invitations at once)
    /// or enables them again.
    pub async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        actor: &Actor,
    ) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        let user = fetch_user(&mut tx, id).await?;
        if user.is_disabled() == disabled {
            return Ok(user);
        }
        let at = now();
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(disabled.then(|| ts(at)))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let mut ended = 0;
        if disabled {
            ended = end_sessions_of(&mut tx, id).await?;
            sqlx::query("UPDATE invitations SET revoked_at = $1 WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL")
                .bind(ts(at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let action = if disabled { "disable" } else { "enable" };
        let entry = AuditEntry::change(EntityKind::User, id, actor, action)
            .with_details(serde_json::json!({ "sessions_ended": ended }));
        audit::append(&mut tx, entry, at).await?;
        let user = fetch_user(&mut tx, id).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The language a user chose (`None`: follow the browser).
    pub async fn set_user_locale(
        &self,
        id: UserId,
        locale: Option<Locale>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale.map(Locale::as_str))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("user", id));
        }
        tx.commit().await
    }

    /// A one-time link for `user` to set their password, valid for `ttl`;
    /// any earlier link of theirs stops working.
    pub async fn invite_user(
        &self,
        user: UserId,
        ttl: Duration,
        actor: &Actor,
    ) -> Result<NewInvitation, StoreError> {
        let mut tx = self.begin_write().await?;
        let target = fetch_user(&mut tx, user).await?;
        if target.is_disabled() {
            return Err(StoreError::Conflict(format!(
                "{} is disabled; enable the account before inviting them",
                target.email
            )));
        }
        let at = now();
        sqlx::query("UPDATE invitations SET revoked_at = $1 WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL")
            .bind(ts(at))
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        let secret = random_secret();
        let record = InvitationRecord {
            id: InvitationId::new(),
            user_id: user,
            created_by: actor_label(actor),
            created_at: at,
            expires_at: at + ttl,
        };
        sqlx::query("INSERT INTO invitations (id, user_id, token_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(record.id.to_string())
            .bind(user.to_string())
            .bind(hash(&secret))
            .bind(record.created_by.clone())
            .bind(ts(at))
            .bind(ts(record.expires_at))
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry::change(EntityKind::User, user, actor, "invite").with_details(
            serde_json::json!({ "invitation_id": record.id, "expires_at": ts(record.expires_at) }),
        );
        audit::append(&mut tx, entry, at).await?;
        tx.commit().await?;
        Ok(NewInvitation { record, secret })
    }

    /// The user an invitation link is for, while it is unused, unrevoked and
    /// unexpired, and the user is enabled.
    pub async fn invited_user(&self, secret: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM invitations i JOIN users u ON u.id = i.user_id
             WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.revoked_at IS NULL
               AND i.expires_at > $2 AND u.disabled_at IS NULL"
        )))
        .bind(hash(secret))
        .bind(ts(now()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(user_of).transpose()
    }

    /// Spends an invitation: sets the user's password and ends their other
    /// sessions. `None` when the link is not (or no longer) valid; a link
    /// works once even when two requests race with it.
    pub async fn accept_invitation(
        &self,
        secret: &str,
        password_hash: String,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let spent: Option<(String,)> = sqlx::query_as(
            "UPDATE invitations SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
               AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL)
             RETURNING user_id",
        )
        .bind(ts(at))
        .bind(hash(secret))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id,)) = spent else {
            return Ok(None);
        };
        let user_id: UserId = parse_col("invitations.user_id", &user_id)?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        end_sessions_of(&mut tx, user_id).await?;
        let user = fetch_user(&mut tx, user_id).await?;
        let actor = user.actor();
        let entry = AuditEntry::change(EntityKind::User, user_id, &actor, "accept_invitation");
        audit::append(&mut tx, entry, at).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    /// Invitations not yet used, revoked or expired, newest first.
    pub async fn open_invitations(&self) -> Result<Vec<InvitationRecord>, StoreError> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, user_id, created_by, created_at, expires_at FROM invitations
             WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
             ORDER BY created_at DESC",
        )
        .bind(ts(now()))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, user_id, created_by, created_at, expires_at)| {
                Ok(InvitationRecord {
                    id: parse_col("invitations.id", &id)?,
                    user_id: parse_col("invitations.user_id", &user_id)?,
                    created_by,
                    created_at: parse_ts(&created_at)?,
                    expires_at: parse_ts(&expires_at)?,
                })
            })
            .collect()
    }

    /// Starts a session for `user`.
    pub async fn create_session(&self, user: UserId) -> Result<NewSession, StoreError> {
        let mut tx = self.begin_write().await?;
        let at = ts(now());
        let session = NewSession {
            secret: random_secret(),
            csrf_token: random_secret(),
        };
        sqlx::query("INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(hash(&session.secret))
            .bind(user.to_string())
            .bind(session.csrf_token.clone())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The live session whose cookie holds `secret`: within both lifetimes,
    /// of an enabled user with a password. An expired one is deleted.
    pub async fn session(
        &self,
        secret: &str,
        lifetimes: SessionLifetimes,
    ) -> Result<Option<Session>, StoreError> {
        #[derive(FromRow)]
        struct Row {
            csrf_token: String,
            created_at: String,
            last_seen_at: String,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let id_hash = hash(secret);
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT s.csrf_token, s.created_at, s.last_seen_at, {USER_COLUMNS}
             FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1"
        )))
        .bind(&id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let at = now();
        let created = parse_ts(&row.created_at)?;
        let last_seen = parse_ts(&row.last_seen_at)?;
        let user = user_of(row.user)?;
        let live = at - last_seen < lifetimes.idle
            && at - created < lifetimes.absolute
            && !user.is_disabled()
            && user.active;
        if !live {
            self.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if at - last_seen >= TOUCH_EVERY {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(ts(at))
                .bind(&id_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(Some(Session {
            user,
            csrf_token: row.csrf_token,
        }))
    }

    /// Ends the session whose cookie holds `secret` (signing out).
    pub async fn end_session(&self, secret: &str) -> Result<(), StoreError> {
        self.delete_session(&hash(secret)).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Deletes sessions past either lifetime; returns how many.
    pub async fn purge_sessions(&self, lifetimes: SessionLifetimes) -> Result<u64, StoreError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM web_sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(ts(at - lifetimes.idle))
                .bind(ts(at - lifetimes.absolute))
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

fn actor_label(actor: &Actor) -> String {
    match actor {
        Actor::Person(p) => p.label.clone(),
        Actor::Agent => "agent".into(),
        Actor::Integration { name } => name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_their_hash_is_kept() {
        let a = random_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_secret());
        assert_ne!(hash(&a), a);
    }
}
