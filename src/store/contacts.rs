//! Contacts (the CRM records of clients and experts).

use sqlx::{AnyConnection, FromRow};

use super::audit::{self, AuditEntry};
use super::codec::{from_json, now, parse_col, parse_ts, to_json, ts};
use super::identity::Reopened;
use super::{Backend, Store, StoreError, outbox};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::contact::{Contact, ContactKind, ContactPatchInput, Email, NewContact, TaxId};
use crate::domain::identity::{self, IdentityChange};
use crate::domain::ids::ContactId;
use crate::domain::lifecycle::Effect;
use crate::domain::validation::FieldError;

pub(crate) const CONTACT_COLUMNS: &str = "c.id, c.kind, c.full_name, c.email, c.phone, c.legal_name, c.tax_id, c.properties, c.crm_ref, c.atlassian_account_id, c.created_at, c.updated_at";

#[derive(FromRow)]
pub(crate) struct ContactRow {
    id: String,
    kind: String,
    full_name: String,
    email: String,
    phone: Option<String>,
    legal_name: Option<String>,
    tax_id: Option<String>,
    properties: String,
    crm_ref: Option<String>,
    atlassian_account_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        let corrupt =
            |e: FieldError| StoreError::Corrupt(format!("contacts.{}: {}", e.field, e.message));
        Ok(Contact {
            id: parse_col("contacts.id", &r.id)?,
            kind: parse_col("contacts.kind", &r.kind)?,
            full_name: r.full_name,
            email: Email::parse(&r.email).map_err(corrupt)?,
            phone: r.phone,
            legal_name: r.legal_name,
            tax_id: r
                .tax_id
                .as_deref()
                .map(TaxId::parse)
                .transpose()
                .map_err(corrupt)?,
            properties: from_json("contacts.properties", &r.properties)?,
            crm_ref: r.crm_ref,
            atlassian_account_id: r.atlassian_account_id,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

/// Inserts a contact inside a caller's transaction, mapping a taken e-mail to a
/// clear duplicate error.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    new: &NewContact,
    actor: &Actor,
) -> Result<Contact, StoreError> {
    let at = now();
    let contact = Contact {
        id: ContactId::new(),
        kind: new.kind,
        full_name: new.full_name.clone(),
        email: new.email.clone(),
        phone: new.phone.clone(),
        legal_name: new.legal_name.clone(),
        tax_id: new.tax_id.clone(),
        properties: Default::default(),
        crm_ref: None,
        atlassian_account_id: new.atlassian_account_id.clone(),
        created_at: at,
        updated_at: at,
    };
    sqlx::query(
        "INSERT INTO contacts (id, kind, full_name, email, phone, legal_name, tax_id, properties, crm_ref, atlassian_account_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $10, $9, $9)",
    )
    .bind(contact.id.to_string())
    .bind(contact.kind.as_str())
    .bind(contact.full_name.clone())
    .bind(contact.email.to_string())
    .bind(contact.phone.clone())
    .bind(contact.legal_name.clone())
    .bind(contact.tax_id.as_ref().map(|t| t.as_str().to_owned()))
    .bind(to_json(&contact.properties))
    .bind(ts(at))
    .bind(contact.atlassian_account_id.clone())
    .execute(&mut *conn)
    .await
    .map_err(|e| email_taken(e, &contact.email))?;
    let entry = AuditEntry::change(EntityKind::Contact, contact.id, actor, "create")
        .with_details(serde_json::json!({ "kind": contact.kind }));
    audit::append(conn, entry, at).await?;
    sync_to_crm(conn, contact.id, at).await?;
    Ok(contact)
}

/// The contact with this e-mail (stored lowercased), inside a transaction.
pub(crate) async fn fetch_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<Contact>, StoreError> {
    let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.email = $1"
    )))
    .bind(email.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.map(Contact::try_from).transpose()
}

/// Queues the contact's upsert in the CRM, in the same transaction as the change.
pub(crate) async fn sync_to_crm(
    conn: &mut AnyConnection,
    contact: ContactId,
    at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let effect = Effect::CrmUpsertContact {
        contact,
        project: None,
    };
    outbox::enqueue_for_contact(conn, contact, std::slice::from_ref(&effect), at).await
}

fn email_taken(e: sqlx::Error, email: &Email) -> StoreError {
    match StoreError::from(e) {
        StoreError::Duplicate(_) => {
            StoreError::Duplicate(format!("a contact with e-mail {email} already exists"))
        }
        other => other,
    }
}

pub(crate) async fn fetch(conn: &mut AnyConnection, id: ContactId) -> Result<Contact, StoreError> {
    let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.ok_or_else(|| StoreError::not_found("contact", id))?
        .try_into()
}

/// A contact changed, the identity fields that changed, and what that re-opened.
#[derive(Clone, Debug)]
pub struct ContactChange {
    pub contact: Contact,
    pub changes: Vec<IdentityChange>,
    pub reopened: Reopened,
}

/// Applies a validated patch inside a caller's transaction: the row, the
/// audit event with each identity field's old and new value, the CRM sync,
/// and the approvals that rested on the old values re-opened.
pub(crate) async fn apply_change(
    conn: &mut AnyConnection,
    backend: Backend,
    id: ContactId,
    patch: &ContactPatchInput,
    actor: &Actor,
    sync: bool,
) -> Result<ContactChange, StoreError> {
    let before = fetch(conn, id).await?;
    let mut contact = before.clone();
    contact.apply_patch(patch)?;
    contact.updated_at = now();
    sqlx::query(
        "UPDATE contacts SET full_name = $1, email = $2, phone = $3, legal_name = $4, tax_id = $5, updated_at = $6,
             atlassian_account_id = $8
         WHERE id = $7",
    )
    .bind(contact.full_name.clone())
    .bind(contact.email.to_string())
    .bind(contact.phone.clone())
    .bind(contact.legal_name.clone())
    .bind(contact.tax_id.as_ref().map(|t| t.as_str().to_owned()))
    .bind(ts(contact.updated_at))
    .bind(id.to_string())
    .bind(contact.atlassian_account_id.clone())
    .execute(&mut *conn)
    .await
    .map_err(|e| email_taken(e, &contact.email))?;
    let changes = identity::changes(&before, &contact);
    let entry = AuditEntry::change(EntityKind::Contact, id, actor, "update")
        .with_details(serde_json::json!({ "changes": changes }));
    audit::append(conn, entry, contact.updated_at).await?;
    if sync {
        sync_to_crm(conn, id, contact.updated_at).await?;
    }
    let reopened = if changes.is_empty() {
        Reopened::default()
    } else {
        super::identity::reopen(conn, backend, &before, &changes, actor).await?
    };
    Ok(ContactChange {
        contact,
        changes,
        reopened,
    })
}

impl Store {
    /// Records the contact's id in the external CRM.
    pub async fn set_contact_crm_ref(
        &self,
        id: ContactId,
        crm_ref: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE contacts SET crm_ref = $1 WHERE id = $2")
            .bind(crm_ref.to_owned())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_contact(
        &self,
        new: &NewContact,
        actor: &Actor,
    ) -> Result<Contact, StoreError> {
        let mut tx = self.begin_write().await?;
        let contact = insert(&mut tx, new, actor).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(contact)
    }

    pub async fn contact(&self, id: ContactId) -> Result<Contact, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch(&mut conn, id).await
    }

    /// Contacts of one kind (or all), oldest first, paged by id.
    pub async fn list_contacts(
        &self,
        kind: Option<ContactKind>,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<Contact>, StoreError> {
        let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c
             WHERE ($1 IS NULL OR c.kind = $1) AND ($2 IS NULL OR c.id > $2)
             ORDER BY c.id LIMIT $3"
        )))
        .bind(kind.map(|k| k.as_str()))
        .bind(after.map(|a| a.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Contact::try_from).collect()
    }

    /// Contacts of `kind` whose name, e-mail, company or tax id contains
    /// `query` (ignoring ASCII case), by name.
    pub async fn search_contacts(
        &self,
        kind: Option<ContactKind>,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Contact>, StoreError> {
        let pattern = format!(
            "%{}%",
            query
                .trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c
             WHERE ($1 IS NULL OR c.kind = $1)
               AND (LOWER(c.full_name) LIKE $2 ESCAPE '\\' OR LOWER(c.email) LIKE $2 ESCAPE '\\'
                    OR LOWER(COALESCE(c.legal_name, '')) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(c.tax_id, '')) LIKE $2 ESCAPE '\\')
             ORDER BY c.full_name, c.id LIMIT $3"
        )))
        .bind(kind.map(|k| k.as_str()))
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Contact::try_from).collect()
    }

    /// Applies a partial update; an invalid field changes nothing. The CRM
    /// gets the new values through the outbox.
    pub async fn update_contact(
        &self,
        id: ContactId,
        patch: &ContactPatchInput,
        actor: &Actor,
    ) -> Result<ContactChange, StoreError> {
        self.change_contact(id, patch, actor, true).await
    }

    /// Applies a change made in the CRM itself: the same update, without
    /// sending it back there.
    pub async fn apply_crm_change(
        &self,
        id: ContactId,
        patch: &ContactPatchInput,
        actor: &Actor,
    ) -> Result<ContactChange, StoreError> {
        self.change_contact(id, patch, actor, false).await
    }

    /// Imports contacts (experts with their profile) in one transaction: all
    /// of them, or, when any e-mail is taken already, none, with the index of
    /// every row that could not be imported and why.
    pub async fn import_contacts(
        &self,
        rows: &[(NewContact, Option<crate::domain::expert::ExpertProfile>)],
        actor: &Actor,
    ) -> Result<usize, Vec<(usize, String)>> {
        let failed = |e: StoreError| vec![(0, e.to_string())];
        let mut tx = self.begin_write().await.map_err(failed)?;
        let mut taken = Vec::new();
        for (i, (contact, _)) in rows.iter().enumerate() {
            if fetch_by_email(&mut tx, contact.email.as_str())
                .await
                .map_err(failed)?
                .is_some()
            {
                taken.push((
                    i,
                    format!("a contact with e-mail {} exists already", contact.email),
                ));
            }
        }
        if !taken.is_empty() {
            return Err(taken);
        }
        for (i, (contact, profile)) in rows.iter().enumerate() {
            let created = insert(&mut tx, contact, actor)
                .await
                .map_err(|e| vec![(i, e.to_string())])?;
            if let Some(profile) = profile {
                super::experts::write_profile(&mut tx, created.id, profile, true)
                    .await
                    .map_err(|e| vec![(i, e.to_string())])?;
            }
        }
        tx.commit().await.map_err(failed)?;
        self.wake_outbox();
        Ok(rows.len())
    }

    /// Queues a read-back of the contact from the CRM, unless one is already
    /// waiting; `false` when it was.
    pub async fn queue_crm_pull(&self, id: ContactId) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let waiting: Option<(i64,)> = sqlx::query_as(
            "SELECT seq FROM outbox WHERE scope = $1 AND kind = 'crm_pull_contact' AND status = 'pending' LIMIT 1",
        )
        .bind(format!("contact:{id}"))
        .fetch_optional(&mut *tx)
        .await?;
        if waiting.is_some() {
            return Ok(false);
        }
        let effect = Effect::CrmPullContact { contact: id };
        outbox::enqueue_for_contact(&mut tx, id, std::slice::from_ref(&effect), now()).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(true)
    }

    /// The contact an external CRM knows by `crm_ref`.
    pub async fn contact_by_crm_ref(&self, crm_ref: &str) -> Result<Option<Contact>, StoreError> {
        let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.crm_ref = $1"
        )))
        .bind(crm_ref.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.map(Contact::try_from).transpose()
    }

    async fn change_contact(
        &self,
        id: ContactId,
        patch: &ContactPatchInput,
        actor: &Actor,
        sync: bool,
    ) -> Result<ContactChange, StoreError> {
        let mut tx = self.begin_write().await?;
        let change = apply_change(&mut tx, self.backend, id, patch, actor, sync).await?;
        tx.commit().await?;
        self.after_contact_change(&change);
        Ok(change)
    }

    /// Wakes this process's workers for what a committed change queued.
    pub(crate) fn after_contact_change(&self, change: &ContactChange) {
        self.wake_outbox();
        if !change.reopened.documents.is_empty() {
            self.verification_signal.notify_waiters();
        }
    }
}
