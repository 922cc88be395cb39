//! The back-end conformance story: one project's whole life, and the side
//! roads (decline, cancel, suspension), told against the store alone.

use crate::helpers::{TestDb, admin_actor, on_both_backends};
use ssot::connectors::Connectors;
use ssot::domain::actor::{Actor, Person, Role};
use ssot::domain::audit::EntityKind;
use ssot::domain::contact::{ContactInput, ContactKind, NewContact};
use ssot::domain::expert::{ExpertProfile, ProfileInput, VettingAction, VettingState};
use ssot::domain::ids::ContactId;
use ssot::domain::lifecycle::{Command, Gate, ProjectState, TransitionError};
use ssot::domain::metrics::{Baseline, Outcome};
use ssot::domain::project::{NewProject, NewProjectInput};
use ssot::domain::validation::Reason;
use ssot::jobs::delivery::{Delivery, DeliveryConfig};
use ssot::store::{OutboxStatus, PoolConfig, Store, StoreError};

async fn open(db: &TestDb) -> Store {
    Store::open(&db.url, &PoolConfig::default())
        .await
        .expect("store opens and migrates")
}

fn expert_actor(id: ContactId) -> Actor {
    Actor::Person(Person {
        role: Role::Expert,
        contact: Some(id),
        label: "expert".into(),
    })
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

async fn client(store: &Store, email: &str) -> ContactId {
    let input = ContactInput {
        full_name: "Anna Kowalska".into(),
        email: email.into(),
        legal_name: Some("Kowalska Sp. z o.o.".into()),
        ..Default::default()
    };
    let new = NewContact::parse(ContactKind::Client, &input).unwrap();
    store.create_contact(&new, &admin_actor()).await.unwrap().id
}

async fn vetted_expert(store: &Store, email: &str) -> ContactId {
    let input = ContactInput {
        full_name: "Jan Nowak".into(),
        email: email.into(),
        ..Default::default()
    };
    let contact = NewContact::parse(ContactKind::Expert, &input).unwrap();
    let profile = ExpertProfile::parse(&ProfileInput {
        skills: vec!["rust".into()],
        capacity: 2,
        ..Default::default()
    })
    .unwrap();
    let id = store
        .create_expert(&contact, &profile, &admin_actor())
        .await
        .unwrap()
        .contact
        .id;
    for action in [VettingAction::StartVetting, VettingAction::Approve] {
        store
            .change_vetting(id, action, None, &admin_actor())
            .await
            .unwrap();
    }
    id
}

fn new_project(client: ContactId, docs: &[&str]) -> NewProject {
    NewProject::parse(NewProjectInput {
        client_id: client,
        title: "Invoice automation".into(),
        spec: "Automate invoicing".into(),
        skills: vec!["rust".into()],
        industry: Some("retail".into()),
        required_documents: docs.iter().map(|d| d.to_string()).collect(),
        intake: serde_json::json!({ "source": "consultation" })
            .as_object()
            .unwrap()
            .clone(),
    })
    .unwrap()
}

fn baseline() -> Baseline {
    Baseline {
        hours_before: 40.0,
        hours_after: 10.0,
        hourly_value: 100.0,
        horizon_months: 12,
        price: 10_000.0,
    }
}

on_both_backends! {
    async fn a_project_lives_from_intake_to_archive(db) {
        let store = open(&db).await;
        let op = admin_actor();
        let client = client(&store, "anna@example.pl").await;
        let first = vetted_expert(&store, "jan@example.pl").await;
        let second = vetted_expert(&store, "ewa@example.pl").await;

        let project = store.create_project(new_project(client, &[]), &op).await.unwrap();
        assert_eq!((project.state, project.version), (ProjectState::Intake, 1));

        let id = project.id;
        store.transition_project(id, Command::StartMatching, &op, Some(1)).await.unwrap();
        store.transition_project(id, Command::Offer { expert: first }, &op, None).await.unwrap();
        assert_eq!(store.expert(first).await.unwrap().load, 1);

        // The first expert declines: back to matching, and never offered it again.
        let declined = store.transition_project(id, Command::Decline { reason: None }, &expert_actor(first), None).await.unwrap();
        assert_eq!((declined.project.state, declined.project.expert_id), (ProjectState::Matching, None));
        let again = store.transition_project(id, Command::Offer { expert: first }, &op, None).await.unwrap_err();
        assert!(matches!(again, StoreError::Refused(TransitionError::GateFailed { gate: Gate::ExpertDidNotDecline, .. })), "{again:?}");

        store.transition_project(id, Command::Offer { expert: second }, &op, None).await.unwrap();
        store.transition_project(id, Command::Accept, &expert_actor(second), None).await.unwrap();

        // Credentialing waits for the baseline.
        let early = store.transition_project(id, Command::StartCredentialing, &op, None).await.unwrap_err();
        assert!(matches!(early, StoreError::Refused(TransitionError::GateFailed { gate: Gate::BaselineRecorded, .. })));
        store.record_baseline(id, baseline(), &op).await.unwrap();

        // No documents required: credentialing becomes active at once, by the agent.
        let started = store.transition_project(id, Command::StartCredentialing, &op, None).await.unwrap();
        let steps: Vec<_> = started.transitions.iter().map(|t| (t.from, t.to)).collect();
        assert_eq!(steps, [(ProjectState::Accepted, ProjectState::Credentialing), (ProjectState::Credentialing, ProjectState::Active)]);

        store.transition_project(id, Command::Block { reason: reason("client asked to pause") }, &op, None).await.unwrap();
        store.transition_project(id, Command::Unblock { reason: reason("resumed") }, &op, None).await.unwrap();
        let early = store.transition_project(id, Command::Complete, &op, None).await.unwrap_err();
        assert!(matches!(early, StoreError::Refused(TransitionError::GateFailed { gate: Gate::OutcomeRecorded, .. })));
        store.record_outcome(id, Outcome { hours_saved: 25.0, cost: 10_000.0 }, &op).await.unwrap();
        store.transition_project(id, Command::Complete, &op, None).await.unwrap();
        let archived = store.transition_project(id, Command::Archive, &op, None).await.unwrap().project;
        assert_eq!(archived.state, ProjectState::Archived);
        assert_eq!(archived.expert_id, Some(second));
        assert_eq!(archived.value().unwrap().realised_value, Some(25.0 * 100.0 * 12.0));
        assert_eq!(store.expert(second).await.unwrap().load, 0, "an archived project frees the expert");

        // The audit trail tells the whole story, with the agent's automatic step.
        let trail = store.audit_trail(EntityKind::Project, &id.to_string()).await.unwrap();
        let actions: Vec<(&str, &str)> = trail.iter().map(|e| (e.action.as_str(), e.actor_kind.as_str())).collect();
        assert_eq!(actions, [
            ("create", "admin"), ("start_matching", "admin"), ("offer", "admin"), ("decline", "expert"),
            ("offer", "admin"), ("accept", "expert"), ("record_baseline", "admin"), ("start_credentialing", "admin"),
            ("activate", "agent"), ("block", "admin"), ("unblock", "admin"), ("record_outcome", "admin"),
            ("complete", "admin"), ("archive", "admin"),
        ]);
        let block = trail.iter().find(|e| e.action == "block").unwrap();
        assert_eq!((block.from_state.as_deref(), block.to_state.as_deref(), block.reason.as_deref()),
                   (Some("active"), Some("blocked"), Some("client asked to pause")));

        // Every side effect is queued, in order, exactly once.
        let outbox = store.list_outbox(Some(OutboxStatus::Pending), Some(id), 1000).await.unwrap();
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        let access: Vec<&str> = kinds.iter().copied().filter(|k| k.starts_with("tracker_") && k.ends_with("_access")).collect();
        assert_eq!(access, ["tracker_grant_access", "tracker_revoke_access", "tracker_grant_access", "tracker_revoke_access"]);
        assert_eq!(&kinds[..2], ["crm_sync_deal", "tracker_create_project"]);
        let export = kinds.iter().position(|k| *k == "tracker_export_to_board").unwrap();
        let delete = kinds.iter().position(|k| *k == "tracker_delete_project").unwrap();
        assert!(export < delete);
        let keys: std::collections::HashSet<_> = outbox.iter().map(|e| &e.idempotency_key).collect();
        assert_eq!(keys.len(), outbox.len());
        assert!(outbox.windows(2).all(|w| w[0].seq < w[1].seq));

        // Delivered through the built-in connectors, every entry once (with
        // the contacts' own CRM records, which belong to no project).
        let everything = store.list_outbox(Some(OutboxStatus::Pending), None, 1000).await.unwrap();
        assert!(everything.iter().filter(|e| e.project_id.is_none()).all(|e| e.kind == "crm_upsert_contact" && e.contact_id.is_some()));
        let intake_record = everything.iter().find(|e| e.contact_id == Some(client) && e.effect["project"] == serde_json::json!(id)).expect("the client's record with the intake");
        assert_eq!(intake_record.kind, "crm_upsert_contact");
        let worker = Delivery::new(store.clone(), Connectors::builtin(&store), DeliveryConfig::default(), "story");
        assert_eq!(worker.drain().await.unwrap(), everything.len());
        let delivered = store.list_outbox(Some(OutboxStatus::Delivered), Some(id), 1000).await.unwrap();
        assert_eq!(delivered.len(), outbox.len());
        assert!(delivered.iter().all(|e| e.attempts == 1 && e.delivered_by.as_deref() == Some("story")));
        let profile = store.contact(client).await.unwrap().properties;
        assert_eq!(profile["intake_history"][0]["answers"]["source"], "consultation");
        let tracker = store.tracker_view(id).await.unwrap().unwrap();
        assert!(tracker.deleted_at.is_some() && tracker.members.is_empty());
        let board = store.board_view(id).await.unwrap().unwrap();
        assert_eq!((board.list.as_str(), board.attachments.len()), ("archived", 2), "the tracker export and the audit trail");
        assert_eq!(store.deal(id).await.unwrap().unwrap().stage, "archived");
    }
}

on_both_backends! {
    async fn a_project_waits_in_credentialing_while_documents_are_outstanding(db) {
        let store = open(&db).await;
        let op = admin_actor();
        let client = client(&store, "c@example.pl").await;
        let expert = vetted_expert(&store, "e@example.pl").await;
        let id = store.create_project(new_project(client, &["nda", "insurance_certificate"]), &op).await.unwrap().id;
        store.transition_project(id, Command::StartMatching, &op, None).await.unwrap();
        store.transition_project(id, Command::Offer { expert }, &op, None).await.unwrap();
        store.transition_project(id, Command::Accept, &expert_actor(expert), None).await.unwrap();
        store.record_baseline(id, baseline(), &op).await.unwrap();
        let started = store.transition_project(id, Command::StartCredentialing, &op, None).await.unwrap();
        assert_eq!(started.transitions.len(), 1, "no automatic activation while documents are outstanding");
        assert_eq!(started.project.state, ProjectState::Credentialing);
        let checklist = store.list_outbox(None, Some(id), 100).await.unwrap();
        let entry = checklist.iter().find(|e| e.kind == "board_document_checklist").unwrap();
        assert_eq!(entry.effect["documents"], serde_json::json!(["nda", "insurance_certificate"]));
        let manual = store.transition_project(id, Command::Activate, &op, None).await.unwrap_err();
        assert!(matches!(manual, StoreError::Refused(TransitionError::Forbidden { .. })), "operators do not activate by hand");
    }
}

on_both_backends! {
    async fn cancelling_and_refused_moves_leave_a_clean_trail(db) {
        let store = open(&db).await;
        let op = admin_actor();
        let client = client(&store, "c2@example.pl").await;
        let id = store.create_project(new_project(client, &[]), &op).await.unwrap().id;
        let before = store.audit_trail(EntityKind::Project, &id.to_string()).await.unwrap().len();
        let refused = store.transition_project(id, Command::Complete, &op, None).await.unwrap_err();
        assert!(matches!(refused, StoreError::Refused(TransitionError::NotAllowed { state: ProjectState::Intake, .. })));
        let stale = store.transition_project(id, Command::StartMatching, &op, Some(7)).await.unwrap_err();
        assert!(matches!(stale, StoreError::Conflict(_)));
        let project = store.project(id).await.unwrap();
        assert_eq!((project.state, project.version), (ProjectState::Intake, 1), "refusals change nothing");
        assert_eq!(store.audit_trail(EntityKind::Project, &id.to_string()).await.unwrap().len(), before);

        let cancelled = store.transition_project(id, Command::Cancel { reason: reason("client withdrew") }, &op, None).await.unwrap();
        assert_eq!(cancelled.project.state, ProjectState::Cancelled);
        let kinds: Vec<String> = store.list_outbox(None, Some(id), 100).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&"tracker_delete_project".to_owned()));
    }
}

on_both_backends! {
    async fn suspending_an_expert_blocks_their_work_and_withdraws_their_offers(db) {
        let store = open(&db).await;
        let op = admin_actor();
        let client = client(&store, "c3@example.pl").await;
        let expert = vetted_expert(&store, "e3@example.pl").await;
        let active = store.create_project(new_project(client, &[]), &op).await.unwrap().id;
        let offered = store.create_project(new_project(client, &[]), &op).await.unwrap().id;
        for id in [active, offered] {
            store.transition_project(id, Command::StartMatching, &op, None).await.unwrap();
            store.transition_project(id, Command::Offer { expert }, &op, None).await.unwrap();
        }
        store.transition_project(active, Command::Accept, &expert_actor(expert), None).await.unwrap();
        store.record_baseline(active, baseline(), &op).await.unwrap();
        store.transition_project(active, Command::StartCredentialing, &op, None).await.unwrap();
        assert_eq!(store.project(active).await.unwrap().state, ProjectState::Active);
        let third = store.create_project(new_project(client, &[]), &op).await.unwrap().id;
        store.transition_project(third, Command::StartMatching, &op, None).await.unwrap();
        let no_room = store.transition_project(third, Command::Offer { expert }, &op, None).await.unwrap_err();
        assert!(matches!(no_room, StoreError::Refused(TransitionError::GateFailed { gate: Gate::ExpertHasCapacity, .. })));

        let outcome = store.change_vetting(expert, VettingAction::Suspend, Some(reason("certificate expired")), &op).await.unwrap();
        assert_eq!(outcome.expert.profile.vetting, VettingState::Suspended);
        let blocked = store.project(active).await.unwrap();
        assert_eq!(blocked.state, ProjectState::Blocked);
        let trail = store.audit_trail(EntityKind::Project, &active.to_string()).await.unwrap();
        let last = trail.last().unwrap();
        assert_eq!((last.action.as_str(), last.actor_kind.as_str()), ("block", "agent"));
        assert!(last.reason.as_deref().unwrap().contains("certificate expired"));
        let revoke = store.list_outbox(None, Some(active), 100).await.unwrap();
        assert_eq!(revoke.last().map(|e| e.kind.as_str()), Some("crm_sync_deal"));
        assert!(revoke.iter().any(|e| e.kind == "tracker_revoke_access"));

        let withdrawn = store.project(offered).await.unwrap();
        assert_eq!((withdrawn.state, withdrawn.expert_id), (ProjectState::Matching, None));
        let notices = store.list_outbox(None, Some(offered), 100).await.unwrap();
        let last_notice = notices.iter().rev().find(|e| e.kind == "notify_expert").unwrap();
        assert_eq!(last_notice.effect["notice"], "offer_withdrawn");
        assert_eq!(outcome.cascaded.len(), 2);
        assert_eq!(store.expert(expert).await.unwrap().load, 1, "only the blocked project still counts");

        // Unblocking needs a vetted expert again.
        let refused = store.transition_project(active, Command::Unblock { reason: reason("try") }, &op, None).await.unwrap_err();
        assert!(matches!(refused, StoreError::Refused(TransitionError::GateFailed { gate: Gate::ExpertVetted, .. })));
        store.change_vetting(expert, VettingAction::Reinstate, Some(reason("renewed")), &op).await.unwrap();
        store.transition_project(active, Command::Unblock { reason: reason("renewed") }, &op, None).await.unwrap();
    }
}

on_both_backends! {
    async fn contacts_tokens_tasks_and_tickets_round_trip(db) {
        let store = open(&db).await;
        let op = admin_actor();
        let client_id = client(&store, "dup@example.pl").await;
        let dup = NewContact::parse(ContactKind::Client, &ContactInput { full_name: "X".into(), email: "DUP@example.pl".into(), ..Default::default() }).unwrap();
        assert!(matches!(store.create_contact(&dup, &op).await, Err(StoreError::Duplicate(_))));

        let token = store.create_token(Role::Client, Some(client_id), None, None, &op).await.unwrap();
        let found = store.authenticate(&token.secret).await.unwrap().valid().unwrap();
        assert_eq!((found.role, found.contact_id, found.label.as_str()), (Role::Client, Some(client_id), "Anna Kowalska"));
        assert!(store.authenticate("ssot_not-a-real-token").await.unwrap().valid().is_none());
        store.revoke_token(found.id, &op).await.unwrap();
        assert!(store.authenticate(&token.secret).await.unwrap().valid().is_none());
        let wrong = store.create_token(Role::Expert, Some(client_id), None, None, &op).await;
        assert!(matches!(wrong, Err(StoreError::Invalid(_))), "an expert token cannot speak for a client");

        let project = store.create_project(new_project(client_id, &[]), &op).await.unwrap().id;
        let task = store.create_task(project, ssot::domain::task::NewTask { title: "Map invoice fields".into(), description: None }, &op).await.unwrap();
        let patch = ssot::domain::task::TaskPatchInput { title: None, status: Some(ssot::domain::task::TaskStatus::Done) };
        store.update_task(project, task.id, &patch, &op).await.unwrap();
        assert_eq!(store.tasks(project).await.unwrap()[0].status, ssot::domain::task::TaskStatus::Done);

        let ticket = store.create_ticket(project, "Access".into(), "How do I log in?".into(), &op).await.unwrap();
        store.add_message(project, ticket.id, "Use the link we sent.".into(), &op).await.unwrap();
        store.set_ticket_status(project, ticket.id, ssot::domain::ticket::TicketStatus::Closed, &op).await.unwrap();
        assert!(matches!(store.add_message(project, ticket.id, "more".into(), &op).await, Err(StoreError::Conflict(_))));
        let tickets = store.tickets(project).await.unwrap();
        assert_eq!(tickets.len(), 1);
        assert_eq!(tickets[0].messages.len(), 2);
    }
}
