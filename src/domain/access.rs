//! Who may see and touch what. Experts see only the projects offered to or held
//! by them, clients only their own; staff see everything. Anything a caller may
//! not see is reported as not found, so ids of other people's records leak nothing.

use super::actor::Actor;
use super::ids::ContactId;
use super::lifecycle::ProjectState;
use super::project::Project;

pub fn can_see_project(actor: &Actor, project: &Project) -> bool {
    match actor {
        Actor::Agent => true,
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

/// The tracker belongs to staff and the expert doing the work.
pub fn can_use_tracker(actor: &Actor, project: &Project) -> bool {
    actor.is_staff()
        || matches!(actor, Actor::Agent)
        || (actor.role() == Some(super::actor::Role::Expert) && holds(actor, project))
}

/// The helpdesk is for the people on the project: staff, the client, and the
/// expert once they have accepted.
pub fn can_use_helpdesk(actor: &Actor, project: &Project) -> bool {
    if actor.is_staff() || matches!(actor, Actor::Agent) {
        return true;
    }
    let me = actor.contact();
    me.is_some() && (me == Some(project.client_id) || holds(actor, project))
}

/// Tickets may be opened and answered on any project that is not archived (step 9).
pub fn helpdesk_open(state: ProjectState) -> bool {
    state != ProjectState::Archived
}

/// Staff see every contact; people see their own record.
pub fn can_see_contact(actor: &Actor, contact: ContactId) -> bool {
    actor.is_staff() || matches!(actor, Actor::Agent) || actor.contact() == Some(contact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::{Person, Role};
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

    #[test]
    fn archived_projects_take_no_new_tickets() {
        assert!(!helpdesk_open(ProjectState::Archived));
        assert!(helpdesk_open(ProjectState::Cancelled));
        assert!(helpdesk_open(ProjectState::Intake));
    }
}
