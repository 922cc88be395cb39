//! Verification workers: claim an uploaded document under a lease, run the
//! agent on it, and store the report with what its decision does (statuses,
//! access, helpdesk notices), in one transaction.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::agent::sniff::FileKind;
use crate::agent::{Agent, Verified, VerifyInput};
use crate::blobs::BlobStore;
use crate::domain::document::{Document, DocumentSubject};
use crate::domain::protocol::SubjectKind;
use crate::domain::verification::{Flag, Outcome, Report, Tokens};
use crate::store::{DecisionOutcome, Store, StoreError, now};

#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// How long a claim lasts unless renewed; a working verifier renews it
    /// every third of this, so a dead worker's document is retaken soon.
    pub lease: Duration,
    pub poll: Duration,
    /// Claims of one document (its workers died or crashed) before it goes
    /// to review instead of being tried again.
    pub max_attempts: u32,
}

/// What one step did.
#[derive(Debug)]
pub enum VerifyStep {
    Idle,
    Done {
        document: Box<Document>,
        report: Box<Report>,
        outcome: Option<Box<DecisionOutcome>>,
    },
    /// Another worker took the document over; this one stopped.
    Lost {
        document: Box<Document>,
    },
}

#[derive(Clone, Debug)]
pub struct Verifier {
    store: Store,
    blobs: BlobStore,
    agent: Agent,
    config: VerifierConfig,
    owner: String,
}

impl Verifier {
    pub fn new(
        store: Store,
        blobs: BlobStore,
        agent: Agent,
        config: VerifierConfig,
        owner: impl Into<String>,
    ) -> Self {
        Self {
            store,
            blobs,
            agent,
            config,
            owner: owner.into(),
        }
    }

    /// Verifies at most one queued document.
    pub async fn step(&self) -> Result<VerifyStep, StoreError> {
        let claimed_at = now();
        let Some(document) = self
            .store
            .claim_document(&self.owner, claimed_at, claimed_at + self.config.lease)
            .await?
        else {
            return Ok(VerifyStep::Idle);
        };
        let started = std::time::Instant::now();
        let verified = if document.attempts > self.config.max_attempts {
            let problem = format!(
                "verification was started {} times without finishing (its worker stopped or crashed); a person must look",
                document.attempts - 1
            );
            tracing::error!(document = %document.id, attempts = document.attempts, "giving up on verifying a document");
            bare(&document, "agent", problem)
        } else {
            match self.input(&document).await {
                Ok(input) => match self.verify_leased(&document, input).await {
                    Some(verified) => verified,
                    None => {
                        return Ok(VerifyStep::Lost {
                            document: Box::new(document),
                        });
                    }
                },
                Err(problem) => bare(&document, "storage", problem),
            }
        };
        let outcome = self
            .store
            .complete_verification(document.id, &self.owner, &verified.report, &verified.pages)
            .await?;
        tracing::info!(
            document = %document.id, doc_type = %document.doc_type, decision = %verified.report.decision,
            flags = verified.report.flags.len(), model = verified.report.model.as_deref().unwrap_or("-"),
            prompt_tokens = verified.report.tokens.prompt, elapsed_ms = started.elapsed().as_millis() as u64,
            "document verified"
        );
        let Some(outcome) = outcome else {
            tracing::warn!(document = %document.id, "lease lost during verification; another worker owns the document");
            return Ok(VerifyStep::Lost {
                document: Box::new(document),
            });
        };
        Ok(VerifyStep::Done {
            document: Box::new(document),
            report: Box::new(verified.report),
            outcome: Some(Box::new(outcome)),
        })
    }

    /// Runs the agent on its own task, renewing the claim while it works. A
    /// panic in the agent becomes a report for review; `None` when the claim
    /// was lost to another worker (the agent is stopped).
    async fn verify_leased(&self, document: &Document, input: VerifyInput) -> Option<Verified> {
        let agent = self.agent.clone();
        let mut task = tokio::spawn(async move { agent.verify(input).await });
        let mut renew = tokio::time::interval(self.config.lease / 3);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.tick().await;
        loop {
            tokio::select! {
                joined = &mut task => {
                    return Some(joined.unwrap_or_else(|e| {
                        tracing::error!(document = %document.id, error = %e, "the agent crashed on a document");
                        bare(document, "agent", format!("the verification agent crashed on this document: {e}"))
                    }));
                }
                _ = renew.tick() => {
                    let until = now() + self.config.lease;
                    match self.store.renew_document_lease(document.id, &self.owner, until).await {
                        Ok(true) => {}
                        Ok(false) => {
                            task.abort();
                            tracing::warn!(document = %document.id, "lease lost during verification; stopped");
                            return None;
                        }
                        // The claim stands until it lapses; try again at the next tick.
                        Err(error) => tracing::warn!(document = %document.id, %error, "could not renew the verification lease"),
                    }
                }
            }
        }
    }

    /// What the agent needs: the stored bytes and the subject's record.
    async fn input(&self, document: &Document) -> Result<VerifyInput, String> {
        let kind = FileKind::from_content_type(&document.content_type).ok_or_else(|| {
            format!(
                "unsupported stored content type `{}`",
                document.content_type
            )
        })?;
        let bytes = self
            .blobs
            .read(&document.sha256)
            .await
            .map_err(|e| format!("the stored file cannot be read: {e}"))?;
        let subject = self
            .store
            .subject_record(document.subject)
            .await
            .map_err(|e| e.to_string())?;
        let subject_kind = match document.subject {
            DocumentSubject::Project(_) => SubjectKind::Client,
            DocumentSubject::Expert(_) => SubjectKind::Expert,
        };
        Ok(VerifyInput {
            doc_type: document.doc_type.clone(),
            kind,
            bytes,
            subject,
            subject_kind: Some(subject_kind),
            today: now().date(),
        })
    }

    /// Steps until nothing is queued; returns how many documents were verified.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        loop {
            match self.step().await? {
                VerifyStep::Idle => return Ok(n),
                VerifyStep::Done { .. } => n += 1,
                VerifyStep::Lost { .. } => {}
            }
        }
    }

    /// Verifies until cancelled, woken by uploads in this process or the poll.
    pub async fn run(self, signal: Arc<Notify>, cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step().await {
                Ok(VerifyStep::Done { .. } | VerifyStep::Lost { .. }) => continue,
                Ok(VerifyStep::Idle) => {}
                Err(error) => {
                    tracing::warn!(worker = %self.owner, %error, "verification step failed; retrying")
                }
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = &mut notified => {}
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }
}

/// A report for a document the agent could not judge (its bytes or record
/// could not be had, the agent crashed, or it was tried too often): review.
fn bare(document: &Document, kind: &str, problem: String) -> Verified {
    let report = Report {
        doc_type: document.doc_type.clone(),
        protocol: None,
        decision: Outcome::Review,
        reasons: vec![problem.clone()],
        requirements: Vec::new(),
        flags: vec![Flag {
            kind: kind.into(),
            detail: problem,
            page: None,
        }],
        model: None,
        prompt_version: None,
        tokens: Tokens::default(),
        latency_ms: 0,
        pages: 0,
        chars: 0,
        expires_on: None,
        checked_fields: None,
    };
    Verified {
        report,
        pages: Vec::new(),
    }
}
