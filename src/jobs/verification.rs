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
use crate::domain::document::Document;
use crate::domain::verification::{Flag, Outcome, Report, Tokens};
use crate::store::{DecisionOutcome, Store, StoreError, now};

#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Covers the slowest model answer; a dead worker's document is retaken after it.
    pub lease: Duration,
    pub poll: Duration,
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
        let verified = match self.input(&document).await {
            Ok(input) => self.agent.verify(input).await,
            Err(problem) => Verified {
                report: unreadable(&document, problem),
                pages: Vec::new(),
            },
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
        if outcome.is_none() {
            tracing::warn!(document = %document.id, "lease lost during verification; another worker owns the document");
        }
        Ok(VerifyStep::Done {
            document: Box::new(document),
            report: Box::new(verified.report),
            outcome: outcome.map(Box::new),
        })
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
        Ok(VerifyInput {
            doc_type: document.doc_type.clone(),
            kind,
            bytes,
            subject,
            today: now().date(),
        })
    }

    /// Steps until nothing is queued; returns how many documents were verified.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        while let VerifyStep::Done { .. } = self.step().await? {
            n += 1;
        }
        Ok(n)
    }

    /// Verifies until cancelled, woken by uploads in this process or the poll.
    pub async fn run(self, signal: Arc<Notify>, cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step().await {
                Ok(VerifyStep::Done { .. }) => continue,
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

/// A report for a document whose bytes or record could not be had: review.
fn unreadable(document: &Document, problem: String) -> Report {
    Report {
        doc_type: document.doc_type.clone(),
        protocol: None,
        decision: Outcome::Review,
        reasons: vec![problem.clone()],
        requirements: Vec::new(),
        flags: vec![Flag {
            kind: "storage".into(),
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
    }
}
