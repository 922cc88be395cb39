//! Credentialing documents: their type ids and, per project, whether each required
//! one has been approved yet.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{ContactId, DocumentId, ProjectId};
use super::validation::{FieldError, field_error};

/// A document type id such as `insurance_certificate`: lowercase letters, digits and
/// underscores, the key that ties a document to the protocol that checks it.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct DocumentType(String);

impl DocumentType {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let v = value.trim();
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.starts_with(|c: char| c.is_ascii_lowercase())
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(field_error(
                field,
                format!(
                    "`{v}` is not a document type id (lowercase letters, digits and `_`, e.g. `insurance_certificate`)"
                ),
            ));
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose credential a document is: a client project's, or an expert's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum DocumentSubject {
    Project(ProjectId),
    Expert(ContactId),
}

/// Where a document stands in verification.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DocumentStatus {
    /// Nothing provided yet.
    Missing,
    /// Uploaded, waiting for verification.
    Queued,
    Approved,
    Rejected,
    /// Waiting for a person in the review queue.
    Review,
    /// Was approved; its validity ended.
    Expired,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A decision on a document, by a person in the review queue or by the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn status(self) -> DocumentStatus {
        match self {
            Decision::Approve => DocumentStatus::Approved,
            Decision::Reject => DocumentStatus::Rejected,
        }
    }
}

/// A person's decision on a document in review, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewDecision {
    pub decision: Decision,
    pub comment: Option<String>,
    pub expires_on: Option<time::Date>,
}

impl ReviewDecision {
    pub const MAX_COMMENT_CHARS: usize = 2000;

    /// The decision if it holds: an expiry date goes with an approval only
    /// and must not have passed on `today` (an expired credential is never
    /// approved); the comment is bounded.
    pub fn parse(
        decision: Decision,
        comment: Option<&str>,
        expires_on: Option<time::Date>,
        today: time::Date,
    ) -> Result<Self, super::validation::ValidationErrors> {
        let mut errors = super::validation::ValidationErrors::new();
        let comment = errors
            .check(super::validation::optional_text(
                "comment",
                comment,
                Self::MAX_COMMENT_CHARS,
            ))
            .flatten();
        match expires_on {
            Some(_) if decision != Decision::Approve => {
                errors.add("expires_on", "an expiry date goes with an approval only");
            }
            Some(on) if on < today => {
                errors.add(
                    "expires_on",
                    format!("{on} has passed: an expired credential cannot be approved"),
                );
            }
            _ => {}
        }
        errors.finish(|| Self {
            decision,
            comment,
            expires_on,
        })
    }

    pub fn approves(&self) -> bool {
        self.decision == Decision::Approve
    }
}

/// One document type a project requires, and where it stands.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RequiredDocument {
    pub doc_type: DocumentType,
    pub status: DocumentStatus,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
}

/// The required types not approved yet, in the project's order.
pub fn outstanding(required: &[DocumentType], documents: &[RequiredDocument]) -> Vec<DocumentType> {
    required
        .iter()
        .filter(|t| {
            !documents
                .iter()
                .any(|d| &d.doc_type == *t && d.status == DocumentStatus::Approved)
        })
        .cloned()
        .collect()
}

/// An uploaded credentialing document's metadata; the bytes live in storage,
/// addressed by their SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Document {
    pub id: DocumentId,
    pub subject: DocumentSubject,
    pub doc_type: DocumentType,
    /// The name the uploader gave; never used to decide the content type.
    pub filename: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub status: DocumentStatus,
    pub uploaded_by: String,
    /// When the credential stops being valid, as verification read it.
    #[serde(with = "super::dates::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<time::Date>,
    /// Who decided it (`agent` or a person from the review queue), and their comment.
    pub decided_by: Option<String>,
    pub decision_comment: Option<String>,
    /// Times a verifier took it up (more than one: a worker died or crashed on it).
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Document {
    /// Waiting for, or undergoing, verification.
    pub fn pending(&self) -> bool {
        self.status == DocumentStatus::Queued
    }
}

/// How much one subject (a project, an expert) may store; 0 means no bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadQuota {
    pub files: u32,
    pub bytes: u64,
}

/// What a subject stores already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredUsage {
    pub files: u64,
    pub bytes: u64,
}

/// An upload the subject's quota has no room for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QuotaExceeded {
    pub message: String,
    pub used: StoredUsage,
    pub quota: UploadQuota,
}

impl UploadQuota {
    /// Whether one more file of `adding` bytes fits beside `used`.
    pub fn check(&self, used: StoredUsage, adding: u64) -> Result<(), QuotaExceeded> {
        let refuse = |message: String| {
            Err(QuotaExceeded {
                message,
                used,
                quota: *self,
            })
        };
        if self.files > 0 && used.files >= u64::from(self.files) {
            return refuse(format!(
                "this already holds {} documents, the most allowed ({}); ask the agency to remove old ones",
                used.files, self.files
            ));
        }
        if self.bytes > 0 && used.bytes.saturating_add(adding) > self.bytes {
            return refuse(format!(
                "this holds {} bytes of documents; {adding} more would pass the {} allowed",
                used.bytes, self.bytes
            ));
        }
        Ok(())
    }
}

/// Parses a list of required document types, refusing duplicates.
pub fn document_types(field: &str, values: &[String]) -> Result<Vec<DocumentType>, FieldError> {
    if values.len() > 20 {
        return Err(field_error(field, "must list at most 20 document types"));
    }
    let mut out: Vec<DocumentType> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let t = DocumentType::parse(&format!("{field}[{i}]"), v)?;
        if out.contains(&t) {
            return Err(field_error(field, format!("lists `{t}` twice")));
        }
        out.push(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_decision_never_approves_a_lapsed_credential() {
        let today = time::macros::date!(2026 - 12 - 07);
        let ok = ReviewDecision::parse(Decision::Approve, Some("  "), Some(today), today).unwrap();
        assert_eq!(
            (ok.comment, ok.expires_on),
            (None, Some(today)),
            "the last valid day is today"
        );
        let lapsed = ReviewDecision::parse(Decision::Approve, None, today.previous_day(), today);
        assert_eq!(lapsed.unwrap_err().0[0].field, "expires_on");
        let with_reject = ReviewDecision::parse(Decision::Reject, None, Some(today), today);
        assert!(
            with_reject.unwrap_err().0[0]
                .message
                .contains("approval only")
        );
        let long = "x".repeat(ReviewDecision::MAX_COMMENT_CHARS + 1);
        let errors = ReviewDecision::parse(Decision::Reject, Some(&long), None, today).unwrap_err();
        assert_eq!(errors.0[0].field, "comment");
    }

    #[test]
    fn a_quota_bounds_files_and_bytes_and_zero_means_none() {
        let q = UploadQuota {
            files: 2,
            bytes: 100,
        };
        let used = |files, bytes| StoredUsage { files, bytes };
        assert!(q.check(used(1, 50), 50).is_ok());
        assert!(q.check(used(2, 10), 1).is_err(), "the third file");
        assert!(q.check(used(1, 50), 51).is_err(), "one byte over");
        let none = UploadQuota { files: 0, bytes: 0 };
        assert!(none.check(used(10_000, u64::MAX), u64::MAX).is_ok());
    }

    #[test]
    fn document_type_ids_are_strict() {
        assert!(DocumentType::parse("t", "insurance_certificate").is_ok());
        for bad in ["", "Insurance", "nda!", "1nda", "a b"] {
            assert!(DocumentType::parse("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_required_document_is_outstanding_until_approved() {
        let nda = DocumentType::parse("d", "nda").unwrap();
        let ins = DocumentType::parse("d", "insurance_certificate").unwrap();
        let row = |t: &DocumentType, status| RequiredDocument {
            doc_type: t.clone(),
            status,
            decided_by: None,
            comment: None,
            decided_at: None,
        };
        let required = vec![nda.clone(), ins.clone()];
        assert_eq!(outstanding(&required, &[]), required);
        let docs = vec![
            row(&nda, DocumentStatus::Approved),
            row(&ins, DocumentStatus::Rejected),
        ];
        assert_eq!(outstanding(&required, &docs), vec![ins.clone()]);
        let docs = vec![
            row(&nda, DocumentStatus::Approved),
            row(&ins, DocumentStatus::Approved),
        ];
        assert!(outstanding(&required, &docs).is_empty());
    }

    #[test]
    fn duplicates_are_refused() {
        assert!(document_types("d", &["nda".into(), "nda".into()]).is_err());
        assert_eq!(document_types("d", &["nda".into()]).unwrap().len(), 1);
    }
}
