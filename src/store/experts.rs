//! Expert profiles and their vetting lifecycle.

use std::sync::LazyLock;

use sqlx::{AnyConnection, FromRow};

use super::audit::{self, AuditEntry};
use super::codec::{from_json, now, parse_col, to_json, ts};
use super::contacts::{self, CONTACT_COLUMNS, ContactRow};
use super::projects;
use super::{Backend, Store, StoreError};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::contact::{Contact, ContactKind, NewContact};
use crate::domain::expert::{
    Expert, ExpertProfile, ProfileInput, VettingAction, VettingChange, VettingState, decide_vetting,
};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::lifecycle::{Command, ProjectState, Transition};
use crate::domain::validation::Reason;

/// The states in which a project counts against its expert's capacity; must
/// match `ProjectState::occupies_expert` (checked by a test).
pub(crate) const OCCUPYING_STATES: &str =
    "('offered', 'accepted', 'credentialing', 'active', 'blocked')";

#[derive(FromRow)]
struct ProfileRow {
    skills: String,
    industries: String,
    languages: String,
    hourly_rate: f64,
    capacity: i64,
    rating: Option<f64>,
    vetting: String,
}

impl TryFrom<ProfileRow> for ExpertProfile {
    type Error = StoreError;
    fn try_from(r: ProfileRow) -> Result<Self, StoreError> {
        Ok(ExpertProfile {
            skills: from_json("expert_profiles.skills", &r.skills)?,
            industries: from_json("expert_profiles.industries", &r.industries)?,
            languages: from_json("expert_profiles.languages", &r.languages)?,
            hourly_rate: r.hourly_rate,
            capacity: u32::try_from(r.capacity)
                .map_err(|e| StoreError::Corrupt(format!("capacity: {e}")))?,
            rating: r.rating,
            vetting: parse_col("expert_profiles.vetting", &r.vetting)?,
        })
    }
}

static EXPERT_SELECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {CONTACT_COLUMNS}, p.skills, p.industries, p.languages, p.hourly_rate, p.capacity, p.rating, p.vetting,
            (SELECT COUNT(*) FROM projects pr WHERE pr.expert_id = c.id AND pr.state IN {OCCUPYING_STATES}) AS load
         FROM contacts c JOIN expert_profiles p ON p.contact_id = c.id"
    )
});

#[derive(FromRow)]
struct ExpertRow {
    #[sqlx(flatten)]
    contact: ContactRow,
    #[sqlx(flatten)]
    profile: ProfileRow,
    load: i64,
}

impl TryFrom<ExpertRow> for Expert {
    type Error = StoreError;
    fn try_from(r: ExpertRow) -> Result<Self, StoreError> {
        Ok(Expert {
            contact: r.contact.try_into()?,
            profile: r.profile.try_into()?,
            load: u32::try_from(r.load).unwrap_or(u32::MAX),
        })
    }
}

/// Reads one expert inside a write transaction. With `lock`, on PostgreSQL the
/// profile row is locked first, in its own statement, so two offers cannot both
/// take the expert's last free slot: the load is then counted by a later
/// statement whose snapshot includes whatever the lock waited for. (SQLite's
/// write lock already serialises writers.) Only offers and vetting changes
/// lock, always expert before projects, so the two cannot deadlock.
pub(crate) async fn fetch(
    conn: &mut AnyConnection,
    backend: Backend,
    id: ContactId,
    lock: bool,
) -> Result<Option<Expert>, StoreError> {
    if lock && backend == Backend::Postgres {
        sqlx::query("SELECT contact_id FROM expert_profiles WHERE contact_id = $1 FOR UPDATE")
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let row: Option<ExpertRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} WHERE c.id = $1",
        *EXPERT_SELECT
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Expert::try_from).transpose()
}

pub(crate) async fn write_profile(
    conn: &mut AnyConnection,
    id: ContactId,
    p: &ExpertProfile,
    insert: bool,
) -> Result<(), StoreError> {
    // The optional rating travels as text: sqlx 0.9.0's Any driver sends a
    // NULL f64 as a 4-byte float (any/arguments.rs swaps Real and Double), so
    // PostgreSQL's cached statement then refuses the next real 8-byte value.
    let sql = if insert {
        "INSERT INTO expert_profiles (skills, industries, languages, hourly_rate, capacity, rating, vetting, updated_at, contact_id)
         VALUES ($1, $2, $3, $4, $5, CAST($6 AS DOUBLE PRECISION), $7, $8, $9)"
    } else {
        "UPDATE expert_profiles SET skills = $1, industries = $2, languages = $3, hourly_rate = $4, capacity = $5,
         rating = CAST($6 AS DOUBLE PRECISION), vetting = $7, updated_at = $8 WHERE contact_id = $9"
    };
    sqlx::query(sql)
        .bind(to_json(&p.skills))
        .bind(to_json(&p.industries))
        .bind(to_json(&p.languages))
        .bind(p.hourly_rate)
        .bind(i64::from(p.capacity))
        .bind(p.rating.map(|r| r.to_string()))
        .bind(p.vetting.as_str())
        .bind(ts(now()))
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// What a vetting change did, including the projects it blocked or withdrew.
#[derive(Debug)]
pub struct VettingOutcome {
    pub expert: Expert,
    pub change: VettingChange,
    pub cascaded: Vec<(ProjectId, Transition)>,
}

impl Store {
    /// Creates an applicant expert: a contact of kind `expert` and its profile.
    pub async fn create_expert(
        &self,
        contact: &NewContact,
        profile: &ExpertProfile,
        actor: &Actor,
    ) -> Result<Expert, StoreError> {
        debug_assert_eq!(contact.kind, ContactKind::Expert);
        let mut tx = self.begin_write().await?;
        let created: Contact = contacts::insert(&mut tx, contact, actor).await?;
        write_profile(&mut tx, created.id, profile, true).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(Expert {
            contact: created,
            profile: profile.clone(),
            load: 0,
        })
    }

    pub async fn expert(&self, id: ContactId) -> Result<Expert, StoreError> {
        let row: Option<ExpertRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.id = $1",
            *EXPERT_SELECT
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| StoreError::not_found("expert", id))?
            .try_into()
    }

    /// Experts, optionally in one vetting state, oldest first, paged by id.
    pub async fn list_experts(
        &self,
        vetting: Option<VettingState>,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<Expert>, StoreError> {
        let rows: Vec<ExpertRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE ($1 IS NULL OR p.vetting = $1) AND ($2 IS NULL OR c.id > $2) ORDER BY c.id LIMIT $3",
            *EXPERT_SELECT
        )))
        .bind(vetting.map(|v| v.as_str()))
        .bind(after.map(|a| a.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Expert::try_from).collect()
    }

    /// Every expert in one vetting state (for matching: an agency has hundreds, not millions).
    pub async fn experts_in(&self, vetting: VettingState) -> Result<Vec<Expert>, StoreError> {
        let rows: Vec<ExpertRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE p.vetting = $1 ORDER BY c.id",
            *EXPERT_SELECT
        )))
        .bind(vetting.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Expert::try_from).collect()
    }

    /// Replaces the editable profile fields (skills, rate, capacity, ...).
    pub async fn update_expert_profile(
        &self,
        id: ContactId,
        input: &ProfileInput,
        actor: &Actor,
    ) -> Result<Expert, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut expert = fetch(&mut tx, self.backend, id, true)
            .await?
            .ok_or_else(|| StoreError::not_found("expert", id))?;
        expert.profile = expert.profile.replace(input)?;
        write_profile(&mut tx, id, &expert.profile, false).await?;
        audit::append(
            &mut tx,
            AuditEntry::change(EntityKind::Expert, id, actor, "update_profile"),
            now(),
        )
        .await?;
        tx.commit().await?;
        Ok(expert)
    }

    /// Moves an expert through vetting. Losing vetted status blocks every
    /// active project of theirs (revoking access) and withdraws open offers, in
    /// the same transaction. Vetting an expert whose credentials were all
    /// approved beforehand approves them at once, as the agent.
    pub async fn change_vetting(
        &self,
        id: ContactId,
        action: VettingAction,
        reason: Option<Reason>,
        actor: &Actor,
    ) -> Result<VettingOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut outcome = apply_vetting(&mut tx, self.backend, id, action, reason, actor).await?;
        if outcome.change.to == VettingState::Vetting
            && super::documents::credentials_complete(&mut tx, id).await?
        {
            let approved = apply_vetting(
                &mut tx,
                self.backend,
                id,
                VettingAction::Approve,
                None,
                &Actor::Agent,
            )
            .await?;
            outcome.expert = approved.expert;
        }
        tx.commit().await?;
        self.wake_outbox();
        Ok(outcome)
    }
}

/// Moves an expert through vetting inside the caller's transaction. Losing
/// vetted status blocks every active project of theirs (revoking access) and
/// withdraws open offers.
pub(crate) async fn apply_vetting(
    conn: &mut AnyConnection,
    backend: Backend,
    id: ContactId,
    action: VettingAction,
    reason: Option<Reason>,
    actor: &Actor,
) -> Result<VettingOutcome, StoreError> {
    let mut expert = fetch(conn, backend, id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("expert", id))?;
    let change = decide_vetting(expert.profile.vetting, action, actor, reason)?;
    expert.profile.vetting = change.to;
    write_profile(conn, id, &expert.profile, false).await?;
    let entry = AuditEntry {
        entity: EntityKind::Expert,
        entity_id: id.to_string(),
        actor,
        action: action.as_str(),
        from: Some(change.from.as_str()),
        to: Some(change.to.as_str()),
        reason: change.reason.as_ref().map(Reason::as_str),
        details: serde_json::json!({}),
    };
    audit::append(conn, entry, now()).await?;
    contacts::sync_to_crm(conn, id, now()).await?;
    let cascaded = if change.loses_access() {
        cascade_loss_of_vetting(conn, backend, id, &change).await?
    } else {
        Vec::new()
    };
    let withdrawn = cascaded
        .iter()
        .filter(|(_, t)| t.to == ProjectState::Matching)
        .count() as u32;
    expert.load = expert.load.saturating_sub(withdrawn);
    Ok(VettingOutcome {
        expert,
        change,
        cascaded,
    })
}

async fn cascade_loss_of_vetting(
    conn: &mut AnyConnection,
    backend: Backend,
    expert: ContactId,
    change: &VettingChange,
) -> Result<Vec<(ProjectId, Transition)>, StoreError> {
    let why = format!(
        "expert {}: {}",
        change.to,
        change
            .reason
            .as_ref()
            .map_or("no reason given", Reason::as_str)
    );
    let reason = Reason::parse(&why).map_err(|e| StoreError::Corrupt(e.message))?;
    let mut out = Vec::new();
    for id in projects::ids_held_by(conn, expert).await? {
        let mut project = projects::fetch_for_update(conn, backend, id).await?;
        let command = match project.state {
            ProjectState::Active => Command::Block {
                reason: reason.clone(),
            },
            ProjectState::Offered => Command::WithdrawOffer {
                reason: Some(reason.clone()),
            },
            _ => continue,
        };
        let done =
            projects::run_command(conn, backend, &mut project, command, &Actor::Agent).await?;
        out.extend(done.into_iter().map(|t| (id, t)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn the_occupying_states_in_sql_match_the_domain() {
        let in_sql: Vec<&str> = OCCUPYING_STATES
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        let in_domain: Vec<&str> = ProjectState::VARIANTS
            .iter()
            .filter(|s| s.occupies_expert())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(in_sql, in_domain);
    }
}
