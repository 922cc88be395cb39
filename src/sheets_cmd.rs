//! `ssot import contacts FILE.csv` and `ssot export projects|contacts`: the
//! command-line side of [`crate::sheets`], against the configured database.

use std::path::Path;

use crate::domain::actor::Actor;
use crate::domain::contact::Contact;
use crate::domain::expert::Expert;
use crate::domain::project::Project;
use crate::sheets::{self, RowError};
use crate::store::{ProjectFilter, Store, StoreError};

const PAGE: u32 = 200;

/// Imports a contacts sheet: every row or none. Returns how many, or every
/// row's error with its line.
pub async fn import_contacts(
    store: &Store,
    file: &Path,
    actor: &Actor,
) -> Result<usize, Vec<RowError>> {
    let whole = |reason: String| vec![RowError { line: 0, reason }];
    let reader = std::fs::File::open(file)
        .map_err(|e| whole(format!("cannot read {}: {e}", file.display())))?;
    let rows = sheets::read_contacts(reader)?;
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    let pairs: Vec<_> = rows.into_iter().map(|r| (r.contact, r.profile)).collect();
    store
        .import_contacts(&pairs, actor)
        .await
        .map_err(|errors| {
            errors
                .into_iter()
                .map(|(i, reason)| RowError {
                    line: lines.get(i).copied().unwrap_or(0),
                    reason,
                })
                .collect()
        })
}

pub async fn all_contacts(store: &Store) -> Result<Vec<Contact>, StoreError> {
    let mut all: Vec<Contact> = Vec::new();
    loop {
        let page = store
            .list_contacts(None, all.last().map(|c| c.id), PAGE)
            .await?;
        let done = page.len() < PAGE as usize;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

pub async fn all_experts(store: &Store) -> Result<Vec<Expert>, StoreError> {
    let mut all: Vec<Expert> = Vec::new();
    loop {
        let page = store
            .list_experts(None, all.last().map(|e| e.contact.id), PAGE)
            .await?;
        let done = page.len() < PAGE as usize;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

pub async fn all_projects(store: &Store) -> Result<Vec<Project>, StoreError> {
    let mut all: Vec<Project> = Vec::new();
    loop {
        let filter = ProjectFilter {
            state: None,
            client: None,
            expert: None,
            after: all.last().map(|p| p.id),
            limit: PAGE,
        };
        let page = store.list_projects(&filter).await?;
        let done = page.len() < PAGE as usize;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// Writes every contact (experts with their profile) as CSV.
pub async fn export_contacts(store: &Store, out: impl std::io::Write) -> Result<usize, String> {
    let contacts = all_contacts(store).await.map_err(|e| e.to_string())?;
    let experts = all_experts(store).await.map_err(|e| e.to_string())?;
    sheets::write_contacts(out, &contacts, &experts).map_err(|e| e.to_string())?;
    Ok(contacts.len())
}

/// Writes every project, with names and value figures, as CSV.
pub async fn export_projects(store: &Store, out: impl std::io::Write) -> Result<usize, String> {
    let projects = all_projects(store).await.map_err(|e| e.to_string())?;
    let contacts = all_contacts(store).await.map_err(|e| e.to_string())?;
    sheets::write_projects(out, &projects, &contacts).map_err(|e| e.to_string())?;
    Ok(projects.len())
}
