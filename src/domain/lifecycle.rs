//! The project lifecycle (design §3) as one pure table: states, actions, who may
//! take them, the gates that must hold, and the side effects each transition asks
//! for. Side effects are data here; the outbox delivers them.

use serde::{Deserialize, Serialize};
use strum::VariantArray;

use super::actor::{Actor, Role};
use super::document::DocumentType;
use super::expert::VettingState;
use super::ids::{ContactId, MessageId, ProjectId, TicketId};
use super::validation::{Reason, ValidationErrors};

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
pub enum ProjectState {
    /// Step 1: the consultation form was filled in.
    Intake,
    /// Step 4: looking for an expert.
    Matching,
    /// Step 4: offered to one expert, waiting for an answer.
    Offered,
    /// Step 5: the expert accepted; board record and task exist.
    Accepted,
    /// Step 7: waiting for the client's credentialing documents.
    Credentialing,
    /// Step 8: the expert has tracker access and works.
    Active,
    /// Step 10: stopped by an operator or automatically; access revoked.
    Blocked,
    /// Step 11: work done, final metrics recorded.
    Completed,
    /// Step 11: exported, tracker project deleted, key data kept.
    Archived,
    /// Stopped before work began.
    Cancelled,
}

impl ProjectState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// No action leaves these states.
    pub fn is_terminal(self) -> bool {
        matches!(self, ProjectState::Archived | ProjectState::Cancelled)
    }

    /// The board record exists from acceptance on (created by `accept`).
    /// Whether the project has a board record (a card): from acceptance on.
    pub fn has_board_record(self) -> bool {
        matches!(
            self,
            ProjectState::Accepted
                | ProjectState::Credentialing
                | ProjectState::Active
                | ProjectState::Blocked
                | ProjectState::Completed
        )
    }

    /// An expert is offered the project or holds it, so it counts against capacity.
    pub fn occupies_expert(self) -> bool {
        matches!(
            self,
            ProjectState::Offered
                | ProjectState::Accepted
                | ProjectState::Credentialing
                | ProjectState::Active
                | ProjectState::Blocked
        )
    }
}

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
pub enum Action {
    StartMatching,
    Offer,
    WithdrawOffer,
    Accept,
    Decline,
    StartCredentialing,
    Activate,
    Block,
    Unblock,
    Complete,
    Archive,
    Cancel,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The transition table: where `action` leads from `state`, if anywhere.
pub fn target(state: ProjectState, action: Action) -> Option<ProjectState> {
    use Action as A;
    use ProjectState as S;
    match (state, action) {
        (S::Intake, A::StartMatching) => Some(S::Matching),
        (S::Matching, A::Offer) => Some(S::Offered),
        (S::Offered, A::Accept) => Some(S::Accepted),
        (S::Offered, A::Decline | A::WithdrawOffer) => Some(S::Matching),
        (S::Accepted, A::StartCredentialing) => Some(S::Credentialing),
        (S::Credentialing, A::Activate) => Some(S::Active),
        (S::Active, A::Block) => Some(S::Blocked),
        (S::Blocked, A::Unblock) => Some(S::Active),
        (S::Active, A::Complete) => Some(S::Completed),
        (S::Completed, A::Archive) => Some(S::Archived),
        (S::Intake | S::Matching | S::Offered | S::Accepted | S::Credentialing, A::Cancel) => {
            Some(S::Cancelled)
        }
        _ => None,
    }
}

/// Every action the table allows from `state`, in declaration order.
pub fn allowed_actions(state: ProjectState) -> Vec<Action> {
    Action::VARIANTS
        .iter()
        .copied()
        .filter(|a| target(state, *a).is_some())
        .collect()
}

/// What `actor` may do next with a project in `state` held by (or offered
/// to) `expert`: the actions the API lists and the pages offer.
pub fn actions_for(actor: &Actor, state: ProjectState, expert: Option<ContactId>) -> Vec<Action> {
    allowed_actions(state)
        .into_iter()
        .filter(|a| may_take(actor, *a, expert))
        .collect()
}

/// Whether `actor` may ever take `action` on a project whose expert is `expert`.
/// Experts act only on offers made to them; the agent only does what automation needs.
pub fn may_take(actor: &Actor, action: Action, expert: Option<ContactId>) -> bool {
    use Action as A;
    match actor {
        Actor::Agent => matches!(action, A::Activate | A::Block | A::WithdrawOffer),
        Actor::Integration { .. } => false,
        Actor::Person(p) => match p.role {
            Role::Operator | Role::Admin => !matches!(action, A::Accept | A::Decline | A::Activate),
            Role::Expert => {
                matches!(action, A::Accept | A::Decline)
                    && p.contact.is_some()
                    && p.contact == expert
            }
            Role::Client => false,
        },
    }
}

/// An action with the input it needs, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    StartMatching,
    Offer { expert: ContactId },
    WithdrawOffer { reason: Option<Reason> },
    Accept,
    Decline { reason: Option<Reason> },
    StartCredentialing,
    Activate,
    Block { reason: Reason },
    Unblock { reason: Reason },
    Complete,
    Archive,
    Cancel { reason: Reason },
}

impl Command {
    /// Builds a command from the raw request, naming each missing input.
    pub fn parse(
        action: Action,
        expert: Option<ContactId>,
        reason: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let reason = match reason.map(Reason::parse).transpose() {
            Ok(r) => r,
            Err(e) => return Err(ValidationErrors(vec![e])),
        };
        let required = |r: Option<Reason>| {
            r.ok_or_else(|| {
                ValidationErrors::single("reason", format!("is required to `{action}`"))
            })
        };
        Ok(match action {
            Action::StartMatching => Command::StartMatching,
            Action::Offer => Command::Offer {
                expert: expert.ok_or_else(|| {
                    ValidationErrors::single("expert_id", "is required to `offer`")
                })?,
            },
            Action::WithdrawOffer => Command::WithdrawOffer { reason },
            Action::Accept => Command::Accept,
            Action::Decline => Command::Decline { reason },
            Action::StartCredentialing => Command::StartCredentialing,
            Action::Activate => Command::Activate,
            Action::Block => Command::Block {
                reason: required(reason)?,
            },
            Action::Unblock => Command::Unblock {
                reason: required(reason)?,
            },
            Action::Complete => Command::Complete,
            Action::Archive => Command::Archive,
            Action::Cancel => Command::Cancel {
                reason: required(reason)?,
            },
        })
    }

    pub fn action(&self) -> Action {
        match self {
            Command::StartMatching => Action::StartMatching,
            Command::Offer { .. } => Action::Offer,
            Command::WithdrawOffer { .. } => Action::WithdrawOffer,
            Command::Accept => Action::Accept,
            Command::Decline { .. } => Action::Decline,
            Command::StartCredentialing => Action::StartCredentialing,
            Command::Activate => Action::Activate,
            Command::Block { .. } => Action::Block,
            Command::Unblock { .. } => Action::Unblock,
            Command::Complete => Action::Complete,
            Command::Archive => Action::Archive,
            Command::Cancel { .. } => Action::Cancel,
        }
    }

    fn reason(&self) -> Option<&Reason> {
        match self {
            Command::WithdrawOffer { reason } | Command::Decline { reason } => reason.as_ref(),
            Command::Block { reason }
            | Command::Unblock { reason }
            | Command::Cancel { reason } => Some(reason),
            _ => None,
        }
    }
}

/// What the gates need to know about the expert concerned: the one being offered
/// the project, or the one holding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpertFacts {
    pub id: ContactId,
    pub vetting: VettingState,
    /// Projects the expert is offered or holds now, this one excluded.
    pub load: u32,
    pub capacity: u32,
    /// The expert declined this project before; it is not offered to them again.
    pub declined_before: bool,
}

/// Everything outside the project row that a gate looks at, gathered by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub expert: Option<ExpertFacts>,
    pub baseline_recorded: bool,
    pub outcome_recorded: bool,
    /// Required documents not approved yet.
    pub documents_outstanding: Vec<DocumentType>,
}

/// A hard gate of the lifecycle table.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    utoipa::ToSchema,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Gate {
    ExpertExists,
    ExpertVetted,
    ExpertHasCapacity,
    ExpertDidNotDecline,
    BaselineRecorded,
    DocumentsApproved,
    OutcomeRecorded,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{actor} may not `{action}` this project")]
    Forbidden { action: Action, actor: &'static str },
    #[error(
        "a project in `{state}` cannot `{action}`; allowed: {}",
        super::names(allowed)
    )]
    NotAllowed {
        state: ProjectState,
        action: Action,
        allowed: Vec<Action>,
    },
    #[error("gate `{gate}` does not hold: {message}")]
    GateFailed { gate: Gate, message: String },
}

fn gate(gate: Gate, message: impl Into<String>) -> TransitionError {
    TransitionError::GateFailed {
        gate,
        message: message.into(),
    }
}

/// Why an expert is told something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpertNotice {
    Offered,
    OfferWithdrawn,
}

/// A side effect a transition asks for, delivered later through a connector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Step 2: upsert the client in the CRM, intake answers appended.
    CrmUpsertContact {
        contact: ContactId,
        /// The project whose intake answers to append, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project: Option<ProjectId>,
    },
    /// Mirror the project's state on its CRM deal.
    CrmSyncDeal { state: ProjectState },
    /// Read the contact back from the CRM after a change made there (queued
    /// behind the contact's own pending updates, so a local edit wins).
    CrmPullContact { contact: ContactId },
    /// Step 3: a tracker project, locked (no expert access).
    TrackerCreateProject,
    /// Step 5: the work task linked to the tracker project.
    TrackerCreateTask,
    /// Keep the work task's status in step with the project (in progress while
    /// active, done when completed).
    TrackerMoveTask { state: ProjectState },
    /// Step 8: the expert becomes a member of the tracker project.
    TrackerGrantAccess { expert: ContactId },
    /// Steps 10-11: the expert stops being a member.
    TrackerRevokeAccess { expert: ContactId },
    /// The expert's e-mail or Atlassian account changed: the account access
    /// was granted to before (found from these old values) stops being a member.
    TrackerRevokeFormerAccount {
        expert: ContactId,
        email: String,
        atlassian_account_id: Option<String>,
    },
    /// Step 11: export the tracker project and attach it to the board record.
    TrackerExportToBoard,
    /// Step 11: delete the tracker project, after the export is stored.
    TrackerDeleteProject,
    /// Step 5: the board record (card) for the project.
    BoardCreateRecord,
    /// Keep the board card in the list named after the state.
    BoardMoveCard { state: ProjectState },
    /// Step 7: a checklist of the documents the client must provide.
    BoardDocumentChecklist { documents: Vec<DocumentType> },
    /// Step 8: tick (or untick) one document on the checklist as it is decided.
    BoardCheckDocument {
        document: DocumentType,
        approved: bool,
    },
    /// Steps 6 and 11: show the project's current value figures on its record.
    BoardRecordValue,
    /// Step 9: mirror a helpdesk message on the board record.
    BoardComment {
        ticket: TicketId,
        message: MessageId,
    },
    NotifyExpert {
        expert: ContactId,
        notice: ExpertNotice,
    },
}

impl Effect {
    /// A stable name for logs, metrics and the outbox `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::CrmUpsertContact { .. } => "crm_upsert_contact",
            Effect::CrmSyncDeal { .. } => "crm_sync_deal",
            Effect::CrmPullContact { .. } => "crm_pull_contact",
            Effect::TrackerCreateProject => "tracker_create_project",
            Effect::TrackerCreateTask => "tracker_create_task",
            Effect::TrackerMoveTask { .. } => "tracker_move_task",
            Effect::TrackerGrantAccess { .. } => "tracker_grant_access",
            Effect::TrackerRevokeAccess { .. } => "tracker_revoke_access",
            Effect::TrackerRevokeFormerAccount { .. } => "tracker_revoke_former_account",
            Effect::TrackerExportToBoard => "tracker_export_to_board",
            Effect::TrackerDeleteProject => "tracker_delete_project",
            Effect::BoardCreateRecord => "board_create_record",
            Effect::BoardMoveCard { .. } => "board_move_card",
            Effect::BoardDocumentChecklist { .. } => "board_document_checklist",
            Effect::BoardCheckDocument { .. } => "board_check_document",
            Effect::BoardRecordValue => "board_record_value",
            Effect::BoardComment { .. } => "board_comment",
            Effect::NotifyExpert { .. } => "notify_expert",
        }
    }

    /// The connector that delivers the effect. Effects of one project in one
    /// lane are delivered in order (the board record exists before its card
    /// moves; the export is stored before the tracker project is deleted).
    pub fn lane(&self) -> Lane {
        match self {
            Effect::CrmUpsertContact { .. }
            | Effect::CrmSyncDeal { .. }
            | Effect::CrmPullContact { .. } => Lane::Crm,
            Effect::TrackerCreateProject
            | Effect::TrackerCreateTask
            | Effect::TrackerMoveTask { .. }
            | Effect::TrackerGrantAccess { .. }
            | Effect::TrackerRevokeAccess { .. }
            | Effect::TrackerRevokeFormerAccount { .. }
            | Effect::TrackerExportToBoard
            | Effect::TrackerDeleteProject => Lane::Tracker,
            Effect::BoardCreateRecord
            | Effect::BoardMoveCard { .. }
            | Effect::BoardDocumentChecklist { .. }
            | Effect::BoardCheckDocument { .. }
            | Effect::BoardRecordValue
            | Effect::BoardComment { .. } => Lane::Board,
            Effect::NotifyExpert { .. } => Lane::Notify,
        }
    }
}

/// A delivery lane: one per connector.
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
pub enum Lane {
    Crm,
    Tracker,
    Board,
    Notify,
}

/// How a transition changes who holds the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignment {
    Keep,
    Assign(ContactId),
    Unassign,
}

/// A decided transition, ready to be stored with its audit event and effects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    pub from: ProjectState,
    pub to: ProjectState,
    pub reason: Option<Reason>,
    pub assignment: Assignment,
    /// Set when an expert declined: they are not offered this project again.
    pub declined_by: Option<ContactId>,
    pub effects: Vec<Effect>,
}

/// The side effects of creating a project in `intake` (steps 1-3). The
/// client's CRM record comes first, as an effect of the contact rather than
/// the project, so that all writes to one CRM record keep their order.
pub fn intake_effects(client: ContactId, project: ProjectId) -> (Effect, Vec<Effect>) {
    (
        Effect::CrmUpsertContact {
            contact: client,
            project: Some(project),
        },
        vec![
            Effect::CrmSyncDeal {
                state: ProjectState::Intake,
            },
            Effect::TrackerCreateProject,
        ],
    )
}

/// Whether the system may move a project in `state` by itself, so callers can
/// skip gathering facts for every other state.
pub fn moves_automatically(state: ProjectState) -> bool {
    matches!(state, ProjectState::Credentialing | ProjectState::Active)
}

/// The command the system takes by itself: a project in credentialing becomes
/// active once every required document is approved and the expert is vetted
/// (step 8; `decide` checks those gates), and an active project whose required
/// document is no longer approved is blocked (step 10).
pub fn automatic_command(state: ProjectState, facts: &Facts) -> Option<Command> {
    if !moves_automatically(state) {
        return None;
    }
    match state {
        ProjectState::Credentialing => Some(Command::Activate),
        ProjectState::Active if !facts.documents_outstanding.is_empty() => {
            let missing: Vec<&str> = facts
                .documents_outstanding
                .iter()
                .map(DocumentType::as_str)
                .collect();
            let reason = format!(
                "required documents no longer approved: {}",
                missing.join(", ")
            );
            Reason::parse(&reason)
                .ok()
                .map(|reason| Command::Block { reason })
        }
        _ => None,
    }
}

/// Decides whether `actor` may apply `command` to a project in `state` held by
/// `expert`, checking permission, then the table, then the gates.
pub fn decide(
    state: ProjectState,
    expert: Option<ContactId>,
    command: Command,
    actor: &Actor,
    facts: &Facts,
    required_documents: &[DocumentType],
) -> Result<Transition, TransitionError> {
    let action = command.action();
    if !may_take(actor, action, expert) {
        return Err(TransitionError::Forbidden {
            action,
            actor: actor.kind_name(),
        });
    }
    let to = target(state, action).ok_or_else(|| TransitionError::NotAllowed {
        state,
        action,
        allowed: allowed_actions(state),
    })?;
    check_gates(&command, facts)?;
    let assignment = match (&command, to) {
        (Command::Offer { expert }, _) => Assignment::Assign(*expert),
        (_, ProjectState::Matching) => Assignment::Unassign,
        _ => Assignment::Keep,
    };
    let declined_by = matches!(command, Command::Decline { .. })
        .then_some(expert)
        .flatten();
    let effects = effects(state, to, &command, expert, required_documents);
    Ok(Transition {
        action,
        from: state,
        to,
        reason: command.reason().cloned(),
        assignment,
        declined_by,
        effects,
    })
}

fn check_gates(command: &Command, facts: &Facts) -> Result<(), TransitionError> {
    match command {
        Command::Offer { expert } => {
            let Some(f) = facts.expert.as_ref().filter(|f| f.id == *expert) else {
                return Err(gate(
                    Gate::ExpertExists,
                    format!("no expert with id {expert}"),
                ));
            };
            if f.vetting != VettingState::Vetted {
                return Err(gate(
                    Gate::ExpertVetted,
                    format!("the expert is `{}`, not vetted", f.vetting),
                ));
            }
            if f.declined_before {
                return Err(gate(
                    Gate::ExpertDidNotDecline,
                    "the expert already declined this project",
                ));
            }
            if f.load >= f.capacity {
                return Err(gate(
                    Gate::ExpertHasCapacity,
                    format!("the expert holds {} of {} projects", f.load, f.capacity),
                ));
            }
        }
        Command::StartCredentialing if !facts.baseline_recorded => {
            return Err(gate(
                Gate::BaselineRecorded,
                "record the baseline value metrics first",
            ));
        }
        Command::Activate | Command::Unblock { .. } => {
            if !facts.documents_outstanding.is_empty() {
                let missing: Vec<&str> = facts
                    .documents_outstanding
                    .iter()
                    .map(DocumentType::as_str)
                    .collect();
                return Err(gate(
                    Gate::DocumentsApproved,
                    format!("documents not approved yet: {}", missing.join(", ")),
                ));
            }
            let vetting = facts.expert.as_ref().map(|f| f.vetting);
            if vetting != Some(VettingState::Vetted) {
                return Err(gate(
                    Gate::ExpertVetted,
                    "the project's expert is not vetted (credentials not valid)",
                ));
            }
        }
        Command::Complete if !facts.outcome_recorded => {
            return Err(gate(
                Gate::OutcomeRecorded,
                "record the realised value metrics first",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The side effects of one transition. Access follows the `active` state: entering
/// it grants, leaving it revokes, whatever the action.
fn effects(
    from: ProjectState,
    to: ProjectState,
    command: &Command,
    expert: Option<ContactId>,
    required_documents: &[DocumentType],
) -> Vec<Effect> {
    let mut out = Vec::new();
    match command {
        Command::Offer { expert } => out.push(Effect::NotifyExpert {
            expert: *expert,
            notice: ExpertNotice::Offered,
        }),
        Command::Accept => {
            out.push(Effect::BoardCreateRecord);
            out.push(Effect::TrackerCreateTask);
        }
        Command::StartCredentialing => out.push(Effect::BoardDocumentChecklist {
            documents: required_documents.to_vec(),
        }),
        Command::Archive => {
            out.push(Effect::TrackerExportToBoard);
            out.push(Effect::TrackerDeleteProject);
        }
        Command::Cancel { .. } => out.push(Effect::TrackerDeleteProject),
        _ => {}
    }
    let offer_withdrawn = from == ProjectState::Offered
        && !matches!(command, Command::Accept | Command::Decline { .. });
    if let (true, Some(expert)) = (offer_withdrawn, expert) {
        out.push(Effect::NotifyExpert {
            expert,
            notice: ExpertNotice::OfferWithdrawn,
        });
    }
    if let Some(expert) = expert {
        if to == ProjectState::Active && from != ProjectState::Active {
            out.push(Effect::TrackerGrantAccess { expert });
        }
        if from == ProjectState::Active && to != ProjectState::Active {
            out.push(Effect::TrackerRevokeAccess { expert });
        }
    }
    if from.has_board_record() {
        out.push(Effect::BoardMoveCard { state: to });
        // The task exists from acceptance on; archiving deletes it with its project.
        if to != ProjectState::Archived && to != ProjectState::Cancelled {
            out.push(Effect::TrackerMoveTask { state: to });
        }
    }
    out.push(Effect::CrmSyncDeal { state: to });
    out
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
