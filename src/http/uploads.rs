//! Receiving an uploaded document, for the API and the pages alike: the
//! multipart body streamed to a temporary file within the size limit, its
//! type and content checked, the subject's quota checked, then the file
//! kept and the document recorded and queued for the agent. A refused file
//! is removed with the upload.

use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;

use super::AppState;
use crate::agent::sniff::{FileKind, sniff};
use crate::blobs::Received;
use crate::domain::actor::{Actor, Role};
use crate::domain::document::{Document, DocumentSubject, DocumentType, QuotaExceeded};
use crate::domain::project::Project;
use crate::domain::validation::ValidationErrors;
use crate::store::{NewDocument, StoreError};

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The whole body passed the route's limit before the file's own did.
    #[error("the upload is too large")]
    BodyTooLarge,
    #[error("the request body stopped arriving; send it again")]
    BodyTimeout,
    /// The body is not the two fields expected, or not multipart at all.
    #[error("{0}")]
    Malformed(String),
    #[error("send a PDF, PNG, JPEG, plain text or Markdown file (not HTML, XML or JSON)")]
    Unsupported,
    /// The document type is no id, or not one the subject needs.
    #[error(transparent)]
    Invalid(ValidationErrors),
    #[error("{}", .0.message)]
    Quota(QuotaExceeded),
    /// The uploader may see the subject but not add to it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The project has ended and takes no documents.
    #[error("the project is `{0}`; it takes no documents")]
    Closed(crate::domain::lifecycle::ProjectState),
    #[error(transparent)]
    Store(StoreError),
    #[error("storing the upload: {0}")]
    Io(std::io::Error),
}

impl From<StoreError> for UploadError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Quota(q) => UploadError::Quota(q),
            e => UploadError::Store(e),
        }
    }
}

fn multipart_error(e: MultipartError) -> UploadError {
    if super::error::is_body_timeout(&e) {
        return UploadError::BodyTimeout;
    }
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => UploadError::BodyTooLarge,
        _ => UploadError::Malformed(format!("malformed multipart body: {}", e.body_text())),
    }
}

/// The body limit of an upload route: the file's own limit, and a little
/// for the multipart framing around it.
pub fn body_limit(upload_max_bytes: u64) -> usize {
    usize::try_from(upload_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024)
}

/// The fields of an upload: `type` (a document type id) and `file`.
pub struct Upload {
    pub doc_type: String,
    pub filename: String,
    received: Received,
}

/// Streams the multipart body: the file goes to a temporary file as it
/// arrives, never held whole in memory, and is refused past the size limit.
/// Fields other than `type` and `file` are refused (a page reads its form
/// token first).
pub async fn receive(state: &AppState, mut multipart: Multipart) -> Result<Upload, UploadError> {
    let limit = state.upload_max_bytes;
    let (mut doc_type, mut file, mut filename) = (None, None::<Received>, String::from("document"));
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("type") if doc_type.is_none() => {
                doc_type = Some(field.text().await.map_err(multipart_error)?);
            }
            Some("file") if file.is_none() => {
                if let Some(name) = field.file_name() {
                    filename = name.chars().filter(|c| !c.is_control()).take(200).collect();
                }
                let mut incoming = state.blobs.receive().await.map_err(UploadError::Io)?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if incoming.size() + chunk.len() as u64 > limit {
                        return Err(UploadError::TooLarge { limit });
                    }
                    incoming.write(&chunk).await.map_err(UploadError::Io)?;
                }
                file = Some(incoming.finish().await.map_err(UploadError::Io)?);
            }
            Some(name @ ("type" | "file")) => {
                return Err(UploadError::Malformed(format!(
                    "the field `{name}` was sent twice; send one document per upload"
                )));
            }
            other => {
                return Err(UploadError::Malformed(format!(
                    "unexpected field `{}`; send `type` and `file`",
                    other.unwrap_or("")
                )));
            }
        }
    }
    match (doc_type, file) {
        (Some(doc_type), Some(received)) => Ok(Upload {
            doc_type,
            filename,
            received,
        }),
        _ => Err(UploadError::Malformed(
            "send two fields: `type` (the document type id) and `file`".into(),
        )),
    }
}

/// Whether `actor`, who may see `project`, may add a document to it: not an
/// expert (they upload their own credentials), not once it has ended, not
/// past its quota. The subject to upload to.
pub async fn for_project(
    state: &AppState,
    actor: &Actor,
    project: &Project,
) -> Result<DocumentSubject, UploadError> {
    open_to(actor, project)?;
    let subject = DocumentSubject::Project(project.id);
    room_for_one_more(state, subject).await?;
    Ok(subject)
}

/// The part of `for_project` that needs no database: who and when.
pub fn open_to(actor: &Actor, project: &Project) -> Result<(), UploadError> {
    if actor.role() == Some(Role::Expert) {
        return Err(UploadError::Forbidden(
            "experts upload their own credentials, not the client's",
        ));
    }
    if project.state.is_terminal() {
        return Err(UploadError::Closed(project.state));
    }
    Ok(())
}

/// Refuses before the body is read when the subject's quota is full; the
/// store checks again, with the file's size, as it records it.
pub async fn room_for_one_more(
    state: &AppState,
    subject: DocumentSubject,
) -> Result<(), UploadError> {
    let used = state.store.upload_usage(subject).await?;
    state
        .upload_quota
        .check(used, 0)
        .map_err(UploadError::Quota)
}

/// Checks type and content, then records the document and queues it:
/// the document, and whether it is new (the same bytes uploaded again for
/// the same subject and type are the same document).
pub async fn accept(
    state: &AppState,
    actor: &Actor,
    subject: DocumentSubject,
    allowed: &[DocumentType],
    upload: Upload,
) -> Result<(Document, bool), UploadError> {
    let Upload {
        doc_type,
        filename,
        received,
    } = upload;
    let doc_type = DocumentType::parse("type", &doc_type)
        .map_err(|e| UploadError::Invalid(ValidationErrors(vec![e])))?;
    if !allowed.contains(&doc_type) {
        let names: Vec<&str> = allowed.iter().map(DocumentType::as_str).collect();
        return Err(UploadError::Invalid(ValidationErrors::single(
            "type",
            format!(
                "`{doc_type}` is not a document this subject needs; expected one of: {}",
                names.join(", ")
            ),
        )));
    }
    let kind = sniff(&received.head).ok_or(UploadError::Unsupported)?;
    if matches!(kind, FileKind::Text | FileKind::Markdown) && !received.is_text {
        return Err(UploadError::Unsupported);
    }
    let (size_bytes, sha256) = (received.size, received.sha256.clone());
    let used = state.store.upload_usage(subject).await?;
    state
        .upload_quota
        .check(used, size_bytes)
        .map_err(UploadError::Quota)?;
    state.blobs.keep(received).await.map_err(UploadError::Io)?;
    let new = NewDocument {
        subject,
        doc_type,
        filename,
        content_type: kind.content_type().to_owned(),
        size_bytes,
        sha256,
    };
    let (document, created) = state
        .store
        .insert_document(new, state.upload_quota, actor)
        .await?;
    tracing::info!(document = %document.id, doc_type = %document.doc_type, size = document.size_bytes, created, "document uploaded");
    Ok((document, created))
}
