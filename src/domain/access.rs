//! Who may see and touch what. Experts see only the projects offered to or held
//! by them, clients only their own; staff see everything. Anything a caller may
//! not see is reported as not found, so ids of other people's records leak nothing.

use super::actor::{Actor, Role};
use super::audit::AuditEvent;
use super::ids::ContactId;
use super::lifecycle::ProjectState;
use super::project::Project;

pub fn can_see_project(actor: &Actor, project: &Project) -> bool {
    match actor {
        Actor::Agent | Actor::Integration { .. } => true,
        Actor::Person(p) if p.role.is_staff() => true,
        Actor::Person(p) => match p.contact {
            Some(me) => project.client_id == me || project.expert_id == Some(me),
            None => false,
        },
    }
}

/// The expert holds the project (accepted it), as opposed to merely being offered it.
fn holds(actor: &Actor, project: &Project) -> bool {
    actor.contact().is_some()
        && actor.contact() == project.expert_id
        && project.state != ProjectState::Offered
}

/// The tracker belongs to staff, and to the expert doing the work while the
/// project is active: access is granted on activation and revoked on block and
/// completion (steps 8, 10, 11).
pub fn can_use_tracker(actor: &Actor, project: &Project) -> bool {
    if actor.is_staff() || actor.is_system() {
        return true;
    }
    actor.role() == Some(Role::Expert)
        && actor
            .contact()
            .is_some_and(|me| tracker_access_due(project, me))
}

/// Whether `expert` should hold access to the project's tracker now: only the
/// expert on the project, only while it is active. Access deliveries apply
/// this rather than the intent recorded when they were queued, so one retried
/// late (a grant after the block that followed it) cannot reopen access.
pub fn tracker_access_due(project: &Project, expert: ContactId) -> bool {
    project.expert_id == Some(expert) && project.state == ProjectState::Active
}

/// The helpdesk is for the people on the project: staff, the client, and the
/// expert once they have accepted.
pub fn can_use_helpdesk(actor: &Actor, project: &Project) -> bool {
    if actor.is_staff() || actor.is_system() {
        return true;
    }
    let me = actor.contact();
    me.is_some() && (me == Some(project.client_id) || holds(actor, project))
}

/// Tickets may be opened and answered on any project that is not archived (step 9).
pub fn helpdesk_open(state: ProjectState) -> bool {
    state != ProjectState::Archived
}

/// What a caller may see of a project's audit trail (oldest first). Staff
/// see everything. A client sees every step of their project without the
/// details meant for staff and without the reasons of experts' offers and
/// declines. An expert sees only their own steps: the offer made to them,
/// what they did, and the project's state changes from that offer on (why
/// their access came or went); nothing from before it, no other expert's
/// offer, and no document or value events.
pub fn visible_audit(actor: &Actor, trail: Vec<AuditEvent>) -> Vec<AuditEvent> {
    if actor.is_staff() || actor.is_system() {
        return trail;
    }
    let me = actor.contact();
    let concerns_me = |e: &AuditEvent| {
        me.is_some()
            && (e.actor_contact == me
                || e.details.get("expert_id").and_then(|v| v.as_str())
                    == me.map(|m| m.to_string()).as_deref())
    };
    let is_expert = actor.role() == Some(Role::Expert);
    let mut theirs_from_here = false;
    let mut out = Vec::new();
    for mut event in trail {
        let mine = concerns_me(&event);
        let about_offer = matches!(
            event.action.as_str(),
            "offer" | "decline" | "withdraw_offer"
        );
        if is_expert {
            theirs_from_here |= mine;
            let state_change = event.to_state.is_some();
            let shown = mine || (theirs_from_here && state_change && !about_offer);
            if !shown {
                continue;
            }
        } else if about_offer && !mine {
            event.reason = None;
        }
        event.details = serde_json::Value::Object(Default::default());
        out.push(event);
    }
    out
}

/// Staff see every contact; people see their own record.
pub fn can_see_contact(actor: &Actor, contact: ContactId) -> bool {
    actor.is_staff() || actor.is_system() || actor.contact() == Some(contact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::Person;
    use crate::domain::audit::EntityKind;
    use crate::domain::ids::AuditId;
    use crate::domain::ids::ProjectId;
    use time::OffsetDateTime;

    fn project(client: ContactId, expert: Option<ContactId>, state: ProjectState) -> Project {
        Project {
            id: ProjectId::new(),
            client_id: client,
            title: "t".into(),
            spec: "s".into(),
            skills: vec![],
            industry: None,
            required_documents: vec![],
            state,
            expert_id: expert,
            baseline: None,
            outcome: None,
            intake: Default::default(),
            tracker_ref: None,
            task_ref: None,
            board_ref: None,
            crm_ref: None,
            version: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn who(role: Role, contact: Option<ContactId>) -> Actor {
        Actor::Person(Person {
            role,
            contact,
            label: "x".into(),
        })
    }

    #[test]
    fn people_see_only_their_own_projects() {
        let (client, expert, stranger) = (ContactId::new(), ContactId::new(), ContactId::new());
        let p = project(client, Some(expert), ProjectState::Offered);
        assert!(can_see_project(&who(Role::Client, Some(client)), &p));
        assert!(can_see_project(&who(Role::Expert, Some(expert)), &p));
        assert!(!can_see_project(&who(Role::Client, Some(stranger)), &p));
        assert!(!can_see_project(&who(Role::Expert, Some(stranger)), &p));
        assert!(!can_see_project(&who(Role::Expert, None), &p));
        assert!(can_see_project(&who(Role::Operator, None), &p));
        assert!(can_see_project(&who(Role::Admin, None), &p));
    }

    #[test]
    fn the_expert_uses_the_tracker_only_while_the_project_is_active() {
        let (client, expert) = (ContactId::new(), ContactId::new());
        let e = who(Role::Expert, Some(expert));
        for state in [
            ProjectState::Accepted,
            ProjectState::Credentialing,
            ProjectState::Blocked,
            ProjectState::Completed,
        ] {
            assert!(
                !can_use_tracker(&e, &project(client, Some(expert), state)),
                "{state}"
            );
        }
        assert!(can_use_tracker(
            &e,
            &project(client, Some(expert), ProjectState::Active)
        ));
        assert!(can_use_tracker(
            &who(Role::Operator, None),
            &project(client, Some(expert), ProjectState::Blocked)
        ));
    }

    #[test]
    fn an_offered_expert_has_no_tracker_or_helpdesk_yet() {
        let (client, expert) = (ContactId::new(), ContactId::new());
        let offered = project(client, Some(expert), ProjectState::Offered);
        let active = project(client, Some(expert), ProjectState::Active);
        let e = who(Role::Expert, Some(expert));
        assert!(!can_use_tracker(&e, &offered) && !can_use_helpdesk(&e, &offered));
        assert!(can_use_tracker(&e, &active) && can_use_helpdesk(&e, &active));
        let c = who(Role::Client, Some(client));
        assert!(!can_use_tracker(&c, &active));
        assert!(can_use_helpdesk(&c, &offered));
    }

    fn event(
        action: &str,
        actor_contact: Option<ContactId>,
        expert: Option<ContactId>,
    ) -> AuditEvent {
        AuditEvent {
            id: AuditId::new(),
            entity: EntityKind::Project,
            entity_id: "p".into(),
            actor_kind: "expert".into(),
            actor_label: "x".into(),
            actor_contact,
            action: action.into(),
            from_state: Some("offered".into()),
            to_state: Some("matching".into()),
            reason: Some("private reason".into()),
            details: serde_json::json!({ "expert_id": expert }),
            at: OffsetDateTime::UNIX_EPOCH,
            chain_seq: None,
            hash: None,
        }
    }

    fn step(
        action: &str,
        actor: Option<ContactId>,
        expert: Option<ContactId>,
        to: Option<&str>,
    ) -> AuditEvent {
        AuditEvent {
            action: action.into(),
            actor_contact: actor,
            to_state: to.map(str::to_owned),
            details: serde_json::json!({ "expert_id": expert }),
            ..event(action, actor, expert)
        }
    }

    fn actions(trail: &[AuditEvent]) -> Vec<&str> {
        trail.iter().map(|e| e.action.as_str()).collect()
    }

    #[test]
    fn an_expert_sees_only_their_own_steps_of_a_projects_trail() {
        let (me, other, client) = (ContactId::new(), ContactId::new(), ContactId::new());
        let trail = vec![
            step("create", None, None, Some("intake")),
            step("start_matching", None, None, Some("matching")),
            step("offer", None, Some(other), Some("offered")),
            step("decline", Some(other), Some(other), Some("matching")),
            step("offer", None, Some(me), Some("offered")),
            step("accept", Some(me), Some(me), Some("accepted")),
            step("approve_document", Some(client), None, None),
            step("activate", None, None, Some("active")),
            step("block", None, None, Some("blocked")),
        ];
        let e = who(Role::Expert, Some(me));
        let seen = visible_audit(&e, trail.clone());
        assert_eq!(actions(&seen), ["offer", "accept", "activate", "block"]);
        assert!(
            seen.iter().all(|e| e.details == serde_json::json!({})),
            "details are for staff"
        );
        assert_eq!(
            seen[3].reason.as_deref(),
            Some("private reason"),
            "why access went"
        );

        let c = who(Role::Client, Some(client));
        let clients = visible_audit(&c, trail.clone());
        assert_eq!(clients.len(), trail.len(), "a client sees every step");
        assert_eq!(
            clients[3].reason, None,
            "but not another expert's reason to decline"
        );
        assert!(clients[8].reason.is_some());
        let op = who(Role::Operator, None);
        assert_eq!(visible_audit(&op, trail.clone()), trail);
    }

    #[test]
    fn archived_projects_take_no_new_tickets() {
        assert!(!helpdesk_open(ProjectState::Archived));
        assert!(helpdesk_open(ProjectState::Cancelled));
        assert!(helpdesk_open(ProjectState::Intake));
    }
}
