//! Connectors: the agency's tools behind one trait each (design §5). Every
//! trait has a built-in implementation that keeps the data inside SSoT-Lite;
//! the real HTTP clients (HubSpot, Jira, Trello) implement the same traits.
//! Calls carry the outbox entry's idempotency key, so a repeated delivery does
//! the work once.

pub mod builtin;
pub mod http;
pub mod hubspot;
pub mod jira;
pub mod settings;
pub mod signatures;
#[cfg(test)]
mod signatures_props;
pub mod trello;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::contact::{Contact, RemoteContact};
use crate::domain::document::DocumentType;
use crate::domain::expert::VettingState;
use crate::domain::lifecycle::{ExpertNotice, ProjectState};
use crate::domain::metrics::ValueSummary;
use crate::domain::project::Project;
use crate::domain::ticket::Message;
use crate::store::{Store, StoreError};

/// How a connector call failed, which decides whether it is retried.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Worth retrying: a timeout, a 5xx, a dropped connection, a busy database.
    #[error("{0}")]
    Transient(String),
    /// The remote side asked us to slow down (429), perhaps saying for how long.
    #[error("rate limited: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// Retrying will not help (4xx, missing record): the entry is marked failed.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for ConnectorError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } | StoreError::Corrupt(_) | StoreError::Invalid(_) => {
                ConnectorError::Permanent(e.to_string())
            }
            other => ConnectorError::Transient(other.to_string()),
        }
    }
}

/// A file produced by one connector for another (the completion export).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFile {
    pub filename: String,
    pub content_type: String,
    pub body: String,
}

/// Contacts and deals (HubSpot, or built-in CRM records).
#[async_trait]
pub trait Crm: Send + Sync {
    fn name(&self) -> &'static str;
    /// Creates or updates the contact (an expert with their vetting state);
    /// `project` carries intake answers to append. Returns the contact's id in
    /// the CRM.
    async fn upsert_contact(
        &self,
        key: &str,
        contact: &Contact,
        vetting: Option<VettingState>,
        project: Option<&Project>,
    ) -> Result<String, ConnectorError>;
    /// Creates or updates the project's deal at `stage`; returns the deal's id.
    async fn sync_deal(
        &self,
        key: &str,
        project: &Project,
        client: &Contact,
        stage: ProjectState,
    ) -> Result<String, ConnectorError>;
    /// The contact as the CRM holds it now, for changes made there; `None`
    /// when the CRM does not know it (or keeps nothing of its own).
    async fn fetch_contact(
        &self,
        _contact: &Contact,
    ) -> Result<Option<RemoteContact>, ConnectorError> {
        Ok(None)
    }
}

/// Per-project work and the expert's access to it (Jira, or the built-in tracker).
#[async_trait]
pub trait Tracker: Send + Sync {
    fn name(&self) -> &'static str;
    /// Creates the project's tracker project, locked; returns its key.
    async fn create_project(&self, key: &str, project: &Project) -> Result<String, ConnectorError>;
    /// Creates the work task; returns its id.
    async fn create_task(&self, key: &str, project: &Project) -> Result<String, ConnectorError>;
    /// Moves the work task to the status that mirrors `state`, if one does.
    async fn move_task(
        &self,
        key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError>;
    /// Grants or revokes the expert's access (membership).
    async fn set_access(
        &self,
        key: &str,
        project: &Project,
        expert: &Contact,
        grant: bool,
    ) -> Result<(), ConnectorError>;
    /// Everything in the tracker project, as files (one per format).
    async fn export(&self, project: &Project) -> Result<Vec<ExportFile>, ConnectorError>;
    async fn delete_project(&self, key: &str, project: &Project) -> Result<(), ConnectorError>;
}

/// Project records, documents and monitoring (Trello, or the built-in board).
#[async_trait]
pub trait Board: Send + Sync {
    fn name(&self) -> &'static str;
    /// Opens the project's record (card); returns its id.
    async fn create_record(&self, key: &str, project: &Project) -> Result<String, ConnectorError>;
    /// Moves the record to the list named after `state`.
    async fn move_card(
        &self,
        key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError>;
    async fn document_checklist(
        &self,
        key: &str,
        project: &Project,
        documents: &[DocumentType],
    ) -> Result<(), ConnectorError>;
    async fn check_document(
        &self,
        key: &str,
        project: &Project,
        document: &DocumentType,
        approved: bool,
    ) -> Result<(), ConnectorError>;
    async fn attach(
        &self,
        key: &str,
        project: &Project,
        file: &ExportFile,
    ) -> Result<(), ConnectorError>;
    /// Shows the project's value figures (baseline, then realised) on its record.
    async fn record_value(
        &self,
        key: &str,
        project: &Project,
        value: &ValueSummary,
    ) -> Result<(), ConnectorError>;
    /// Mirrors a helpdesk message on the record; returns the comment's id
    /// there, so it is not taken for a new message when the tool reports it.
    async fn comment(
        &self,
        key: &str,
        project: &Project,
        ticket_subject: &str,
        message: &Message,
    ) -> Result<Option<String>, ConnectorError>;
}

/// Messages to people (built-in notifications; e-mail could sit here).
#[async_trait]
pub trait Notifier: Send + Sync {
    fn name(&self) -> &'static str;
    async fn notify_expert(
        &self,
        key: &str,
        expert: &Contact,
        project: &Project,
        notice: ExpertNotice,
    ) -> Result<(), ConnectorError>;
}

/// The connector chosen for each role, and what the hub needs to receive the
/// tools' webhooks.
#[derive(Clone)]
pub struct Connectors {
    pub crm: Arc<dyn Crm>,
    pub tracker: Arc<dyn Tracker>,
    pub board: Arc<dyn Board>,
    pub notifier: Arc<dyn Notifier>,
    pub inbound: Inbound,
}

/// Webhook receivers, present when their tool is connected and configured to call.
#[derive(Clone, Default)]
pub struct Inbound {
    pub hubspot: Option<HubSpotInbound>,
    pub trello: Option<TrelloInbound>,
    pub google_forms: Option<FormsInbound>,
}

#[derive(Clone)]
pub struct FormsInbound {
    pub secret: http::Secret,
    pub mapping: Arc<crate::domain::intake::FormMapping>,
}

#[derive(Clone)]
pub struct TrelloInbound {
    pub client: Arc<trello::Trello>,
    pub app_secret: http::Secret,
    /// The callback URL as registered; it is part of the signature.
    pub url: String,
}

#[derive(Clone)]
pub struct HubSpotInbound {
    pub client: Arc<hubspot::HubSpot>,
    pub client_secret: http::Secret,
    /// The URL as registered in the HubSpot app; it is part of the signature.
    pub url: String,
}

impl Connectors {
    /// The connectors `settings` name, the built-in one for every tool not
    /// configured. Secrets are read here, once; a missing one stops the start.
    pub fn from_settings(
        store: &Store,
        settings: &settings::ConnectorSettings,
        call_timeout: Duration,
    ) -> Result<Self, String> {
        let mut connectors = Self::builtin(store);
        if let Some(jira) = &settings.jira {
            jira.validate()?;
            let token = jira.api_token()?;
            connectors.tracker = Arc::new(jira::Jira::new(jira.clone(), token, call_timeout));
        }
        if let Some(settings) = &settings.hubspot {
            settings.validate()?;
            let client = Arc::new(hubspot::HubSpot::new(
                settings.clone(),
                settings.access_token()?,
                call_timeout,
            ));
            if let (Some(secret), Some(url)) = (settings.client_secret()?, &settings.webhook_url) {
                connectors.inbound.hubspot = Some(HubSpotInbound {
                    client: client.clone(),
                    client_secret: secret,
                    url: url.clone(),
                });
            }
            connectors.crm = client;
        }
        if let Some(settings) = &settings.trello {
            settings.validate()?;
            let client = Arc::new(trello::Trello::new(
                settings.clone(),
                settings.token()?,
                call_timeout,
            ));
            if let (Some(secret), Some(url)) = (settings.app_secret()?, &settings.webhook_url) {
                connectors.inbound.trello = Some(TrelloInbound {
                    client: client.clone(),
                    app_secret: secret,
                    url: url.clone(),
                });
            }
            connectors.board = client;
        }
        if let Some(forms) = &settings.google_forms {
            connectors.inbound.google_forms = Some(FormsInbound {
                secret: forms.secret()?,
                mapping: Arc::new(forms.mapping()?),
            });
        }
        Ok(connectors)
    }

    /// The embedded default: everything kept in SSoT-Lite's own database.
    pub fn builtin(store: &Store) -> Self {
        let b = Arc::new(builtin::Builtin::new(store.clone()));
        Self {
            crm: b.clone(),
            tracker: b.clone(),
            board: b.clone(),
            notifier: b,
            inbound: Inbound::default(),
        }
    }
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connectors")
            .field("crm", &self.crm.name())
            .field("tracker", &self.tracker.name())
            .field("board", &self.board.name())
            .field("notifier", &self.notifier.name())
            .finish()
    }
}
