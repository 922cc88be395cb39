//! The one repository layer: every read and write of SSoT-Lite's data goes through
//! [`Store`]. One implementation over portable SQL (sqlx's `Any` driver) serves
//! SQLite and PostgreSQL, so the two back ends cannot drift apart; the few
//! statements that differ are chosen by [`Backend`].

mod audit;
mod builtin;
mod change_requests;
mod codec;
mod contacts;
mod documents;
mod error;
mod experts;
mod external;
mod identity;
mod intake;
mod outbox;
mod portfolio;
mod projects;
mod tasks;
mod tickets;
mod tokens;
mod users;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use std::sync::Arc;

use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

pub use audit::ChainReport;
pub use builtin::{
    Attachment, BoardView, ChecklistItem, Deal, Notification, TrackerMember, TrackerView,
};
pub use change_requests::RequestDecision;
pub use codec::now;
pub use contacts::ContactChange;
pub use documents::{DecisionOutcome, EXPERT_CREDENTIALS, NewDocument, ReviewItem};
pub use error::StoreError;
pub use identity::Reopened;
pub use intake::FormIntake;
pub use outbox::Settlement;
pub use outbox::{LaneStats, OutboxEntry, OutboxStatus};
pub use portfolio::{BoardFilter, Card, Dashboard, PortfolioValue, StateCount, Waiting};
pub use projects::{ProjectFilter, ProjectRef, TransitionOutcome};
pub use tickets::BOARD_INTEGRATION;
pub use tokens::{NewToken, TokenCheck, TokenLifetimes, TokenRecord};
pub use users::{
    InvitationRecord, NewInvitation, NewSession, Session, SessionLifetimes, SignInRecord,
};

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL `{}`; use sqlite://PATH or postgres://…",
                redact_url(url)
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Pool sizing and timeouts.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises this process's SQLite writers (see [`Store::begin_write`]).
    sqlite_writer: Arc<Mutex<()>>,
    /// Woken after a commit that queued side effects, so idle delivery workers
    /// of this process start at once instead of at their next poll.
    outbox_signal: Arc<Notify>,
    /// Woken after an upload, for idle verification workers.
    verification_signal: Arc<Notify>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to the database at `url` (it must already exist, or carry
    /// `mode=rwc` for SQLite); does not migrate.
    pub async fn connect(url: &str, config: &PoolConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            create_private_sqlite_file(url)?;
        }
        let options: AnyConnectOptions = url.parse().map_err(StoreError::Database)?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout);
        // Each connection gets its own temporary `audit_pending`: the events a
        // transaction wrote, for sealing at commit (see `audit::seal`).
        pool = match backend {
            // WAL lets readers run beside the single writer; NORMAL sync is
            // durable in WAL mode except for the last commits on power loss.
            Backend::Sqlite => pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
                                  CREATE TEMP TABLE IF NOT EXISTS audit_pending (id TEXT PRIMARY KEY, body TEXT NOT NULL);")
                        .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("CREATE TEMP TABLE IF NOT EXISTS audit_pending (id TEXT PRIMARY KEY, body TEXT NOT NULL) ON COMMIT DELETE ROWS")
                        .await?;
                    Ok(())
                })
            }),
        };
        let pool = pool
            .connect_with(options)
            .await
            .map_err(StoreError::Database)?;
        Ok(Self {
            pool,
            backend,
            sqlite_writer: Arc::new(Mutex::new(())),
            outbox_signal: Arc::new(Notify::new()),
            verification_signal: Arc::new(Notify::new()),
        })
    }

    /// Connects and applies any pending migrations.
    pub async fn open(url: &str, config: &PoolConfig) -> Result<Self, StoreError> {
        let store = Self::connect(url, config).await?;
        store.migrate().await?;
        let sealed = store.seal_legacy_events().await?;
        if sealed > 0 {
            tracing::info!(
                events = sealed,
                "audit events of an older version sealed into the chain"
            );
        }
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Fires when this process queued new side effects.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox_signal.clone()
    }

    /// Fires when a document was uploaded in this process.
    pub fn verification_signal(&self) -> Arc<Notify> {
        self.verification_signal.clone()
    }

    fn wake_outbox(&self) {
        self.outbox_signal.notify_waiters();
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`): a deferred transaction that reads first and
    /// writes later fails outright when another writer got in between, whereas
    /// an immediate one waits. Writers of this process also queue on an async
    /// lock first, so they wait in order instead of in SQLite's busy handler,
    /// which polls with sleeps of up to 100 ms.
    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let (guard, tx) = match self.backend {
            Backend::Sqlite => {
                let guard = self.sqlite_writer.clone().lock_owned().await;
                (Some(guard), self.pool.begin_with("BEGIN IMMEDIATE").await?)
            }
            Backend::Postgres => (None, self.pool.begin().await?),
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _guard: guard,
        })
    }
}

/// A write transaction, holding this process's SQLite write lock while open.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Seals the audit events written in the transaction into the chain,
    /// then commits.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        audit::seal(&mut self.tx, self.backend).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// Creates a SQLite database file that does not exist yet with mode 0600,
/// when the URL allows creating it; SQLite gives its journals the same mode.
fn create_private_sqlite_file(url: &str) -> Result<(), StoreError> {
    use std::str::FromStr;
    if !url.contains("mode=rwc") {
        return Ok(());
    }
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(StoreError::Database)?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path.exists() || path.to_str() == Some(":memory:") {
        return Ok(());
    }
    crate::private_files::create_file(path)
        .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", path.display())))
}

/// Hides the password in a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("sqlite://./data/ssot.db"),
            "sqlite://./data/ssot.db"
        );
    }

    #[test]
    fn the_backend_follows_the_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }
}
