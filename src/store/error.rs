use crate::domain::expert::VettingError;
use crate::domain::lifecycle::TransitionError;
use crate::domain::validation::ValidationErrors;

/// Everything the repository layer can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// Someone else changed the record first, or it is in a state that forbids this.
    #[error("{0}")]
    Conflict(String),
    /// A unique value (an e-mail, a token) is already taken.
    #[error("{0}")]
    Duplicate(String),
    /// The domain refused a transition decided inside a transaction.
    #[error(transparent)]
    Refused(#[from] TransitionError),
    #[error(transparent)]
    Vetting(#[from] VettingError),
    /// The change breaks a domain rule only checkable against stored data.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The subject's upload quota has no room.
    #[error(transparent)]
    Quota(#[from] crate::domain::document::QuotaExceeded),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        // Classified by kind, not constraint name: SQLite has no constraint names.
        if let sqlx::Error::Database(db) = &e {
            // PostgreSQL's deadlock and serialisation failures: a race lost, not a fault.
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
                return StoreError::Conflict("a concurrent change got in the way; retry".into());
            }
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return StoreError::Duplicate(db.message().to_owned());
                }
                ErrorKind::ForeignKeyViolation => {
                    return StoreError::Conflict(format!(
                        "a referenced record does not exist: {}",
                        db.message()
                    ));
                }
                _ => {}
            }
        }
        StoreError::Database(e)
    }
}
