//! Configuration: defaults in code, then an optional `ssot.toml`, then
//! `SSOT_`-prefixed environment variables (and `DATABASE_URL`), then command-line
//! flags. Validated once at start, with messages that say what to fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::agent::AgentConfig;
use crate::agent::extract::Limits;
use crate::agent::llm::LlmConfig;
use crate::connectors::settings::ConnectorSettings;
use crate::domain::document::UploadQuota;
use crate::http::limits::RateLimitSettings;
use crate::http::server::ServerLimits;
use crate::jobs::delivery::DeliveryConfig;
use crate::jobs::scheduler::SchedulerConfig;
use crate::store::{Backend, PoolConfig, TokenLifetimes, redact_url};

/// The database used when nothing is configured; created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/ssot.db";
/// Read when present; `--config` names another file.
pub const DEFAULT_CONFIG_FILE: &str = "ssot.toml";

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// `sqlite://PATH` (embedded default) or `postgres://USER@HOST/DB`.
    pub database_url: String,
    /// Upper bound of pooled database connections.
    pub db_max_connections: u32,
    /// `tracing` filter, e.g. `info` or `ssot=debug,sqlx=warn`.
    pub log: String,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A request taking longer than this is answered with 503.
    pub request_timeout_secs: u64,
    /// The same bound for a file upload, which may stream for longer.
    pub upload_timeout_secs: u64,
    /// A client must send its request headers within this (and an idle
    /// keep-alive connection is closed after it).
    pub header_read_timeout_secs: u64,
    /// A request body that sends nothing for this long is answered 408.
    pub body_idle_timeout_secs: u64,
    /// Connections served at once; more wait until one closes.
    pub max_connections: usize,
    /// Origins whose pages may call the API from a browser (CORS); none by default.
    pub cors_allowed_origins: Vec<String>,
    /// Requests per minute from one client address (0: no limit).
    pub rate_limit_per_address: u32,
    /// Requests per minute with one token (0: no limit).
    pub rate_limit_per_token: u32,
    /// Uploads per minute with one token, or from one address (0: no limit).
    pub rate_limit_uploads: u32,
    /// Failed sign-ins (answers of 401) per minute from one address before
    /// it must wait (0: no limit).
    pub rate_limit_sign_in_failures: u32,
    /// The client address is the last `X-Forwarded-For` entry: set only
    /// behind a reverse proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Documents stored per project or expert at most (0: no quota).
    pub upload_quota_files: u32,
    /// Bytes stored per project or expert at most (0: no quota).
    pub upload_quota_bytes: u64,
    /// Days a new token of each role lives (0: it does not expire).
    pub token_ttl_days_admin: u32,
    pub token_ttl_days_operator: u32,
    pub token_ttl_days_expert: u32,
    pub token_ttl_days_client: u32,
    /// Outbox delivery workers in this process.
    pub outbox_workers: usize,
    /// How long a worker's claim on an entry lasts before another may take it over.
    pub outbox_lease_secs: u64,
    /// Delivery attempts before an entry is marked failed.
    pub outbox_max_attempts: u32,
    /// First retry delay; it doubles per attempt (with jitter) up to the maximum.
    pub outbox_backoff_base_ms: u64,
    pub outbox_backoff_max_secs: u64,
    /// How often idle workers look for entries queued by other processes.
    pub outbox_poll_ms: u64,
    /// Upper bound of one connector call.
    pub connector_timeout_secs: u64,
    /// How long an expert has to answer an offer before it is withdrawn.
    pub offer_ttl_hours: u64,
    /// How often scheduled sweeps (offer expiry) run.
    pub scheduler_interval_secs: u64,
    /// The protocol vault (Markdown notes); re-indexed when it changes.
    pub protocols_dir: PathBuf,
    /// The prompt files; the built-in copies are used when missing.
    pub prompts_dir: PathBuf,
    /// Where uploaded documents are stored, by content hash.
    pub documents_dir: PathBuf,
    /// Largest accepted upload, in bytes.
    pub upload_max_bytes: u64,
    /// Background verification workers in this process.
    pub verification_workers: usize,
    /// How long a worker's claim on a document lasts without being renewed;
    /// a live worker renews it, a dead one's document is retaken after it.
    pub verification_lease_secs: u64,
    /// Attempts at verifying one document (workers that died or crashed on
    /// it) before it goes to review instead.
    pub verification_max_attempts: u32,
    pub extraction_timeout_secs: u64,
    pub extraction_max_pages: usize,
    /// An OpenAI-compatible endpoint up to `/v1`; without it no model is asked.
    pub llm_base_url: Option<String>,
    pub llm_model: String,
    /// A file holding the API key, when `OPENAI_API_KEY` is not set.
    pub llm_api_key_file: Option<PathBuf>,
    pub llm_timeout_secs: u64,
    pub llm_max_retries: u32,
    pub llm_requests_per_minute: u32,
    pub llm_max_concurrency: usize,
    pub llm_max_output_tokens: u32,
    /// A model verdict below this confidence counts as unclear.
    pub llm_confidence_threshold: f64,
    /// Upper bound of one prompt, in characters; longer documents go in chunks.
    pub llm_prompt_budget_chars: usize,
    /// At most this many chunks (model calls) per document; the rest of a
    /// longer document is left to a person.
    pub llm_max_chunks: usize,
    /// Credentials expiring within this many days are listed as expiring.
    pub expiry_warning_days: u32,
    /// How often expired credentials are looked for.
    pub expiry_check_interval_secs: u64,
    /// A signed-in session ends after this long without a request.
    pub session_idle_minutes: u64,
    /// And after this long in all, however busy.
    pub session_absolute_hours: u64,
    /// Mark the session cookie `Secure` (sent over HTTPS only). On by itself
    /// when `public_url` is https.
    pub session_cookie_secure: bool,
    /// How long an invitation link can be used to set a password.
    pub invitation_ttl_hours: u64,
    /// ISO 4217 code amounts are shown in (the value figures are in it).
    pub currency: String,
    /// IANA time zone times are shown in.
    pub time_zone: String,
    /// The address people reach the pages at (for invitation links), e.g.
    /// `https://hub.agency.pl`; `http://<bind>` when unset.
    pub public_url: Option<String>,
    /// The real tools (`[connectors.jira]`, ...); built-in equivalents otherwise.
    #[serde(default)]
    pub connectors: ConnectorSettings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            db_max_connections: 10,
            log: "info".to_owned(),
            log_format: LogFormat::Text,
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            upload_timeout_secs: 600,
            header_read_timeout_secs: 15,
            body_idle_timeout_secs: 30,
            max_connections: 512,
            cors_allowed_origins: Vec::new(),
            rate_limit_per_address: 1200,
            rate_limit_per_token: 600,
            rate_limit_uploads: 20,
            rate_limit_sign_in_failures: 5,
            trust_forwarded_for: false,
            upload_quota_files: 20,
            upload_quota_bytes: 100 * 1024 * 1024,
            token_ttl_days_admin: 30,
            token_ttl_days_operator: 90,
            token_ttl_days_expert: 180,
            token_ttl_days_client: 180,
            outbox_workers: 2,
            outbox_lease_secs: 300,
            outbox_max_attempts: 8,
            outbox_backoff_base_ms: 1000,
            outbox_backoff_max_secs: 600,
            outbox_poll_ms: 1000,
            connector_timeout_secs: 20,
            offer_ttl_hours: 72,
            scheduler_interval_secs: 60,
            protocols_dir: PathBuf::from("./protocols"),
            prompts_dir: PathBuf::from("./prompts"),
            documents_dir: PathBuf::from("./data/documents"),
            upload_max_bytes: 25 * 1024 * 1024,
            verification_workers: 1,
            verification_lease_secs: 120,
            verification_max_attempts: 3,
            extraction_timeout_secs: 30,
            extraction_max_pages: 200,
            llm_base_url: None,
            llm_model: "gpt-4o-mini".to_owned(),
            llm_api_key_file: None,
            llm_timeout_secs: 300,
            llm_max_retries: 3,
            llm_requests_per_minute: 60,
            llm_max_concurrency: 1,
            llm_max_output_tokens: 800,
            llm_confidence_threshold: 0.8,
            llm_prompt_budget_chars: 12_000,
            llm_max_chunks: 8,
            expiry_warning_days: 30,
            expiry_check_interval_secs: 86_400,
            session_idle_minutes: 8 * 60,
            session_absolute_hours: 7 * 24,
            session_cookie_secure: false,
            invitation_ttl_hours: 72,
            currency: "PLN".to_owned(),
            time_zone: "Europe/Warsaw".to_owned(),
            public_url: None,
            connectors: ConnectorSettings::default(),
        }
    }
}

// The database URL may carry a password: never print it whole. (Secrets such
// as the model's API key are not settings at all; they come from the environment.)
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return f.write_str("Settings { .. }"),
        };
        map.insert("database_url".into(), redact_url(&self.database_url).into());
        f.debug_map().entries(map.iter()).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Invalid(e.to_string())
    }
}

/// The configuration keys, taken from the defaults so the list cannot go stale.
fn known_keys() -> Vec<String> {
    match figment::value::Value::serialize(Settings::default()) {
        Ok(figment::value::Value::Dict(_, dict)) => dict.into_keys().collect(),
        _ => Vec::new(),
    }
}

impl Settings {
    /// Loads the layers. `file` is the `--config` flag: when given it must exist;
    /// otherwise `ssot.toml` in the working directory is read if present. Only
    /// `SSOT_` variables that name a key are read, because other tools share the
    /// prefix (test harnesses, helper scripts); a typo in the file is an error.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let path = match file {
            Some(p) if !p.exists() => return Err(ConfigError::MissingFile(p.to_owned())),
            Some(p) => p.to_owned(),
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(path))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .merge(
                Env::prefixed("SSOT_").filter(|key| known_keys().iter().any(|k| key == k.as_str())),
            )
            .extract()?;
        Ok(settings)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn delivery(&self) -> DeliveryConfig {
        DeliveryConfig {
            lease: Duration::from_secs(self.outbox_lease_secs),
            call_timeout: Duration::from_secs(self.connector_timeout_secs),
            // Half the lease: a delivery that outlived it could be taken over.
            delivery_timeout: Duration::from_secs(self.outbox_lease_secs / 2),
            max_attempts: i64::from(self.outbox_max_attempts),
            backoff_base: Duration::from_millis(self.outbox_backoff_base_ms),
            backoff_max: Duration::from_secs(self.outbox_backoff_max_secs),
            poll: Duration::from_millis(self.outbox_poll_ms),
        }
    }

    pub fn scheduler(&self) -> SchedulerConfig {
        SchedulerConfig {
            offer_ttl: Duration::from_secs(self.offer_ttl_hours * 3600),
            interval: Duration::from_secs(self.scheduler_interval_secs),
        }
    }

    /// The model to ask, if one is configured. The key comes from
    /// `OPENAI_API_KEY`, else from `llm_api_key_file`; never from the file of settings.
    pub fn llm(&self) -> Result<Option<LlmConfig>, ConfigError> {
        let Some(base_url) = self.llm_base_url.clone() else {
            return Ok(None);
        };
        let api_key = match (
            std::env::var("OPENAI_API_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            &self.llm_api_key_file,
        ) {
            (Some(key), _) => Some(key),
            (None, Some(file)) => Some(
                std::fs::read_to_string(file)
                    .map_err(|e| {
                        ConfigError::Invalid(format!(
                            "cannot read llm_api_key_file {}: {e}",
                            file.display()
                        ))
                    })?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        Ok(Some(LlmConfig {
            base_url,
            model: self.llm_model.clone(),
            api_key,
            timeout: Duration::from_secs(self.llm_timeout_secs),
            max_retries: self.llm_max_retries,
            requests_per_minute: self.llm_requests_per_minute,
            max_concurrency: self.llm_max_concurrency,
            max_output_tokens: self.llm_max_output_tokens,
            backoff_base: Duration::from_millis(self.outbox_backoff_base_ms),
        }))
    }

    pub fn agent(&self) -> AgentConfig {
        AgentConfig {
            confidence_threshold: self.llm_confidence_threshold,
            prompt_budget_chars: self.llm_prompt_budget_chars,
            guidance_budget_chars: self.llm_prompt_budget_chars / 6,
            max_chunks: self.llm_max_chunks,
            limits: Limits {
                max_pages: self.extraction_max_pages,
                timeout: Duration::from_secs(self.extraction_timeout_secs),
                ..Limits::default()
            },
        }
    }

    pub fn upload_quota(&self) -> UploadQuota {
        UploadQuota {
            files: self.upload_quota_files,
            bytes: self.upload_quota_bytes,
        }
    }

    pub fn rate_limits(&self) -> RateLimitSettings {
        RateLimitSettings {
            per_address: self.rate_limit_per_address,
            per_token: self.rate_limit_per_token,
            uploads: self.rate_limit_uploads,
            sign_in_failures: self.rate_limit_sign_in_failures,
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }

    pub fn server_limits(&self) -> ServerLimits {
        ServerLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_connections: self.max_connections,
            shutdown_grace: Duration::from_secs(30),
        }
    }

    pub fn session_lifetimes(&self) -> crate::store::SessionLifetimes {
        crate::store::SessionLifetimes {
            idle: time::Duration::minutes(self.session_idle_minutes as i64),
            absolute: time::Duration::hours(self.session_absolute_hours as i64),
        }
    }

    /// Where the pages are reached, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }

    pub fn token_lifetimes(&self) -> TokenLifetimes {
        TokenLifetimes {
            admin: self.token_ttl_days_admin,
            operator: self.token_ttl_days_operator,
            expert: self.token_ttl_days_expert,
            client: self.token_ttl_days_client,
        }
    }

    pub fn pool(&self) -> PoolConfig {
        PoolConfig {
            max_connections: self.db_max_connections,
            ..PoolConfig::default()
        }
    }

    /// Checks every value and resolves the database URL (see [`resolve_database_url`]).
    pub fn validate(self) -> Result<Self, ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(message.to_owned()));
        let at_least_one = [
            ("db_max_connections", u64::from(self.db_max_connections)),
            ("request_timeout_secs", self.request_timeout_secs),
            ("upload_timeout_secs", self.upload_timeout_secs),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_idle_timeout_secs", self.body_idle_timeout_secs),
            ("max_connections", self.max_connections as u64),
            ("outbox_max_attempts", u64::from(self.outbox_max_attempts)),
            ("outbox_poll_ms", self.outbox_poll_ms),
            ("offer_ttl_hours", self.offer_ttl_hours),
            ("scheduler_interval_secs", self.scheduler_interval_secs),
            ("upload_max_bytes", self.upload_max_bytes),
            ("verification_lease_secs", self.verification_lease_secs),
            (
                "verification_max_attempts",
                u64::from(self.verification_max_attempts),
            ),
            ("llm_max_chunks", self.llm_max_chunks as u64),
            ("extraction_timeout_secs", self.extraction_timeout_secs),
            ("extraction_max_pages", self.extraction_max_pages as u64),
            ("llm_timeout_secs", self.llm_timeout_secs),
            (
                "llm_requests_per_minute",
                u64::from(self.llm_requests_per_minute),
            ),
            ("llm_max_concurrency", self.llm_max_concurrency as u64),
            (
                "llm_max_output_tokens",
                u64::from(self.llm_max_output_tokens),
            ),
            (
                "llm_prompt_budget_chars",
                self.llm_prompt_budget_chars as u64,
            ),
            ("expiry_warning_days", u64::from(self.expiry_warning_days)),
            (
                "expiry_check_interval_secs",
                self.expiry_check_interval_secs,
            ),
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_hours", self.session_absolute_hours),
            ("invitation_ttl_hours", self.invitation_ttl_hours),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!("{key} must be at least 1")));
        }
        crate::http::hardening::CorsPolicy::new(&self.cors_allowed_origins)
            .map_err(ConfigError::Invalid)?;
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::Invalid(format!(
                "currency `{}` must be an ISO 4217 code such as PLN or EUR",
                self.currency
            )));
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(ConfigError::Invalid(format!(
                "time_zone `{}` is not an IANA time zone such as Europe/Warsaw",
                self.time_zone
            )));
        }
        if let Some(url) = &self.public_url
            && !((url.starts_with("https://") || url.starts_with("http://"))
                && !url.ends_with('/')
                && url.len() > 8)
        {
            return Err(ConfigError::Invalid(format!(
                "public_url `{url}` must be an address such as https://hub.agency.pl, without a trailing slash"
            )));
        }
        if self.max_body_bytes < 1024 {
            return invalid("max_body_bytes must be at least 1024");
        }
        if self.outbox_workers > 64 {
            return invalid(
                "outbox_workers must be at most 64 (0 runs no delivery in this process)",
            );
        }
        // A call that outlives its lease could be taken over and run twice at once.
        if self.connector_timeout_secs == 0
            || self.connector_timeout_secs * 2 > self.outbox_lease_secs
        {
            return invalid(
                "connector_timeout_secs must be at least 1 and at most half of outbox_lease_secs",
            );
        }
        if let Some(jira) = &self.connectors.jira {
            jira.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(hubspot) = &self.connectors.hubspot {
            hubspot.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(trello) = &self.connectors.trello {
            trello.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(vault) = &self.connectors.obsidian {
            // The agent reads every note under protocols_dir as guidance.
            let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
            let (notes, protocols) = (abs(&vault.vault_dir), abs(&self.protocols_dir));
            if notes.starts_with(&protocols) || protocols.starts_with(&notes) {
                return Err(ConfigError::Invalid(format!(
                    "connectors.obsidian.vault_dir {} overlaps protocols_dir {}: the agent would read client notes as protocols",
                    vault.vault_dir.display(),
                    self.protocols_dir.display()
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.llm_confidence_threshold) {
            return invalid("llm_confidence_threshold must be between 0 and 1");
        }
        if let Some(url) = &self.llm_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "llm_base_url `{url}` must start with http:// or https://"
            )));
        }
        if let Some(file) = &self.llm_api_key_file
            && !file.is_file()
        {
            return Err(ConfigError::Invalid(format!(
                "llm_api_key_file {} does not exist",
                file.display()
            )));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|e| ConfigError::Invalid(format!("log filter `{}`: {e}", self.log)))?;
        Backend::from_url(&self.database_url).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(self)
    }

    /// Resolves the database URL for a command that opens it (see
    /// [`resolve_database_url`]); creates the default data folder if needed.
    pub fn with_database_ready(mut self) -> Result<Self, ConfigError> {
        self.database_url = resolve_database_url(&self.database_url)?;
        Ok(self)
    }
}

const SQLITE_EXTENSIONS: [&str; 4] = ["db", "sqlite", "sqlite3", "db3"];

/// Checks a database URL and, for SQLite, decides whether the file may be
/// created. A path that looks like a typo is refused rather than silently
/// becoming a new, empty database: its folder must exist (the default `./data`
/// is created) and a new file must have a database extension.
pub fn resolve_database_url(url: &str) -> Result<String, ConfigError> {
    let backend = Backend::from_url(url).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    if backend == Backend::Postgres {
        return Ok(url.to_owned());
    }
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "database URL `{url}` names no file"
        )));
    }
    if path == ":memory:" {
        // Every pooled connection would get its own, empty database.
        return Err(ConfigError::Invalid(
            "an in-memory SQLite database cannot be shared by the connection pool; name a file"
                .into(),
        ));
    }
    if Path::new(path).exists() {
        return Ok(url.to_owned());
    }
    let file = Path::new(path);
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if url == DEFAULT_DATABASE_URL {
        crate::private_files::create_dir_all(dir)
            .map_err(|e| ConfigError::Invalid(format!("cannot create {}: {e}", dir.display())))?;
    } else if !dir.is_dir() {
        return Err(ConfigError::Invalid(format!(
            "database folder {} does not exist; check the path in `{url}` for a typo, or create the folder",
            dir.display()
        )));
    }
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !SQLITE_EXTENSIONS.contains(&extension) {
        return Err(ConfigError::Invalid(format!(
            "database file {} does not exist and `.{extension}` is not a database extension ({}); is it a typo?",
            file.display(),
            SQLITE_EXTENSIONS.join(", ")
        )));
    }
    let query = if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
// figment's `Jail` closures must return its (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    use figment::Jail;

    fn load(file: Option<&Path>) -> figment::Result<Settings> {
        Settings::load(file).map_err(|e| figment::Error::from(e.to_string()))
    }

    #[test]
    fn defaults_need_no_file() {
        Jail::expect_with(|_jail| {
            let s = load(None)?;
            assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
            assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
            Ok(())
        });
    }

    #[test]
    fn the_file_overrides_defaults_and_unknown_keys_are_errors() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "ssot.toml",
                "bind = \"0.0.0.0:9000\"\ndb_max_connections = 3\n",
            )?;
            let s = load(None)?;
            assert_eq!((s.bind.port(), s.db_max_connections), (9000, 3));
            jail.create_file("typo.toml", "bnd = \"0.0.0.0:9000\"\n")?;
            let err = Settings::load(Some(Path::new("typo.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("bnd"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn environment_beats_the_file_and_ssot_prefix_beats_database_url() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "ssot.toml",
                "db_max_connections = 3\ndatabase_url = \"sqlite://file.db\"\n",
            )?;
            jail.set_env("SSOT_DB_MAX_CONNECTIONS", "7");
            jail.set_env("DATABASE_URL", "postgres://localhost/a");
            let s = load(None)?;
            assert_eq!(
                (s.db_max_connections, s.database_url.as_str()),
                (7, "postgres://localhost/a")
            );
            jail.set_env("SSOT_DATABASE_URL", "postgres://localhost/b");
            assert_eq!(load(None)?.database_url, "postgres://localhost/b");
            jail.set_env("SSOT_TEST_SOMETHING_ELSE", "ignored");
            jail.set_env("SSOT_LLM_BASE_URL", "http://127.0.0.1:8089/v1");
            assert_eq!(
                load(None)?.llm_base_url.as_deref(),
                Some("http://127.0.0.1:8089/v1")
            );
            assert!(Settings::load(None).is_ok());
            jail.set_env("SSOT_DB_MAX_CONNECTIONS", "many");
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Settings::load(Some(Path::new("/nonexistent/ssot.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        // An in-memory database, so validating creates no folder.
        let mut s = Settings {
            db_max_connections: 0,
            database_url: "sqlite://:memory:".into(),
            ..Settings::default()
        };
        assert!(
            s.clone()
                .validate()
                .unwrap_err()
                .to_string()
                .contains("db_max_connections")
        );
        s.db_max_connections = 1;
        s.log = "=[bad".into();
        assert!(
            s.clone()
                .validate()
                .unwrap_err()
                .to_string()
                .contains("log filter")
        );
        s.log = "info".into();
        s.connector_timeout_secs = 200;
        assert!(
            s.clone()
                .validate()
                .unwrap_err()
                .to_string()
                .contains("connector_timeout_secs")
        );
        s.connector_timeout_secs = 20;
        s.connectors.obsidian = Some(crate::connectors::settings::ObsidianSettings {
            vault_dir: PathBuf::from("./protocols/notes"),
            export_interval_secs: 0,
        });
        assert!(
            s.clone()
                .validate()
                .unwrap_err()
                .to_string()
                .contains("overlaps protocols_dir")
        );
        s.connectors.obsidian = None;
        s.offer_ttl_hours = 0;
        assert!(
            s.clone()
                .validate()
                .unwrap_err()
                .to_string()
                .contains("offer_ttl_hours")
        );
        s.offer_ttl_hours = 1;
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_sqlite_path_in_a_missing_folder_is_a_typo() {
        let err = resolve_database_url("sqlite:///nonexistent-dir/ssot.db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn a_new_sqlite_file_needs_a_database_extension() {
        let dir = tempfile::tempdir().unwrap();
        let typo = format!("sqlite://{}/ssot.bd", dir.path().display());
        assert!(
            resolve_database_url(&typo)
                .unwrap_err()
                .to_string()
                .contains("typo")
        );
        let good = format!("sqlite://{}/ssot.db", dir.path().display());
        assert_eq!(
            resolve_database_url(&good).unwrap(),
            format!("{good}?mode=rwc")
        );
        let with_query = format!("{good}?cache=private");
        assert_eq!(
            resolve_database_url(&with_query).unwrap(),
            format!("{good}?cache=private&mode=rwc")
        );
    }

    #[test]
    fn an_existing_sqlite_file_is_used_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anything.data");
        std::fs::write(&path, b"").unwrap();
        let url = format!("sqlite://{}", path.display());
        assert_eq!(resolve_database_url(&url).unwrap(), url);
    }

    #[test]
    fn an_in_memory_database_is_refused() {
        assert!(
            resolve_database_url("sqlite://:memory:")
                .unwrap_err()
                .to_string()
                .contains("in-memory")
        );
    }

    #[test]
    fn unknown_schemes_are_refused_and_postgres_passes_through() {
        assert!(resolve_database_url("postgress://localhost/db").is_err());
        assert!(resolve_database_url("mysql://localhost/db").is_err());
        let pg = "postgres://u:p@localhost/test";
        assert_eq!(resolve_database_url(pg).unwrap(), pg);
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let s = Settings {
            database_url: "postgres://u:hunter2@h/db".into(),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
