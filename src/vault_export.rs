//! The Obsidian vault of the agency's records: one note per client, expert
//! and project, with YAML front matter (ids and states), `[[wikilinks]]`
//! between them, value metrics and each project's timeline. Notes are
//! rendered deterministically and written only when they change, so a vault
//! under git shows clean diffs; notes the export made for records that moved
//! (a renamed project) are removed, anything else in the vault is left alone.
//! The protocols folder stays the agent's source; this never touches it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::audit::{AuditEvent, EntityKind};
use crate::domain::contact::{Contact, ContactKind};
use crate::domain::expert::Expert;
use crate::domain::project::Project;
use crate::domain::text::fold;
use crate::store::{Store, StoreError};

/// The folders the export owns (inside the vault).
const FOLDERS: [&str; 3] = ["Clients", "Experts", "Projects"];

/// What one export did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// How the continuous export stands, shared with `GET /connectors`.
#[derive(Clone, Debug, Default)]
pub struct VaultStatus(Arc<Mutex<VaultHealth>>);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultHealth {
    pub last_success: Option<OffsetDateTime>,
    /// Exports that completed since the server started.
    pub exports: i64,
    /// Exports that failed in a row since the last success.
    pub failing: i64,
    pub last_error: Option<String>,
}

impl VaultStatus {
    pub fn get(&self) -> VaultHealth {
        self.0.lock().expect("vault status lock").clone()
    }

    fn record(&self, result: Result<(), String>) {
        let mut health = self.0.lock().expect("vault status lock");
        match result {
            Ok(()) => {
                health.last_success = Some(OffsetDateTime::now_utc());
                health.exports += 1;
                health.failing = 0;
            }
            Err(error) => {
                health.failing += 1;
                health.last_error = Some(error);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A file name from a title: folded to ASCII, dashes between words.
fn slug(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::new();
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
        if out.len() > 60 {
            break;
        }
    }
    if out.is_empty() {
        "untitled".into()
    } else {
        out
    }
}

/// The random tail of a UUIDv7, enough to keep names apart.
fn short(id: &impl std::fmt::Display) -> String {
    let s = id.to_string().replace('-', "");
    s[s.len() - 8..].to_owned()
}

/// A note's path in the vault (no extension): the link target.
fn note_path(folder: &str, title: &str, id: &impl std::fmt::Display) -> String {
    format!("{folder}/{}-{}", slug(title), short(id))
}

fn link(target: &str, label: &str) -> String {
    format!("[[{target}|{}]]", label.replace(['|', ']', '['], " "))
}

fn front_matter(fields: &BTreeMap<&str, serde_json::Value>) -> String {
    let yaml = yaml_serde::to_string(fields).unwrap_or_default();
    format!("---\n{yaml}---\n")
}

fn client_name(c: &Contact) -> String {
    c.legal_name.clone().unwrap_or_else(|| c.full_name.clone())
}

/// Everything the notes are rendered from.
pub struct Records {
    pub contacts: Vec<Contact>,
    pub experts: Vec<Expert>,
    pub projects: Vec<Project>,
    /// Each project's audit trail, oldest first.
    pub timelines: BTreeMap<String, Vec<AuditEvent>>,
}

impl Records {
    fn contact_note(&self, id: crate::domain::ids::ContactId) -> Option<(String, String)> {
        let c = self.contacts.iter().find(|c| c.id == id)?;
        Some(match c.kind {
            ContactKind::Client => (note_path("Clients", &client_name(c), &c.id), client_name(c)),
            ContactKind::Expert => (
                note_path("Experts", &c.full_name, &c.id),
                c.full_name.clone(),
            ),
        })
    }

    fn project_note(&self, p: &Project) -> (String, String) {
        (note_path("Projects", &p.title, &p.id), p.title.clone())
    }

    fn projects_of(&self, id: crate::domain::ids::ContactId) -> Vec<&Project> {
        self.projects
            .iter()
            .filter(|p| p.client_id == id || p.expert_id == Some(id))
            .collect()
    }

    fn project_list(&self, id: crate::domain::ids::ContactId) -> String {
        let list = self.projects_of(id);
        if list.is_empty() {
            return "(none yet)\n".into();
        }
        list.iter()
            .map(|p| {
                let (path, title) = self.project_note(p);
                format!("- {} ({})\n", link(&path, &title), p.state)
            })
            .collect()
    }

    /// Every note: path (with `.md`) and content.
    pub fn notes(&self) -> BTreeMap<String, String> {
        let mut notes = BTreeMap::new();
        for c in self
            .contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Client)
        {
            let (path, name) = self.contact_note(c.id).expect("listed");
            let mut fm = BTreeMap::new();
            fm.insert("ssot_id", c.id.to_string().into());
            fm.insert("type", "client".into());
            fm.insert("email", c.email.to_string().into());
            fm.insert("legal_name", c.legal_name.clone().into());
            fm.insert(
                "tax_id",
                c.tax_id.as_ref().map(|t| t.as_str().to_owned()).into(),
            );
            fm.insert("crm_ref", c.crm_ref.clone().into());
            fm.insert("tags", serde_json::json!(["ssot", "client"]));
            let mut body = front_matter(&fm);
            let _ = write!(body, "# {name}\n\nContact: {} <{}>\n", c.full_name, c.email);
            if let Some(phone) = &c.phone {
                let _ = writeln!(body, "Phone: {phone}");
            }
            let _ = write!(body, "\n## Projects\n\n{}", self.project_list(c.id));
            notes.insert(format!("{path}.md"), body);
        }
        for e in &self.experts {
            let (path, name) = self.contact_note(e.contact.id).unwrap_or_else(|| {
                (
                    note_path("Experts", &e.contact.full_name, &e.contact.id),
                    e.contact.full_name.clone(),
                )
            });
            let tags = |t: &[crate::domain::validation::Tag]| {
                t.iter().map(|x| x.as_str().to_owned()).collect::<Vec<_>>()
            };
            let mut fm = BTreeMap::new();
            fm.insert("ssot_id", e.contact.id.to_string().into());
            fm.insert("type", "expert".into());
            fm.insert("email", e.contact.email.to_string().into());
            fm.insert("vetting", e.profile.vetting.to_string().into());
            fm.insert("skills", tags(&e.profile.skills).into());
            fm.insert("industries", tags(&e.profile.industries).into());
            fm.insert("capacity", e.profile.capacity.into());
            fm.insert("rating", e.profile.rating.into());
            fm.insert("tags", serde_json::json!(["ssot", "expert"]));
            let mut body = front_matter(&fm);
            let _ = write!(
                body,
                "# {name}\n\nVetting: **{}**; capacity {} project(s); hourly rate {:.2}\n\n## Projects\n\n{}",
                e.profile.vetting,
                e.profile.capacity,
                e.profile.hourly_rate,
                self.project_list(e.contact.id)
            );
            notes.insert(format!("{path}.md"), body);
        }
        for p in &self.projects {
            let (path, title) = self.project_note(p);
            let value = p.value();
            let mut fm = BTreeMap::new();
            fm.insert("ssot_id", p.id.to_string().into());
            fm.insert("type", "project".into());
            fm.insert("state", p.state.to_string().into());
            fm.insert("client_id", p.client_id.to_string().into());
            fm.insert("expert_id", p.expert_id.map(|e| e.to_string()).into());
            fm.insert("tracker_ref", p.tracker_ref.clone().into());
            fm.insert("board_ref", p.board_ref.clone().into());
            fm.insert("crm_ref", p.crm_ref.clone().into());
            fm.insert(
                "expected_value",
                value.as_ref().map(|v| round(v.expected_value)).into(),
            );
            fm.insert(
                "expected_roi",
                value.as_ref().map(|v| round(v.expected_roi)).into(),
            );
            fm.insert(
                "realised_value",
                value
                    .as_ref()
                    .and_then(|v| v.realised_value)
                    .map(round)
                    .into(),
            );
            fm.insert(
                "realised_roi",
                value
                    .as_ref()
                    .and_then(|v| v.realised_roi)
                    .map(round)
                    .into(),
            );
            fm.insert(
                "tags",
                serde_json::json!(["ssot", "project", p.state.to_string()]),
            );
            let mut body = front_matter(&fm);
            let _ = write!(body, "# {title}\n\nState: **{}**\n", p.state);
            if let Some((client, name)) = self.contact_note(p.client_id) {
                let _ = writeln!(body, "Client: {}", link(&client, &name));
            }
            if let Some((expert, name)) = p.expert_id.and_then(|e| self.contact_note(e)) {
                let _ = writeln!(body, "Expert: {}", link(&expert, &name));
            }
            let _ = write!(body, "\n## Brief\n\n{}\n", p.spec.trim());
            if let Some(v) = &value {
                let _ = write!(
                    body,
                    "\n## Value\n\n| | expected | realised |\n|---|---|---|\n| value | {:.0} | {} |\n| TS-ROI | {:.2} | {} |\n",
                    v.expected_value,
                    v.realised_value.map_or("—".into(), |x| format!("{x:.0}")),
                    v.expected_roi,
                    v.realised_roi.map_or("—".into(), |x| format!("{x:.2}")),
                );
            }
            let _ = write!(body, "\n## Timeline\n\n");
            for event in self.timelines.get(&p.id.to_string()).into_iter().flatten() {
                let change = match (&event.from_state, &event.to_state) {
                    (Some(f), Some(t)) => format!(" {f} → {t}"),
                    (None, Some(t)) => format!(" → {t}"),
                    _ => String::new(),
                };
                let reason = event
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    body,
                    "- {} — {} by {}{change}{reason}",
                    event.at.date(),
                    event.action,
                    event.actor_label
                );
            }
            notes.insert(format!("{path}.md"), body);
        }
        notes
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Whether a note in the vault was made by the export (its front matter
/// carries an `ssot_id`): only those are removed when stale.
fn made_by_export(text: &str) -> bool {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---"))
        .is_some_and(|(front, _)| front.lines().any(|l| l.starts_with("ssot_id:")))
}

/// Writes `notes` into `dir`: changed notes only, stale notes of ours removed.
pub fn write_notes(
    dir: &Path,
    notes: &BTreeMap<String, String>,
) -> Result<ExportReport, VaultError> {
    let mut report = ExportReport::default();
    for (path, content) in notes {
        let file = dir.join(path);
        if std::fs::read_to_string(&file).is_ok_and(|old| old == *content) {
            report.unchanged += 1;
            continue;
        }
        let parent = file.parent().expect("notes live in a folder");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        // Written whole, then renamed: Obsidian never reads half a note. The
        // name is this process's, so two servers (or `ssot vault export` beside
        // one) exporting at once do not rename each other's half-written file.
        let tmp = file.with_extension(format!("md.{}.tmp", std::process::id()));
        std::fs::write(&tmp, content).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &file).map_err(io(&file))?;
        report.written += 1;
    }
    let current: BTreeSet<PathBuf> = notes.keys().map(|p| dir.join(p)).collect();
    for folder in FOLDERS {
        let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "md")
                && !current.contains(&path)
                && std::fs::read_to_string(&path).is_ok_and(|t| made_by_export(&t))
            {
                std::fs::remove_file(&path).map_err(io(&path))?;
                report.removed += 1;
            }
        }
    }
    Ok(report)
}

/// Reads every record and writes the vault.
pub async fn export(store: &Store, dir: &Path) -> Result<ExportReport, VaultError> {
    let contacts = crate::sheets_cmd::all_contacts(store).await?;
    let experts = crate::sheets_cmd::all_experts(store).await?;
    let projects = crate::sheets_cmd::all_projects(store).await?;
    let mut timelines = BTreeMap::new();
    for p in &projects {
        let id = p.id.to_string();
        let trail = store.audit_trail(EntityKind::Project, &id).await?;
        timelines.insert(id, trail);
    }
    let records = Records {
        contacts,
        experts,
        projects,
        timelines,
    };
    let dir = dir.to_owned();
    let notes = records.notes();
    tokio::task::spawn_blocking(move || write_notes(&dir, &notes))
        .await
        .expect("the vault writer does not panic")
}

/// Exports every `interval` until cancelled (the continuous mode), keeping
/// `status` up to date.
pub async fn run(
    store: Store,
    dir: PathBuf,
    interval: std::time::Duration,
    status: VaultStatus,
    cancel: tokio_util::sync::CancellationToken,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => match export(&store, &dir).await {
                Ok(r) => {
                    if r.written + r.removed > 0 {
                        tracing::info!(vault = %dir.display(), written = r.written, removed = r.removed, "vault updated");
                    }
                    status.record(Ok(()));
                }
                Err(error) => {
                    tracing::warn!(vault = %dir.display(), %error, "vault export failed; will try again");
                    status.record(Err(error.to_string()));
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_readable_and_unique() {
        assert_eq!(
            slug("Żółta Łódź: invoices & more!"),
            "zolta-lodz-invoices-more"
        );
        assert_eq!(slug("???"), "untitled");
        let id = uuid::Uuid::now_v7();
        assert_eq!(short(&id).len(), 8);
        assert_eq!(link("Clients/a-1", "A|B"), "[[Clients/a-1|A B]]");
    }

    #[test]
    fn only_changed_notes_are_written_and_only_our_stale_notes_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut notes = BTreeMap::new();
        notes.insert(
            "Projects/a-1.md".to_owned(),
            "---\nssot_id: 1\n---\n# A\n".to_owned(),
        );
        notes.insert(
            "Clients/b-2.md".to_owned(),
            "---\nssot_id: 2\n---\n# B\n".to_owned(),
        );
        assert_eq!(write_notes(dir.path(), &notes).unwrap().written, 2);
        assert_eq!(
            write_notes(dir.path(), &notes).unwrap(),
            ExportReport {
                written: 0,
                unchanged: 2,
                removed: 0
            }
        );
        std::fs::write(dir.path().join("Projects/my-own-note.md"), "# Mine\n").unwrap();
        notes.remove("Projects/a-1.md");
        notes.insert(
            "Projects/a-renamed-1.md".to_owned(),
            "---\nssot_id: 1\n---\n# A'\n".to_owned(),
        );
        let r = write_notes(dir.path(), &notes).unwrap();
        assert_eq!((r.written, r.removed), (1, 1));
        assert!(!dir.path().join("Projects/a-1.md").exists());
        assert!(
            dir.path().join("Projects/my-own-note.md").exists(),
            "the user's note stays"
        );
    }
}
