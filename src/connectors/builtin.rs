//! The built-in connectors: the embedded equivalents of the CRM, tracker, board
//! and notifications, kept in SSoT-Lite's own database (see `store::builtin`).

use async_trait::async_trait;

use super::{Board, ConnectorError, Crm, ExportFile, Notifier, Tracker};
use crate::domain::contact::Contact;
use crate::domain::document::DocumentType;
use crate::domain::expert::VettingState;
use crate::domain::lifecycle::{ExpertNotice, ProjectState};
use crate::domain::metrics::ValueSummary;
use crate::domain::project::Project;
use crate::domain::task::TaskStatus;
use crate::domain::ticket::Message;
use crate::store::Store;

/// One value serves as all four built-in connectors.
#[derive(Clone, Debug)]
pub struct Builtin {
    store: Store,
}

impl Builtin {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Crm for Builtin {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn upsert_contact(
        &self,
        key: &str,
        contact: &Contact,
        _vetting: Option<VettingState>,
        project: Option<&Project>,
    ) -> Result<String, ConnectorError> {
        Ok(self
            .store
            .builtin_crm_upsert(key, contact.id, project)
            .await?)
    }

    async fn sync_deal(
        &self,
        key: &str,
        project: &Project,
        client: &Contact,
        stage: ProjectState,
    ) -> Result<String, ConnectorError> {
        Ok(self
            .store
            .builtin_crm_deal(key, project.id, client.id, stage.as_str())
            .await?)
    }
}

#[async_trait]
impl Tracker for Builtin {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn create_project(&self, key: &str, project: &Project) -> Result<String, ConnectorError> {
        Ok(self.store.builtin_tracker_create(key, project.id).await?)
    }

    async fn create_task(&self, key: &str, project: &Project) -> Result<String, ConnectorError> {
        Ok(self
            .store
            .builtin_tracker_task(key, project.id, &project.title)
            .await?)
    }

    async fn set_access(
        &self,
        key: &str,
        project: &Project,
        expert: &Contact,
        grant: bool,
    ) -> Result<(), ConnectorError> {
        self.store
            .builtin_tracker_access(key, project.id, expert.id, grant)
            .await?;
        Ok(())
    }

    async fn move_task(
        &self,
        key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError> {
        let status = match state {
            ProjectState::Active => TaskStatus::InProgress,
            ProjectState::Completed => TaskStatus::Done,
            _ => return Ok(()),
        };
        self.store
            .builtin_tracker_move_task(key, project.id, status)
            .await?;
        Ok(())
    }

    async fn export(&self, project: &Project) -> Result<Vec<ExportFile>, ConnectorError> {
        let body = self.store.builtin_tracker_export(project).await?;
        let key = project
            .tracker_ref
            .clone()
            .unwrap_or_else(|| project.id.to_string());
        Ok(vec![ExportFile {
            filename: format!("tracker-export-{key}.json"),
            content_type: "application/json".into(),
            body,
        }])
    }

    async fn delete_project(&self, key: &str, project: &Project) -> Result<(), ConnectorError> {
        self.store.builtin_tracker_delete(key, project.id).await?;
        Ok(())
    }
}

#[async_trait]
impl Board for Builtin {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn create_record(&self, key: &str, project: &Project) -> Result<String, ConnectorError> {
        Ok(self
            .store
            .builtin_board_create(key, project.id, ProjectState::Accepted.as_str())
            .await?)
    }

    async fn move_card(
        &self,
        key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError> {
        self.store
            .builtin_board_move(key, project.id, state.as_str())
            .await?;
        Ok(())
    }

    async fn document_checklist(
        &self,
        key: &str,
        project: &Project,
        documents: &[DocumentType],
    ) -> Result<(), ConnectorError> {
        self.store
            .builtin_board_checklist(key, project.id, documents)
            .await?;
        Ok(())
    }

    async fn check_document(
        &self,
        key: &str,
        project: &Project,
        document: &DocumentType,
        approved: bool,
    ) -> Result<(), ConnectorError> {
        self.store
            .builtin_board_check(key, project.id, document, approved)
            .await?;
        Ok(())
    }

    async fn attach(
        &self,
        key: &str,
        project: &Project,
        file: &ExportFile,
    ) -> Result<(), ConnectorError> {
        self.store
            .builtin_board_attach(
                key,
                project.id,
                &file.filename,
                &file.content_type,
                &file.body,
            )
            .await?;
        Ok(())
    }

    /// The built-in helpdesk is the record itself: nothing to mirror.
    async fn comment(
        &self,
        _key: &str,
        _project: &Project,
        _ticket_subject: &str,
        _message: &Message,
    ) -> Result<Option<String>, ConnectorError> {
        Ok(None)
    }

    async fn record_value(
        &self,
        key: &str,
        project: &Project,
        value: &ValueSummary,
    ) -> Result<(), ConnectorError> {
        let value =
            serde_json::to_value(value).map_err(|e| ConnectorError::Permanent(e.to_string()))?;
        self.store
            .builtin_board_value(key, project.id, &value)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Notifier for Builtin {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn notify_expert(
        &self,
        key: &str,
        expert: &Contact,
        project: &Project,
        notice: ExpertNotice,
    ) -> Result<(), ConnectorError> {
        let (kind, message) = match notice {
            ExpertNotice::Offered => (
                "offer",
                format!(
                    "You are offered the project \"{}\"; accept or decline it.",
                    project.title
                ),
            ),
            ExpertNotice::OfferWithdrawn => (
                "offer_withdrawn",
                format!(
                    "The offer of the project \"{}\" was withdrawn.",
                    project.title
                ),
            ),
        };
        self.store
            .builtin_notify(key, expert.id, Some(project.id), kind, &message)
            .await?;
        Ok(())
    }
}
