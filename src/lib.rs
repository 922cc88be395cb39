//! SSoT-Lite: the single source of truth and lifecycle orchestrator for an agency
//! of vetted experts serving small businesses.
//!
//! Layers, each depending only on those before it: [`domain`] (pure types and
//! rules) <- [`store`] (the database) <- [`http`] (the API) <- `main` (the CLI).
#![forbid(unsafe_code)]

pub mod agent;
pub mod blobs;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod domain;
pub mod http;
pub mod init_cmd;
pub mod jobs;
pub mod passwords;
pub mod private_files;
pub mod sheets;
pub mod sheets_cmd;
#[cfg(test)]
mod sheets_props;
pub mod store;
pub mod telemetry;
pub mod user_cmd;
pub mod vault_export;
pub mod verify_cmd;
pub mod web;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use agent::Agent;
use agent::vault::Protocols;
use blobs::BlobStore;
use config::Settings;
use connectors::Connectors;
use http::hardening::CorsPolicy;
use http::limits::RateLimits;
use http::{AppState, Guards, HttpLimits};
use jobs::delivery::Delivery;
use jobs::verification::{Verifier, VerifierConfig};
use store::{Store, StoreError, redact_url};

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Files(String),
    #[error("{0}")]
    Protocols(String),
}

/// A hub ready to serve: configuration checked, database open and migrated,
/// protocols indexed, connectors chosen.
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub agent: Agent,
    pub blobs: BlobStore,
    settings: Settings,
    connectors: Connectors,
    vault: vault_export::VaultStatus,
    rate: RateLimits,
}

impl App {
    /// Opens (creating on first start) and migrates the configured database,
    /// loads the protocol vault, and builds the connectors `[connectors.*]`
    /// configures (built-in ones for the rest).
    pub async fn open(settings: Settings) -> Result<Self, StartError> {
        init_tls();
        tracing::info!(database = %redact_url(&settings.database_url), "opening database");
        let store = Store::open(&settings.database_url, &settings.pool()).await?;
        let blobs = BlobStore::open(&settings.documents_dir).map_err(|e| {
            StartError::Files(format!(
                "documents folder {}: {e}",
                settings.documents_dir.display()
            ))
        })?;
        let agent =
            verify_cmd::agent(&settings, &settings.protocols_dir).map_err(StartError::Files)?;
        require_protocols(&settings.protocols_dir, &agent)?;
        let connectors = Connectors::from_settings(
            &store,
            &settings.connectors,
            settings.delivery().call_timeout,
        )
        .map_err(|e| StartError::Config(config::ConfigError::Invalid(e)))?;
        Ok(Self {
            store,
            agent,
            blobs,
            rate: RateLimits::new(settings.rate_limits()),
            settings,
            connectors,
            vault: vault_export::VaultStatus::default(),
        })
    }

    pub fn with_connectors(mut self, connectors: Connectors) -> Self {
        self.connectors = connectors;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn connectors(&self) -> &Connectors {
        &self.connectors
    }

    /// A delivery worker for this app's outbox, named `owner` in leases.
    pub fn delivery(&self, owner: &str) -> Delivery {
        Delivery::new(
            self.store.clone(),
            self.connectors.clone(),
            self.settings.delivery(),
            owner,
        )
    }

    /// A verification worker for this app's documents, named `owner` in leases.
    pub fn verifier(&self, owner: &str) -> Verifier {
        let config = VerifierConfig {
            lease: Duration::from_secs(self.settings.verification_lease_secs),
            poll: Duration::from_millis(self.settings.outbox_poll_ms),
            max_attempts: self.settings.verification_max_attempts,
        };
        Verifier::new(
            self.store.clone(),
            self.blobs.clone(),
            self.agent.clone(),
            config,
            owner,
        )
    }

    pub fn router(&self) -> axum::Router {
        let limits = HttpLimits {
            max_body_bytes: self.settings.max_body_bytes,
            request_timeout: self.settings.request_timeout(),
            upload_timeout: Duration::from_secs(self.settings.upload_timeout_secs),
            body_idle_timeout: Duration::from_secs(self.settings.body_idle_timeout_secs),
        };
        let guards = Guards {
            limits,
            // Checked when the settings were validated.
            cors: CorsPolicy::new(&self.settings.cors_allowed_origins).unwrap_or_default(),
            rate: self.rate.clone(),
        };
        let state = AppState {
            store: self.store.clone(),
            agent: self.agent.clone(),
            blobs: self.blobs.clone(),
            upload_max_bytes: self.settings.upload_max_bytes,
            upload_quota: self.settings.upload_quota(),
            tokens: self.settings.token_lifetimes(),
            expiry_warning_days: self.settings.expiry_warning_days,
            connectors: self.connectors.clone(),
            vault: self
                .settings
                .connectors
                .obsidian
                .as_ref()
                .map(|v| (v.export_interval_secs, self.vault.clone())),
        };
        let web = web::WebState {
            app: state.clone(),
            rate: self.rate.clone(),
            sessions: self.settings.session_lifetimes(),
            cookies: web::cookies::CookiePolicy {
                secure: self.settings.session_cookie_secure
                    || self.settings.public_url().starts_with("https://"),
            },
            invitation_ttl: time::Duration::hours(
                i64::try_from(self.settings.invitation_ttl_hours).unwrap_or(i64::MAX / 3600),
            ),
            public_url: self.settings.public_url(),
            formats: std::sync::Arc::new(web::i18n::Formats {
                currency: self.settings.currency.clone(),
                // Checked when the settings were validated.
                time_zone: jiff::tz::TimeZone::get(&self.settings.time_zone)
                    .unwrap_or(jiff::tz::TimeZone::UTC),
            }),
        };
        let router = http::api(state).merge(web::router(web)).fallback(not_found);
        http::guarded(router, guards)
    }

    /// Serves on `listener`, with the outbox and verification workers, the
    /// scheduler and the protocol watcher running beside it, until `shutdown`
    /// completes; then lets in-flight work finish and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        let cancel = CancellationToken::new();
        let mut jobs = JoinSet::new();
        let instance = format!("ssot-{}-{:04x}", std::process::id(), rand_u16());
        for i in 0..self.settings.outbox_workers {
            let worker = self.delivery(&format!("{instance}-w{i}"));
            jobs.spawn(worker.run(self.store.outbox_signal(), cancel.clone()));
        }
        for i in 0..self.settings.verification_workers {
            let worker = self.verifier(&format!("{instance}-v{i}"));
            jobs.spawn(worker.run(self.store.verification_signal(), cancel.clone()));
        }
        jobs.spawn(jobs::scheduler::run(
            self.store.clone(),
            self.settings.scheduler(),
            cancel.clone(),
        ));
        let expiry = Duration::from_secs(self.settings.expiry_check_interval_secs);
        jobs.spawn(jobs::credentials::run(
            self.store.clone(),
            expiry,
            self.settings.expiry_warning_days,
            cancel.clone(),
        ));
        jobs.spawn(watch_protocols(
            self.agent.protocols().clone(),
            cancel.clone(),
        ));
        if let Some(trello) = self.connectors.inbound.trello.clone() {
            jobs.spawn(register_trello_webhook(trello, cancel.clone()));
        }
        if let Some(vault) = &self.settings.connectors.obsidian
            && vault.export_interval_secs > 0
        {
            jobs.spawn(vault_export::run(
                self.store.clone(),
                vault.vault_dir.clone(),
                Duration::from_secs(vault.export_interval_secs),
                self.vault.clone(),
                cancel.clone(),
            ));
        }
        jobs.spawn(sweep_rate_limits(self.rate.clone(), cancel.clone()));
        tracing::info!(%addr, database = self.store.backend().name(), workers = self.settings.outbox_workers,
            model = self.agent.model().unwrap_or("none"), connectors = ?self.connectors,
            "SSoT-Lite listening on http://{addr}/api/v1/health");
        let served = http::server::serve(
            listener,
            self.router(),
            self.settings.server_limits(),
            shutdown,
        )
        .await;
        cancel.cancel();
        while jobs.join_next().await.is_some() {}
        self.store.close().await;
        tracing::info!("stopped");
        served
    }
}

/// Refuses to start a hub whose agent would check nothing: the protocol
/// folder missing, or holding no protocol.
fn require_protocols(dir: &std::path::Path, agent: &Agent) -> Result<(), StartError> {
    let fix = "pass --protocols DIR, set SSOT_PROTOCOLS_DIR (or protocols_dir in ssot.toml), \
               or run `ssot init DIR` to write the default vault and a commented ssot.toml there";
    if !dir.is_dir() {
        return Err(StartError::Protocols(format!(
            "the protocols folder {} does not exist, so the agent could check no document; {fix}",
            std::path::absolute(dir)
                .unwrap_or_else(|_| dir.to_owned())
                .display()
        )));
    }
    let vault = agent.protocols().current();
    if vault.set.protocols.is_empty() {
        return Err(StartError::Protocols(format!(
            "the protocols folder {} holds no protocol ({} broken), so the agent could check no document; {fix}",
            dir.display(),
            vault.errors().len()
        )));
    }
    Ok(())
}

/// Registers the hub's Trello webhook once the server answers (Trello checks
/// the URL first), retrying with backoff while Trello or the URL is not ready.
async fn register_trello_webhook(trello: connectors::TrelloInbound, cancel: CancellationToken) {
    let mut delay = Duration::from_secs(1);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        match trello.client.ensure_webhook(&trello.url).await {
            Ok(created) => {
                tracing::info!(url = %trello.url, created, "Trello webhook in place");
                return;
            }
            Err(error) => {
                tracing::warn!(url = %trello.url, %error, retry_in = ?delay, "Trello webhook not registered yet");
                delay = (delay * 2).min(Duration::from_secs(600));
            }
        }
    }
}

/// Forgets idle rate-limit keys once a minute, so their memory stays bounded.
async fn sweep_rate_limits(rate: RateLimits, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => rate.sweep(),
        }
    }
}

/// Re-indexes the protocol vault whenever a note changes (checked every 5 s).
async fn watch_protocols(protocols: Protocols, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => {
                if let Err(error) = protocols.reload_if_changed() {
                    tracing::warn!(%error, "protocol vault could not be re-read");
                }
            }
        }
    }
}

/// Chooses ring as the TLS crypto provider for every HTTPS client (the model,
/// the connectors). Call before building one; later calls do nothing.
pub fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Tells this instance's workers apart from another process's with the same pid.
fn rand_u16() -> u16 {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    u16::from_le_bytes(b)
}

/// A path that is nothing: the API's JSON 404 under `/api/`, the 404 page
/// elsewhere.
async fn not_found(req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/api/") {
        http::not_found().await.into_response()
    } else {
        web::not_found_page(req.headers().clone()).await
    }
}
