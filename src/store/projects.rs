//! Projects and their lifecycle transitions. A transition is decided by the pure
//! domain inside a write transaction, and stored there together with its audit
//! event and the side effects it asks for (the outbox), so they stand or fall
//! together.

use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::audit::{self, AuditEntry};
use super::codec::{
    from_json, from_opt_json, now, parse_col, parse_opt_col, parse_opt_ts, parse_ts, to_json, ts,
};
use super::{Backend, Store, StoreError, contacts, experts, outbox};
use crate::domain::actor::{Actor, Role};
use crate::domain::audit::EntityKind;
use crate::domain::contact::ContactKind;
use crate::domain::document::{DocumentStatus, DocumentType, RequiredDocument, outstanding};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::lifecycle::{
    self, Assignment, Command, Effect, ExpertFacts, Facts, ProjectState, Transition,
    TransitionError,
};
use crate::domain::metrics::{self, Baseline, Outcome};
use crate::domain::project::{NewProject, Project};
use crate::domain::validation::{Reason, ValidationErrors};

const PROJECT_SELECT: &str =
    "SELECT id, client_id, title, spec, skills, industry, required_documents, state, expert_id,
        baseline, outcome, intake, tracker_ref, board_ref, crm_ref, task_ref, version, created_at, updated_at
     FROM projects";

#[derive(FromRow)]
struct ProjectRow {
    id: String,
    client_id: String,
    title: String,
    spec: String,
    skills: String,
    industry: Option<String>,
    required_documents: String,
    state: String,
    expert_id: Option<String>,
    baseline: Option<String>,
    outcome: Option<String>,
    intake: String,
    tracker_ref: Option<String>,
    task_ref: Option<String>,
    board_ref: Option<String>,
    crm_ref: Option<String>,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            id: parse_col("projects.id", &r.id)?,
            client_id: parse_col("projects.client_id", &r.client_id)?,
            title: r.title,
            spec: r.spec,
            skills: from_json("projects.skills", &r.skills)?,
            industry: from_opt_json("projects.industry", r.industry.as_deref())?,
            required_documents: from_json("projects.required_documents", &r.required_documents)?,
            state: parse_col("projects.state", &r.state)?,
            expert_id: parse_opt_col("projects.expert_id", r.expert_id.as_deref())?,
            baseline: from_opt_json("projects.baseline", r.baseline.as_deref())?,
            outcome: from_opt_json("projects.outcome", r.outcome.as_deref())?,
            intake: from_json("projects.intake", &r.intake)?,
            tracker_ref: r.tracker_ref,
            task_ref: r.task_ref,
            board_ref: r.board_ref,
            crm_ref: r.crm_ref,
            version: r.version,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

/// Which projects to list; `client` and `expert` narrow to one person's view.
#[derive(Clone, Debug, Default)]
pub struct ProjectFilter {
    pub state: Option<ProjectState>,
    pub client: Option<ContactId>,
    pub expert: Option<ContactId>,
    pub after: Option<ProjectId>,
    pub limit: u32,
}

impl ProjectFilter {
    /// Narrows the filter to what `actor` may see: a client's own projects,
    /// an expert's offered or held ones; staff see all.
    pub fn seen_by(mut self, actor: &Actor) -> Self {
        if let Actor::Person(p) = actor {
            match p.role {
                Role::Client => self.client = p.contact,
                Role::Expert => self.expert = p.contact,
                Role::Operator | Role::Admin => {}
            }
        }
        self
    }
}

/// The transitions one command caused: the one asked for, then any that
/// followed automatically (for example `activate` once nothing is outstanding).
#[derive(Clone, Debug)]
pub struct TransitionOutcome {
    pub project: Project,
    pub transitions: Vec<Transition>,
}

/// Reads a project inside a write transaction, locking its row on PostgreSQL so
/// a concurrent transition waits and then sees the new state.
pub(crate) async fn fetch_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: ProjectId,
) -> Result<Project, StoreError> {
    let sql = match backend {
        Backend::Sqlite => format!("{PROJECT_SELECT} WHERE id = $1"),
        Backend::Postgres => format!("{PROJECT_SELECT} WHERE id = $1 FOR UPDATE"),
    };
    let row: Option<ProjectRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.ok_or_else(|| StoreError::not_found("project", id))?
        .try_into()
}

/// Projects an expert is offered or holds (any non-terminal state).
pub(crate) async fn ids_held_by(
    conn: &mut AnyConnection,
    expert: ContactId,
) -> Result<Vec<ProjectId>, StoreError> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM projects WHERE expert_id = $1 ORDER BY id")
            .bind(expert.to_string())
            .fetch_all(conn)
            .await?;
    ids.iter()
        .map(|(id,)| parse_col("projects.id", id))
        .collect()
}

/// Gathers what the gates need. `offered` names the expert of an offer being
/// decided; otherwise the facts are about the expert holding the project.
async fn facts(
    conn: &mut AnyConnection,
    backend: Backend,
    project: &Project,
    offered: Option<ContactId>,
) -> Result<Facts, StoreError> {
    let expert = match offered.or(project.expert_id) {
        Some(id) => expert_facts(conn, backend, project.id, id, offered.is_some()).await?,
        None => None,
    };
    let documents = required_documents(conn, project.id).await?;
    Ok(Facts {
        expert,
        baseline_recorded: project.baseline.is_some(),
        outcome_recorded: project.outcome.is_some(),
        documents_outstanding: outstanding(&project.required_documents, &documents),
    })
}

async fn decide(
    conn: &mut AnyConnection,
    backend: Backend,
    project: &Project,
    command: Command,
    actor: &Actor,
) -> Result<Result<Transition, TransitionError>, StoreError> {
    let offered = match &command {
        Command::Offer { expert } => Some(*expert),
        _ => None,
    };
    let facts = facts(conn, backend, project, offered).await?;
    Ok(lifecycle::decide(
        project.state,
        project.expert_id,
        command,
        actor,
        &facts,
        &project.required_documents,
    ))
}

async fn expert_facts(
    conn: &mut AnyConnection,
    backend: Backend,
    project: ProjectId,
    id: ContactId,
    lock: bool,
) -> Result<Option<ExpertFacts>, StoreError> {
    let Some(expert) = experts::fetch(conn, backend, id, lock).await? else {
        return Ok(None);
    };
    let (declined,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM project_declines WHERE project_id = $1 AND expert_id = $2",
    )
    .bind(project.to_string())
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(ExpertFacts {
        id,
        vetting: expert.profile.vetting,
        load: expert.load,
        capacity: expert.profile.capacity,
        declined_before: declined > 0,
    }))
}

/// Decides `command` with the domain and stores it, then takes every automatic
/// transition that follows (e.g. `activate` once nothing is outstanding).
pub(crate) async fn run_command(
    conn: &mut AnyConnection,
    backend: Backend,
    project: &mut Project,
    command: Command,
    actor: &Actor,
) -> Result<Vec<Transition>, StoreError> {
    let first = decide(conn, backend, project, command, actor).await??;
    apply(conn, project, &first, actor).await?;
    let mut done = vec![first];
    done.extend(run_automatic(conn, backend, project).await?);
    Ok(done)
}

/// Takes, as the agent, each transition the domain asks for by itself while
/// its gates hold.
pub(crate) async fn run_automatic(
    conn: &mut AnyConnection,
    backend: Backend,
    project: &mut Project,
) -> Result<Vec<Transition>, StoreError> {
    let mut done = Vec::new();
    while lifecycle::moves_automatically(project.state) {
        let facts = facts(conn, backend, project, None).await?;
        let Some(command) = lifecycle::automatic_command(project.state, &facts) else {
            break;
        };
        let decided = lifecycle::decide(
            project.state,
            project.expert_id,
            command,
            &Actor::Agent,
            &facts,
            &project.required_documents,
        );
        match decided {
            Ok(t) => {
                apply(conn, project, &t, &Actor::Agent).await?;
                done.push(t);
            }
            Err(TransitionError::GateFailed { .. }) => break,
            Err(other) => return Err(other.into()),
        }
    }
    Ok(done)
}

/// Writes a decided transition: the row (guarded by its version), the decline
/// record, the audit event and the outbox entries.
async fn apply(
    conn: &mut AnyConnection,
    project: &mut Project,
    t: &Transition,
    actor: &Actor,
) -> Result<(), StoreError> {
    let at = now();
    let expert = match t.assignment {
        Assignment::Keep => project.expert_id,
        Assignment::Assign(e) => Some(e),
        Assignment::Unassign => None,
    };
    // When the standing offer was made, for expiry; any other move ends the offer.
    let offered_at = matches!(t.assignment, Assignment::Assign(_)).then(|| ts(at));
    let updated = sqlx::query(
        "UPDATE projects SET state = $1, expert_id = $2, version = version + 1, updated_at = $3, offered_at = $6,
             state_since = CASE WHEN state = $1 THEN state_since ELSE $3 END
         WHERE id = $4 AND version = $5",
    )
    .bind(t.to.as_str())
    .bind(expert.map(|e| e.to_string()))
    .bind(ts(at))
    .bind(project.id.to_string())
    .bind(project.version)
    .bind(offered_at)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict(
            "the project was changed concurrently; reload and retry".into(),
        ));
    }
    if let Some(declined) = t.declined_by {
        sqlx::query(
            "INSERT INTO project_declines (project_id, expert_id, declined_at) VALUES ($1, $2, $3)",
        )
        .bind(project.id.to_string())
        .bind(declined.to_string())
        .bind(ts(at))
        .execute(&mut *conn)
        .await?;
    }
    let effect_kinds: Vec<&str> = t.effects.iter().map(|e| e.kind()).collect();
    let entry = AuditEntry {
        entity: EntityKind::Project,
        entity_id: project.id.to_string(),
        actor,
        action: t.action.as_str(),
        from: Some(t.from.as_str()),
        to: Some(t.to.as_str()),
        reason: t.reason.as_ref().map(Reason::as_str),
        // The expert concerned: the one now holding the project, or the one it left.
        details: serde_json::json!({ "expert_id": expert.or(project.expert_id), "effects": effect_kinds }),
    };
    audit::append(conn, entry, at).await?;
    project.version += 1;
    outbox::enqueue(conn, project.id, project.version, &t.effects, at).await?;
    project.state = t.to;
    project.expert_id = expert;
    project.updated_at = at;
    Ok(())
}

/// Records a new project in `intake` inside the caller's transaction, with
/// its audit event and the intake's side effects.
pub(crate) async fn insert_project(
    conn: &mut AnyConnection,
    new: NewProject,
    actor: &Actor,
) -> Result<Project, StoreError> {
    let client = contacts::fetch(conn, new.client_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => StoreError::Invalid(ValidationErrors::single(
                "client_id",
                format!("no contact with id {}", new.client_id),
            )),
            other => other,
        })?;
    if client.kind != ContactKind::Client {
        return Err(ValidationErrors::single(
            "client_id",
            "must be a client contact, not an expert",
        )
        .into());
    }
    let at = now();
    let project = Project {
        id: ProjectId::new(),
        client_id: new.client_id,
        title: new.title,
        spec: new.spec,
        skills: new.skills,
        industry: new.industry,
        required_documents: new.required_documents,
        state: ProjectState::Intake,
        expert_id: None,
        baseline: None,
        outcome: None,
        intake: new.intake,
        tracker_ref: None,
        task_ref: None,
        board_ref: None,
        crm_ref: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert(&mut *conn, &project).await?;
    for doc_type in &project.required_documents {
        sqlx::query(
            "INSERT INTO project_documents (project_id, doc_type, status) VALUES ($1, $2, $3)",
        )
        .bind(project.id.to_string())
        .bind(doc_type.to_string())
        .bind(DocumentStatus::Missing.as_str())
        .execute(&mut *conn)
        .await?;
    }
    let entry = AuditEntry {
        to: Some(ProjectState::Intake.as_str()),
        ..AuditEntry::change(EntityKind::Project, project.id, actor, "create")
    };
    audit::append(&mut *conn, entry, at).await?;
    let (client_record, effects) = lifecycle::intake_effects(project.client_id, project.id);
    outbox::enqueue_for_contact(
        &mut *conn,
        project.client_id,
        std::slice::from_ref(&client_record),
        at,
    )
    .await?;
    outbox::enqueue(&mut *conn, project.id, project.version, &effects, at).await?;
    Ok(project)
}

impl Store {
    /// Step 1: creates a project in `intake` for an existing client, with its
    /// checklist of required documents, and queues steps 2 and 3 (the CRM
    /// upsert carries the intake answers to the client's profile).
    pub async fn create_project(
        &self,
        new: NewProject,
        actor: &Actor,
    ) -> Result<Project, StoreError> {
        let mut tx = self.begin_write().await?;
        let project = insert_project(&mut tx, new, actor).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(project)
    }

    pub async fn project(&self, id: ProjectId) -> Result<Project, StoreError> {
        let row: Option<ProjectRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PROJECT_SELECT} WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| StoreError::not_found("project", id))?
            .try_into()
    }

    pub async fn list_projects(&self, filter: &ProjectFilter) -> Result<Vec<Project>, StoreError> {
        let rows: Vec<ProjectRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PROJECT_SELECT} WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR client_id = $2)
               AND ($3 IS NULL OR expert_id = $3) AND ($4 IS NULL OR id > $4)
             ORDER BY id LIMIT $5"
        )))
        .bind(filter.state.map(|s| s.as_str()))
        .bind(filter.client.map(|c| c.to_string()))
        .bind(filter.expert.map(|e| e.to_string()))
        .bind(filter.after.map(|a| a.to_string()))
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Project::try_from).collect()
    }

    /// Applies a lifecycle command in one transaction. With `expected_version`
    /// the change is refused (conflict) if anyone changed the project since.
    pub async fn transition_project(
        &self,
        id: ProjectId,
        command: Command,
        actor: &Actor,
        expected_version: Option<i64>,
    ) -> Result<TransitionOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut project = fetch_for_update(&mut tx, self.backend, id).await?;
        check_version(&project, expected_version)?;
        let transitions = run_command(&mut tx, self.backend, &mut project, command, actor).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(TransitionOutcome {
            project,
            transitions,
        })
    }

    /// Step 6: records the value baseline, once the expert has accepted and
    /// until credentialing starts.
    pub async fn record_baseline(
        &self,
        id: ProjectId,
        baseline: Baseline,
        actor: &Actor,
    ) -> Result<Project, StoreError> {
        self.update_metrics(
            id,
            actor,
            "record_baseline",
            metrics::BASELINE_STATES,
            |p| p.baseline = Some(baseline),
        )
        .await
    }

    /// Step 11: records the realised figures; needed before completion.
    pub async fn record_outcome(
        &self,
        id: ProjectId,
        outcome: Outcome,
        actor: &Actor,
    ) -> Result<Project, StoreError> {
        self.update_metrics(id, actor, "record_outcome", metrics::OUTCOME_STATES, |p| {
            p.outcome = Some(outcome)
        })
        .await
    }

    async fn update_metrics(
        &self,
        id: ProjectId,
        actor: &Actor,
        action: &str,
        allowed: &[ProjectState],
        change: impl FnOnce(&mut Project),
    ) -> Result<Project, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut project = fetch_for_update(&mut tx, self.backend, id).await?;
        if !allowed.contains(&project.state) {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            return Err(StoreError::Conflict(format!(
                "`{action}` is possible only in {}; the project is `{}`",
                names.join(", "),
                project.state
            )));
        }
        change(&mut project);
        project.updated_at = now();
        sqlx::query("UPDATE projects SET baseline = $1, outcome = $2, version = version + 1, updated_at = $3 WHERE id = $4")
            .bind(project.baseline.as_ref().map(to_json))
            .bind(project.outcome.as_ref().map(to_json))
            .bind(ts(project.updated_at))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        project.version += 1;
        let details =
            serde_json::json!({ "baseline": project.baseline, "outcome": project.outcome });
        let entry =
            AuditEntry::change(EntityKind::Project, id, actor, action).with_details(details);
        audit::append(&mut tx, entry, project.updated_at).await?;
        // The board record shows the figures (the card exists from acceptance on).
        outbox::enqueue(
            &mut tx,
            id,
            project.version,
            &[Effect::BoardRecordValue],
            project.updated_at,
        )
        .await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(project)
    }
}

fn check_version(project: &Project, expected: Option<i64>) -> Result<(), StoreError> {
    match expected {
        Some(v) if v != project.version => Err(StoreError::Conflict(format!(
            "the project is at version {}, not {v}; reload and retry",
            project.version
        ))),
        _ => Ok(()),
    }
}

async fn insert(conn: &mut AnyConnection, p: &Project) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO projects (id, client_id, title, spec, skills, industry, required_documents, state, expert_id,
            baseline, outcome, intake, tracker_ref, board_ref, crm_ref, version, created_at, updated_at, state_since)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL, $9, NULL, NULL, NULL, $10, $11, $11, $11)",
    )
    .bind(p.id.to_string())
    .bind(p.client_id.to_string())
    .bind(p.title.clone())
    .bind(p.spec.clone())
    .bind(to_json(&p.skills))
    .bind(p.industry.as_ref().map(to_json))
    .bind(to_json(&p.required_documents))
    .bind(p.state.as_str())
    .bind(to_json(&p.intake))
    .bind(p.version)
    .bind(ts(p.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct DocumentRow {
    doc_type: String,
    status: String,
    decided_by: Option<String>,
    comment: Option<String>,
    decided_at: Option<String>,
}

impl TryFrom<DocumentRow> for RequiredDocument {
    type Error = StoreError;
    fn try_from(r: DocumentRow) -> Result<Self, StoreError> {
        Ok(RequiredDocument {
            doc_type: DocumentType::parse("doc_type", &r.doc_type)
                .map_err(|e| StoreError::Corrupt(e.message))?,
            status: parse_col("project_documents.status", &r.status)?,
            decided_by: r.decided_by,
            comment: r.comment,
            decided_at: parse_opt_ts(r.decided_at.as_deref())?,
        })
    }
}

pub(crate) async fn required_documents(
    conn: &mut AnyConnection,
    project: ProjectId,
) -> Result<Vec<RequiredDocument>, StoreError> {
    let rows: Vec<DocumentRow> = sqlx::query_as(
        "SELECT doc_type, status, decided_by, comment, decided_at FROM project_documents WHERE project_id = $1 ORDER BY doc_type",
    )
    .bind(project.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(RequiredDocument::try_from).collect()
}

/// Which external reference of a project a connector reports back.
#[derive(Clone, Copy, Debug)]
pub enum ProjectRef {
    Tracker,
    /// The work task in the tracker.
    Task,
    Board,
    Crm,
}

impl Store {
    /// The project whose board record (card) is `board_ref`.
    pub async fn project_by_board_ref(
        &self,
        board_ref: &str,
    ) -> Result<Option<ProjectId>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM projects WHERE board_ref = $1")
            .bind(board_ref.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(id,)| parse_col("projects.id", &id)).transpose()
    }

    /// The project's required documents, in its order, with their status.
    pub async fn project_documents(
        &self,
        id: ProjectId,
    ) -> Result<Vec<RequiredDocument>, StoreError> {
        let project = self.project(id).await?;
        let mut conn = self.pool.acquire().await?;
        let rows = required_documents(&mut conn, id).await?;
        Ok(project
            .required_documents
            .iter()
            .map(|t| {
                rows.iter()
                    .find(|r| &r.doc_type == t)
                    .cloned()
                    .unwrap_or(RequiredDocument {
                        doc_type: t.clone(),
                        status: DocumentStatus::Missing,
                        decided_by: None,
                        comment: None,
                        decided_at: None,
                    })
            })
            .collect())
    }

    /// Withdraws, as the agent, every offer older than `ttl` (step 4: an offer
    /// can expire). Returns the projects sent back to matching; a project that
    /// cannot be moved is logged and left for the next sweep.
    pub async fn expire_offers(
        &self,
        ttl: std::time::Duration,
    ) -> Result<Vec<(ProjectId, Transition)>, StoreError> {
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM projects WHERE state = 'offered' AND offered_at < $1 ORDER BY id",
        )
        .bind(ts(now() - ttl))
        .fetch_all(&self.pool)
        .await?;
        let reason = Reason::parse(&format!(
            "the offer expired after {} without an answer",
            duration_text(ttl)
        ))
        .map_err(|e| StoreError::Corrupt(e.message))?;
        let mut out = Vec::new();
        for (id,) in due {
            let id: ProjectId = parse_col("projects.id", &id)?;
            match self.expire_offer(id, &reason).await {
                Ok(done) => out.extend(done.into_iter().map(|t| (id, t))),
                Err(error) => {
                    tracing::warn!(project = %id, %error, "could not withdraw an expired offer")
                }
            }
        }
        Ok(out)
    }

    async fn expire_offer(
        &self,
        id: ProjectId,
        reason: &Reason,
    ) -> Result<Vec<Transition>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut project = fetch_for_update(&mut tx, self.backend, id).await?;
        // Re-checked under the lock: the expert may have answered meanwhile.
        if project.state != ProjectState::Offered {
            return Ok(Vec::new());
        }
        let command = Command::WithdrawOffer {
            reason: Some(reason.clone()),
        };
        let done = run_command(&mut tx, self.backend, &mut project, command, &Actor::Agent).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(done)
    }

    /// Records the id a connector gave the project (tracker key, card id, deal id).
    pub async fn set_project_ref(
        &self,
        id: ProjectId,
        which: ProjectRef,
        value: &str,
    ) -> Result<(), StoreError> {
        let sql = match which {
            ProjectRef::Tracker => "UPDATE projects SET tracker_ref = $1 WHERE id = $2",
            ProjectRef::Task => "UPDATE projects SET task_ref = $1 WHERE id = $2",
            ProjectRef::Board => "UPDATE projects SET board_ref = $1 WHERE id = $2",
            ProjectRef::Crm => "UPDATE projects SET crm_ref = $1 WHERE id = $2",
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(sql)
            .bind(value.to_owned())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Experts who declined the project; they are not offered it again.
    pub async fn declined_by(&self, id: ProjectId) -> Result<Vec<ContactId>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT expert_id FROM project_declines WHERE project_id = $1")
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|(e,)| parse_col("project_declines.expert_id", e))
            .collect()
    }
}

/// Marks a non-lifecycle change of the project row (a document decision), so
/// `expected_version` callers notice it.
async fn bump_version(
    conn: &mut AnyConnection,
    project: &mut Project,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE projects SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(ts(at))
        .bind(project.id.to_string())
        .execute(conn)
        .await?;
    project.version += 1;
    project.updated_at = at;
    Ok(())
}

/// "72 h", "30 min", "45 s": a duration as people write it.
fn duration_text(d: std::time::Duration) -> String {
    match d.as_secs() {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Sets the status of one required document of `project` (approved, rejected,
/// or the state of its verification), in the caller's transaction: the audit
/// event, the board checklist tick through the outbox, and whatever automatic
/// transition follows (activation once nothing is outstanding, a block when an
/// approved credential is withdrawn).
pub(crate) async fn decide_required_document(
    conn: &mut AnyConnection,
    backend: Backend,
    project: &mut Project,
    doc_type: &DocumentType,
    status: DocumentStatus,
    comment: Option<&str>,
    actor: &Actor,
) -> Result<Vec<Transition>, StoreError> {
    if !project.required_documents.contains(doc_type) {
        let required: Vec<&str> = project
            .required_documents
            .iter()
            .map(DocumentType::as_str)
            .collect();
        let listed = if required.is_empty() {
            "none".to_owned()
        } else {
            required.join(", ")
        };
        return Err(StoreError::not_found(
            "required document",
            format!("`{doc_type}` (this project requires: {listed})"),
        ));
    }
    if project.state.is_terminal() {
        return Err(StoreError::Conflict(format!(
            "the project is `{}`; its documents are final",
            project.state
        )));
    }
    let at = now();
    sqlx::query("DELETE FROM project_documents WHERE project_id = $1 AND doc_type = $2")
        .bind(project.id.to_string())
        .bind(doc_type.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO project_documents (project_id, doc_type, status, decided_by, comment, decided_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(project.id.to_string())
    .bind(doc_type.to_string())
    .bind(status.as_str())
    .bind(actor.label().to_owned())
    .bind(comment.map(str::to_owned))
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    let action = match status {
        DocumentStatus::Approved => "approve_document",
        DocumentStatus::Rejected => "reject_document",
        DocumentStatus::Expired => "expire_document",
        _ => "document_status",
    };
    let entry = AuditEntry {
        reason: comment,
        ..AuditEntry::change(EntityKind::Project, project.id, actor, action)
    }
    .with_details(serde_json::json!({ "document": doc_type, "status": status }));
    audit::append(conn, entry, at).await?;
    bump_version(conn, project, at).await?;
    if matches!(
        status,
        DocumentStatus::Approved | DocumentStatus::Rejected | DocumentStatus::Expired
    ) {
        let tick = Effect::BoardCheckDocument {
            document: doc_type.clone(),
            approved: status == DocumentStatus::Approved,
        };
        outbox::enqueue(
            conn,
            project.id,
            project.version,
            std::slice::from_ref(&tick),
            at,
        )
        .await?;
    }
    run_automatic(conn, backend, project).await
}
