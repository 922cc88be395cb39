//! SSoT-Lite: the single source of truth and lifecycle orchestrator for an agency
//! of vetted experts serving small businesses.
//!
//! Layers, each depending only on those before it: [`domain`] (pure types and
//! rules) <- [`store`] (the database) <- [`http`] (the API) <- `main` (the CLI).
#![forbid(unsafe_code)]

pub mod config;
pub mod domain;
pub mod http;
pub mod store;
pub mod telemetry;

use std::future::Future;

use tokio::net::TcpListener;

use config::Settings;
use http::{AppState, HttpLimits};
use store::{Store, StoreError, redact_url};

/// A hub ready to serve: configuration checked, database open and migrated.
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    settings: Settings,
}

impl App {
    /// Opens (creating on first start) and migrates the configured database.
    pub async fn open(settings: Settings) -> Result<Self, StoreError> {
        tracing::info!(database = %redact_url(&settings.database_url), "opening database");
        let store = Store::open(&settings.database_url, &settings.pool()).await?;
        Ok(Self { store, settings })
    }

    pub fn router(&self) -> axum::Router {
        let limits = HttpLimits {
            max_body_bytes: self.settings.max_body_bytes,
            request_timeout: self.settings.request_timeout(),
        };
        http::router(
            AppState {
                store: self.store.clone(),
            },
            limits,
        )
    }

    /// Serves on `listener` until `shutdown` completes, then lets in-flight
    /// requests finish and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        tracing::info!(%addr, database = self.store.backend().name(), "SSoT-Lite listening on http://{addr}/api/v1/health");
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await?;
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
