//! Outbox delivery: workers claim entries under a lease, call the connector the
//! entry's effect belongs to, and settle the entry: delivered, retried later
//! with exponential backoff and jitter, or failed (visible, retryable by hand).
//! A worker that dies mid-delivery loses nothing: its lease runs out and
//! another worker takes the entry over; the idempotency key makes the repeated
//! call harmless.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::connectors::{ConnectorError, Connectors, ExportFile};
use crate::domain::access;
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::contact::{ContactKind, Email};
use crate::domain::ids::ContactId;
use crate::domain::lifecycle::Effect;
use crate::domain::project::Project;
use crate::store::{OutboxEntry, ProjectRef, Settlement, Store, StoreError, now};

/// Delivery tuning, from the configuration.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// How long a claim holds; an entry whose worker died is retaken after it.
    pub lease: Duration,
    /// Upper bound of one request to a tool.
    pub call_timeout: Duration,
    /// Upper bound of one whole delivery, which may take several requests
    /// (an export: every page, then the uploads); well under the lease.
    pub delivery_timeout: Duration,
    /// Attempts before an entry is marked failed.
    pub max_attempts: i64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often an idle worker looks for work that another process queued.
    pub poll: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            call_timeout: Duration::from_secs(20),
            delivery_timeout: Duration::from_secs(150),
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(600),
            poll: Duration::from_secs(1),
        }
    }
}

/// What one step did.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Nothing was due.
    Idle,
    /// One entry was attempted and settled as shown. `kept` is false when the
    /// lease had run out meanwhile and another worker owns the entry now.
    Settled {
        entry: Box<OutboxEntry>,
        outcome: Settlement,
        kept: bool,
    },
}

/// One delivery worker.
#[derive(Clone, Debug)]
pub struct Delivery {
    store: Store,
    connectors: Connectors,
    config: DeliveryConfig,
    owner: String,
}

impl Delivery {
    /// `owner` names the worker in leases and in `delivered_by`.
    pub fn new(
        store: Store,
        connectors: Connectors,
        config: DeliveryConfig,
        owner: impl Into<String>,
    ) -> Self {
        Self {
            store,
            connectors,
            config,
            owner: owner.into(),
        }
    }

    /// Claims and delivers at most one entry.
    pub async fn step(&self) -> Result<Step, StoreError> {
        let claimed_at = now();
        let Some(entry) = self
            .store
            .claim_outbox(&self.owner, claimed_at, claimed_at + self.config.lease)
            .await?
        else {
            return Ok(Step::Idle);
        };
        let result =
            match tokio::time::timeout(self.config.delivery_timeout, self.dispatch(&entry)).await {
                Ok(result) => result,
                Err(_) => Err(ConnectorError::Transient(format!(
                    "no answer within {:?}",
                    self.config.delivery_timeout
                ))),
            };
        let outcome = match result {
            Ok(()) => Settlement::Delivered,
            Err(error) => self.settlement_for(&entry, error),
        };
        let kept = self
            .store
            .settle_outbox(entry.seq, &self.owner, &outcome)
            .await?;
        self.log(&entry, &outcome, kept);
        Ok(Step::Settled {
            entry: Box::new(entry),
            outcome,
            kept,
        })
    }

    /// Steps until nothing is due; returns how many entries were attempted.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut attempted = 0;
        while let Step::Settled { .. } = self.step().await? {
            attempted += 1;
        }
        Ok(attempted)
    }

    /// Delivers until `cancel` fires, sleeping while idle until new work is
    /// signalled in this process or the poll interval passes.
    pub async fn run(self, signal: Arc<Notify>, cancel: CancellationToken) {
        tracing::debug!(worker = %self.owner, "delivery worker started");
        while !cancel.is_cancelled() {
            // Registered before looking, so a signal during the look is not missed.
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step().await {
                Ok(Step::Settled { .. }) => continue,
                Ok(Step::Idle) => {}
                Err(error) => {
                    tracing::warn!(worker = %self.owner, %error, "outbox claim failed; retrying")
                }
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = &mut notified => {}
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
        tracing::debug!(worker = %self.owner, "delivery worker stopped");
    }

    fn settlement_for(&self, entry: &OutboxEntry, error: ConnectorError) -> Settlement {
        let backoff = super::backoff(
            entry.attempts,
            self.config.backoff_base,
            self.config.backoff_max,
        );
        match error {
            ConnectorError::Permanent(message) => Settlement::Fail { error: message },
            // Being told to wait is not failing: however often (a daily quota),
            // the entry waits as asked rather than giving up.
            ConnectorError::RateLimited {
                retry_after,
                message,
            } => Settlement::Retry {
                at: now() + retry_after.unwrap_or_default().max(backoff),
                error: format!("rate limited: {message}"),
            },
            other if entry.attempts >= self.config.max_attempts => Settlement::Fail {
                error: format!("gave up after {} attempts: {other}", entry.attempts),
            },
            ConnectorError::Transient(message) => Settlement::Retry {
                at: now() + backoff,
                error: message,
            },
        }
    }

    fn log(&self, entry: &OutboxEntry, outcome: &Settlement, kept: bool) {
        let (worker, kind, attempt) = (&self.owner, &entry.kind, entry.attempts);
        match (outcome, kept) {
            (_, false) => {
                tracing::warn!(%worker, %kind, entry = %entry.id, "lease lost during delivery; another worker owns the entry")
            }
            (Settlement::Delivered, _) => {
                tracing::info!(%worker, %kind, entry = %entry.id, attempt, "side effect delivered")
            }
            (Settlement::Retry { at, error }, _) => {
                tracing::warn!(%worker, %kind, entry = %entry.id, attempt, %error, retry_at = %at, "delivery failed; will retry")
            }
            (Settlement::Fail { error }, _) => {
                tracing::error!(%worker, %kind, entry = %entry.id, attempt, %error, "delivery failed for good; retry it by hand once fixed")
            }
        }
    }

    /// Calls the connector that `entry`'s effect belongs to.
    async fn dispatch(&self, entry: &OutboxEntry) -> Result<(), ConnectorError> {
        let effect = entry.decode()?;
        let key = entry.idempotency_key.as_str();
        let c = &self.connectors;
        let project = match entry.project_id {
            Some(id) => Some(self.store.project(id).await?),
            None => None,
        };
        match effect {
            Effect::CrmUpsertContact {
                contact,
                project: of,
            } => {
                let project = match of {
                    Some(id) => Some(self.store.project(id).await?),
                    None => project,
                };
                return self.upsert_contact(key, contact, project.as_ref()).await;
            }
            Effect::CrmPullContact { contact } => return self.pull_contact(contact).await,
            _ => {}
        }
        let project = project.ok_or_else(|| {
            ConnectorError::Permanent(format!("outbox entry {} names no project", entry.id))
        })?;
        match effect {
            Effect::CrmUpsertContact { .. } | Effect::CrmPullContact { .. } => {
                unreachable!("contact effects are handled above")
            }
            Effect::CrmSyncDeal { state } => {
                let client = self.store.contact(project.client_id).await?;
                let deal = c.crm.sync_deal(key, &project, &client, state).await?;
                self.store
                    .set_project_ref(project.id, ProjectRef::Crm, &deal)
                    .await?;
            }
            Effect::TrackerCreateProject => {
                let tracker_key = c.tracker.create_project(key, &project).await?;
                self.store
                    .set_project_ref(project.id, ProjectRef::Tracker, &tracker_key)
                    .await?;
            }
            Effect::TrackerCreateTask => {
                let task = c.tracker.create_task(key, &project).await?;
                self.store
                    .set_project_ref(project.id, ProjectRef::Task, &task)
                    .await?;
            }
            Effect::TrackerMoveTask { state } => c.tracker.move_task(key, &project, state).await?,
            Effect::TrackerGrantAccess { expert } | Effect::TrackerRevokeAccess { expert } => {
                let queued_grant = matches!(effect, Effect::TrackerGrantAccess { .. });
                let grant = access::tracker_access_due(&project, expert);
                if grant != queued_grant {
                    tracing::info!(project = %project.id, %expert, state = %project.state, grant,
                        "access entry overtaken by later changes; applying the project's current access");
                }
                let expert = self.store.contact(expert).await?;
                c.tracker.set_access(key, &project, &expert, grant).await?;
            }
            Effect::TrackerRevokeFormerAccount {
                expert,
                email,
                atlassian_account_id,
            } => {
                let mut former = self.store.contact(expert).await?;
                former.email = Email::parse(&email)
                    .map_err(|e| ConnectorError::Permanent(format!("the former e-mail {e}")))?;
                former.atlassian_account_id = atlassian_account_id;
                c.tracker.set_access(key, &project, &former, false).await?;
            }
            Effect::TrackerExportToBoard => self.export_to_board(key, &project).await?,
            Effect::TrackerDeleteProject => c.tracker.delete_project(key, &project).await?,
            Effect::BoardCreateRecord => {
                let card = c.board.create_record(key, &project).await?;
                self.store
                    .set_project_ref(project.id, ProjectRef::Board, &card)
                    .await?;
            }
            Effect::BoardMoveCard { state } => c.board.move_card(key, &project, state).await?,
            Effect::BoardDocumentChecklist { documents } => {
                c.board
                    .document_checklist(key, &project, &documents)
                    .await?
            }
            Effect::BoardCheckDocument { document, approved } => {
                c.board
                    .check_document(key, &project, &document, approved)
                    .await?;
            }
            Effect::BoardRecordValue => {
                if let Some(value) = project.value() {
                    c.board.record_value(key, &project, &value).await?;
                }
            }
            Effect::BoardComment { ticket, message } => {
                let ticket = self.store.ticket(project.id, ticket).await?;
                let message = ticket
                    .messages
                    .iter()
                    .find(|m| m.id == message)
                    .ok_or_else(|| {
                        ConnectorError::Permanent(format!("message {message} is gone"))
                    })?;
                if let Some(comment) = c
                    .board
                    .comment(key, &project, &ticket.subject, message)
                    .await?
                {
                    self.store.record_outbound(c.board.name(), &comment).await?;
                }
            }
            Effect::NotifyExpert { expert, notice } => {
                let expert = self.store.contact(expert).await?;
                c.notifier
                    .notify_expert(key, &expert, &project, notice)
                    .await?;
            }
        }
        Ok(())
    }

    /// The contact in the CRM, an expert with their vetting state.
    async fn upsert_contact(
        &self,
        key: &str,
        contact: ContactId,
        project: Option<&Project>,
    ) -> Result<(), ConnectorError> {
        let contact = self.store.contact(contact).await?;
        let vetting = match contact.kind {
            ContactKind::Expert => Some(self.store.expert(contact.id).await?.profile.vetting),
            ContactKind::Client => None,
        };
        let crm_ref = self
            .connectors
            .crm
            .upsert_contact(key, &contact, vetting, project)
            .await?;
        self.store.set_contact_crm_ref(contact.id, &crm_ref).await?;
        Ok(())
    }

    /// Applies what the CRM holds for a contact changed there. A value
    /// SSoT-Lite refuses (an e-mail taken here, a malformed phone) is kept out
    /// and logged; retrying would not change it.
    async fn pull_contact(&self, contact: ContactId) -> Result<(), ConnectorError> {
        let contact = self.store.contact(contact).await?;
        let crm = &self.connectors.crm;
        let Some(remote) = crm.fetch_contact(&contact).await? else {
            return Ok(());
        };
        let Some(patch) = contact.patch_toward(&remote) else {
            return Ok(());
        };
        let actor = Actor::integration(crm.name());
        match self
            .store
            .apply_crm_change(contact.id, &patch, &actor)
            .await
        {
            Ok(_) => {
                tracing::info!(contact = %contact.id, crm = crm.name(), "contact updated from the CRM");
                Ok(())
            }
            Err(e @ (StoreError::Invalid(_) | StoreError::Duplicate(_))) => {
                tracing::warn!(contact = %contact.id, error = %e, "a change made in the CRM was not applied");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Step 11: the tracker's content becomes a file on the board record.
    async fn export_to_board(&self, key: &str, project: &Project) -> Result<(), ConnectorError> {
        let mut files = self.connectors.tracker.export(project).await?;
        files.push(self.audit_bundle(project).await?);
        for (i, file) in files.iter().enumerate() {
            // One idempotency key per file, so a retry attaches each once.
            let file_key = format!("{key}/{i}");
            self.connectors
                .board
                .attach(&file_key, project, file)
                .await?;
        }
        Ok(())
    }

    /// The project's audit trail with the chain head at close-out, so the
    /// record kept outside the hub can later prove the trail unchanged.
    async fn audit_bundle(&self, project: &Project) -> Result<ExportFile, ConnectorError> {
        let events = self
            .store
            .audit_trail(EntityKind::Project, &project.id.to_string())
            .await?;
        let head = self.store.audit_head().await?;
        let body = serde_json::json!({
            "project": project.id, "title": project.title, "state": project.state,
            "audit_chain_head": head, "events": events,
        });
        Ok(ExportFile {
            filename: format!("audit-trail-{}.json", project.id),
            content_type: "application/json".into(),
            body: serde_json::to_string_pretty(&body).map_err(|e| {
                ConnectorError::Permanent(format!("the audit trail could not be written: {e}"))
            })?,
        })
    }
}
