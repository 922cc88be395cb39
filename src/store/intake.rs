//! Intakes from the consultation form: the client's contact (found by e-mail
//! or created), the project, and the response id, in one transaction, once
//! per response.

use sqlx::AnyConnection;

use super::codec::{now, parse_col, parse_opt_ts, ts};
use super::{Store, StoreError, contacts, projects};
use crate::domain::actor::Actor;
use crate::domain::contact::{Contact, ContactKind, NewContact};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::project::{NewProject, Project};
use crate::domain::validation::ValidationErrors;

/// What an intake from the form did.
#[derive(Clone, Debug)]
pub struct FormIntake {
    pub project: Project,
    pub contact: Contact,
    /// False when this response was taken before (the same project returned).
    pub created: bool,
}

async fn known(
    conn: &mut AnyConnection,
    response_id: &str,
) -> Result<Option<(ProjectId, ContactId)>, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT project_id, contact_id FROM form_responses WHERE response_id = $1")
            .bind(response_id.to_owned())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(p, c)| {
        Ok((
            parse_col("form_responses.project_id", &p)?,
            parse_col("form_responses.contact_id", &c)?,
        ))
    })
    .transpose()
}

/// Form responses taken so far, and when the newest arrived.
#[derive(Clone, Debug)]
pub struct FormIntakeStats {
    pub responses: i64,
    pub last_received_at: Option<time::OffsetDateTime>,
}

impl Store {
    pub async fn form_intake_stats(&self) -> Result<FormIntakeStats, StoreError> {
        let (responses, last): (i64, Option<String>) =
            sqlx::query_as("SELECT COUNT(*), MAX(received_at) FROM form_responses")
                .fetch_one(&self.pool)
                .await?;
        Ok(FormIntakeStats {
            responses,
            last_received_at: parse_opt_ts(last.as_deref())?,
        })
    }

    /// Takes one form response as an intake. `project` builds the project for
    /// the client once their id is known; a validation error there leaves
    /// nothing behind, not even a new contact.
    pub async fn record_form_intake(
        &self,
        response_id: &str,
        form_id: Option<&str>,
        contact: &NewContact,
        project: impl FnOnce(ContactId) -> Result<NewProject, ValidationErrors>,
        actor: &Actor,
    ) -> Result<FormIntake, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some((project_id, contact_id)) = known(&mut tx, response_id).await? {
            tx.commit().await?;
            return Ok(FormIntake {
                project: self.project(project_id).await?,
                contact: self.contact(contact_id).await?,
                created: false,
            });
        }
        let client = match contacts::fetch_by_email(&mut tx, contact.email.as_str()).await? {
            Some(existing) if existing.kind != ContactKind::Client => {
                return Err(ValidationErrors::single(
                    "email",
                    format!("{} belongs to an expert, not a client", contact.email),
                )
                .into());
            }
            Some(existing) => existing,
            None => contacts::insert(&mut tx, contact, actor).await?,
        };
        let new = project(client.id)?;
        let project = projects::insert_project(&mut tx, new, actor).await?;
        sqlx::query(
            "INSERT INTO form_responses (response_id, form_id, project_id, contact_id, received_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(response_id.to_owned())
        .bind(form_id.map(str::to_owned))
        .bind(project.id.to_string())
        .bind(client.id.to_string())
        .bind(ts(now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(FormIntake {
            project,
            contact: client,
            created: true,
        })
    }
}
