use super::*;
use crate::domain::actor::Person;
use proptest::prelude::*;

fn person(role: Role, contact: Option<ContactId>) -> Actor {
    Actor::Person(Person {
        role,
        contact,
        label: format!("{role}-test"),
    })
}

fn reason() -> Reason {
    Reason::parse("because").unwrap()
}

/// Facts under which every gate holds for `expert`.
fn open_facts(expert: ContactId) -> Facts {
    Facts {
        expert: Some(ExpertFacts {
            id: expert,
            vetting: VettingState::Vetted,
            load: 0,
            capacity: 3,
            declined_before: false,
        }),
        baseline_recorded: true,
        outcome_recorded: true,
        documents_outstanding: vec![],
    }
}

fn command(action: Action, expert: ContactId) -> Command {
    Command::parse(action, Some(expert), Some("because")).unwrap()
}

/// The actor whose action it is: the expert answers offers, the agent activates,
/// operators do the rest.
fn rightful_actor(action: Action, expert: ContactId) -> Actor {
    match action {
        Action::Accept | Action::Decline => person(Role::Expert, Some(expert)),
        Action::Activate => Actor::Agent,
        _ => person(Role::Operator, None),
    }
}

#[test]
fn every_state_and_action_pair_transitions_or_names_the_allowed_actions() {
    let expert = ContactId::new();
    let facts = open_facts(expert);
    for &state in ProjectState::VARIANTS {
        for &action in Action::VARIANTS {
            let actor = rightful_actor(action, expert);
            let result = decide(
                state,
                Some(expert),
                command(action, expert),
                &actor,
                &facts,
                &[],
            );
            match (target(state, action), result) {
                (Some(to), Ok(t)) => {
                    assert_eq!((t.from, t.to, t.action), (state, to, action));
                }
                (
                    None,
                    Err(TransitionError::NotAllowed {
                        state: s,
                        action: a,
                        allowed,
                    }),
                ) => {
                    assert_eq!((s, a), (state, action));
                    assert_eq!(allowed, allowed_actions(state));
                    assert!(!allowed.contains(&action));
                }
                (expected, got) => panic!("{state} + {action}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}

#[test]
fn the_table_matches_the_design() {
    use Action as A;
    use ProjectState as S;
    let expected: &[(S, &[A])] = &[
        (S::Intake, &[A::StartMatching, A::Cancel]),
        (S::Matching, &[A::Offer, A::Cancel]),
        (
            S::Offered,
            &[A::WithdrawOffer, A::Accept, A::Decline, A::Cancel],
        ),
        (S::Accepted, &[A::StartCredentialing, A::Cancel]),
        (S::Credentialing, &[A::Activate, A::Cancel]),
        (S::Active, &[A::Block, A::Complete]),
        (S::Blocked, &[A::Unblock]),
        (S::Completed, &[A::Archive]),
        (S::Archived, &[]),
        (S::Cancelled, &[]),
    ];
    for (state, actions) in expected {
        assert_eq!(allowed_actions(*state), actions.to_vec(), "{state}");
        assert_eq!(state.is_terminal(), actions.is_empty());
    }
}

#[test]
fn who_may_take_each_action() {
    let expert = ContactId::new();
    let other = ContactId::new();
    for &action in Action::VARIANTS {
        let answer = matches!(action, Action::Accept | Action::Decline);
        assert_eq!(
            may_take(&person(Role::Expert, Some(expert)), action, Some(expert)),
            answer
        );
        assert!(!may_take(
            &person(Role::Expert, Some(other)),
            action,
            Some(expert)
        ));
        assert!(!may_take(&person(Role::Expert, None), action, None));
        assert!(!may_take(
            &person(Role::Client, Some(other)),
            action,
            Some(expert)
        ));
        let staff = !answer && action != Action::Activate;
        assert_eq!(
            may_take(&person(Role::Operator, None), action, Some(expert)),
            staff
        );
        assert_eq!(
            may_take(&person(Role::Admin, None), action, Some(expert)),
            staff
        );
        let automatic = matches!(
            action,
            Action::Activate | Action::Block | Action::WithdrawOffer
        );
        assert_eq!(may_take(&Actor::Agent, action, Some(expert)), automatic);
    }
}

#[test]
fn a_forbidden_actor_is_refused_before_the_state_is_looked_at() {
    let expert = ContactId::new();
    let err = decide(
        ProjectState::Archived,
        Some(expert),
        Command::Block { reason: reason() },
        &person(Role::Expert, Some(expert)),
        &open_facts(expert),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err,
        TransitionError::Forbidden {
            action: Action::Block,
            actor: "expert"
        }
    );
}

#[test]
fn block_unblock_and_cancel_need_a_reason() {
    for action in [Action::Block, Action::Unblock, Action::Cancel] {
        let err = Command::parse(action, None, None).unwrap_err();
        assert_eq!(err.0[0].field, "reason");
        assert!(Command::parse(action, None, Some("   ")).is_err());
    }
    assert!(Command::parse(Action::Decline, None, None).is_ok());
    assert_eq!(
        Command::parse(Action::Offer, None, None).unwrap_err().0[0].field,
        "expert_id"
    );
}

fn offer_error(facts: &Facts, expert: ContactId) -> Gate {
    match decide(
        ProjectState::Matching,
        None,
        Command::Offer { expert },
        &person(Role::Operator, None),
        facts,
        &[],
    ) {
        Err(TransitionError::GateFailed { gate, .. }) => gate,
        other => panic!("expected a gate failure, got {other:?}"),
    }
}

#[test]
fn an_offer_needs_a_known_vetted_expert_with_capacity_who_did_not_decline() {
    let expert = ContactId::new();
    assert_eq!(offer_error(&Facts::default(), expert), Gate::ExpertExists);
    let with = |f: fn(&mut ExpertFacts)| {
        let mut facts = open_facts(expert);
        f(facts.expert.as_mut().unwrap());
        facts
    };
    assert_eq!(
        offer_error(&with(|e| e.vetting = VettingState::Applicant), expert),
        Gate::ExpertVetted
    );
    assert_eq!(
        offer_error(&with(|e| e.vetting = VettingState::Suspended), expert),
        Gate::ExpertVetted
    );
    assert_eq!(
        offer_error(&with(|e| e.load = 3), expert),
        Gate::ExpertHasCapacity
    );
    assert_eq!(
        offer_error(&with(|e| e.declined_before = true), expert),
        Gate::ExpertDidNotDecline
    );
    assert_eq!(
        offer_error(&open_facts(ContactId::new()), expert),
        Gate::ExpertExists
    );
}

fn gate_of(
    state: ProjectState,
    command: Command,
    actor: Actor,
    facts: &Facts,
    expert: ContactId,
) -> Gate {
    match decide(state, Some(expert), command, &actor, facts, &[]) {
        Err(TransitionError::GateFailed { gate, .. }) => gate,
        other => panic!("expected a gate failure, got {other:?}"),
    }
}

#[test]
fn later_gates_hold_the_project_until_their_facts_are_true() {
    let expert = ContactId::new();
    let op = person(Role::Operator, None);

    let mut facts = open_facts(expert);
    facts.baseline_recorded = false;
    let g = gate_of(
        ProjectState::Accepted,
        Command::StartCredentialing,
        op.clone(),
        &facts,
        expert,
    );
    assert_eq!(g, Gate::BaselineRecorded);

    let mut facts = open_facts(expert);
    facts.documents_outstanding = vec![DocumentType::parse("d", "nda").unwrap()];
    let g = gate_of(
        ProjectState::Credentialing,
        Command::Activate,
        Actor::Agent,
        &facts,
        expert,
    );
    assert_eq!(g, Gate::DocumentsApproved);

    let mut facts = open_facts(expert);
    facts.expert.as_mut().unwrap().vetting = VettingState::Suspended;
    let g = gate_of(
        ProjectState::Credentialing,
        Command::Activate,
        Actor::Agent,
        &facts,
        expert,
    );
    assert_eq!(g, Gate::ExpertVetted);
    let unblock = Command::Unblock { reason: reason() };
    assert_eq!(
        gate_of(ProjectState::Blocked, unblock, op.clone(), &facts, expert),
        Gate::ExpertVetted
    );

    let mut facts = open_facts(expert);
    facts.outcome_recorded = false;
    assert_eq!(
        gate_of(ProjectState::Active, Command::Complete, op, &facts, expert),
        Gate::OutcomeRecorded
    );
}

fn run(state: ProjectState, command: Command, expert: ContactId) -> Transition {
    let actor = rightful_actor(command.action(), expert);
    decide(
        state,
        Some(expert),
        command,
        &actor,
        &open_facts(expert),
        &[],
    )
    .unwrap()
}

#[test]
fn access_is_granted_on_activation_and_unblock_and_revoked_on_block_and_completion() {
    let e = ContactId::new();
    let grant = Effect::TrackerGrantAccess { expert: e };
    let revoke = Effect::TrackerRevokeAccess { expert: e };
    assert!(
        run(ProjectState::Credentialing, Command::Activate, e)
            .effects
            .contains(&grant)
    );
    let unblock = run(
        ProjectState::Blocked,
        Command::Unblock { reason: reason() },
        e,
    );
    assert!(unblock.effects.contains(&grant));
    let block = run(ProjectState::Active, Command::Block { reason: reason() }, e);
    assert!(block.effects.contains(&revoke));
    assert_eq!(block.reason, Some(reason()));
    assert!(
        run(ProjectState::Active, Command::Complete, e)
            .effects
            .contains(&revoke)
    );
}

#[test]
fn archiving_exports_before_it_deletes_the_tracker_project() {
    let e = ContactId::new();
    let effects = run(ProjectState::Completed, Command::Archive, e).effects;
    let export = effects
        .iter()
        .position(|x| *x == Effect::TrackerExportToBoard)
        .unwrap();
    let delete = effects
        .iter()
        .position(|x| *x == Effect::TrackerDeleteProject)
        .unwrap();
    assert!(export < delete);
}

#[test]
fn acceptance_opens_the_board_record_and_the_task() {
    let e = ContactId::new();
    let t = run(ProjectState::Offered, Command::Accept, e);
    assert!(t.effects.contains(&Effect::BoardCreateRecord));
    assert!(t.effects.contains(&Effect::TrackerCreateTask));
    assert_eq!(t.assignment, Assignment::Keep);
}

#[test]
fn a_decline_unassigns_and_remembers_the_expert() {
    let e = ContactId::new();
    let t = run(ProjectState::Offered, Command::Decline { reason: None }, e);
    assert_eq!(t.to, ProjectState::Matching);
    assert_eq!(t.assignment, Assignment::Unassign);
    assert_eq!(t.declined_by, Some(e));
    let withdrawn = run(
        ProjectState::Offered,
        Command::WithdrawOffer { reason: None },
        e,
    );
    assert_eq!(withdrawn.declined_by, None);
    assert!(withdrawn.effects.contains(&Effect::NotifyExpert {
        expert: e,
        notice: ExpertNotice::OfferWithdrawn
    }));
}

#[test]
fn an_offer_assigns_and_notifies_the_expert() {
    let e = ContactId::new();
    let t = decide(
        ProjectState::Matching,
        None,
        Command::Offer { expert: e },
        &person(Role::Operator, None),
        &open_facts(e),
        &[],
    )
    .unwrap();
    assert_eq!(t.assignment, Assignment::Assign(e));
    assert!(t.effects.contains(&Effect::NotifyExpert {
        expert: e,
        notice: ExpertNotice::Offered
    }));
}

#[test]
fn credentialing_puts_the_required_documents_on_the_board() {
    let e = ContactId::new();
    let docs = vec![DocumentType::parse("d", "nda").unwrap()];
    let t = decide(
        ProjectState::Accepted,
        Some(e),
        Command::StartCredentialing,
        &person(Role::Operator, None),
        &open_facts(e),
        &docs,
    )
    .unwrap();
    assert!(
        t.effects
            .contains(&Effect::BoardDocumentChecklist { documents: docs })
    );
    assert!(t.effects.contains(&Effect::BoardMoveCard {
        state: ProjectState::Credentialing
    }));
}

#[test]
fn effects_serialise_with_a_kind_tag_that_matches_kind() {
    let e = Effect::BoardMoveCard {
        state: ProjectState::Active,
    };
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["kind"], e.kind());
    assert_eq!(json["state"], "active");
    let back: Effect = serde_json::from_value(json).unwrap();
    assert_eq!(back, e);
}

proptest! {
    /// A random walk through the table: the expert holds tracker access exactly
    /// while the project is `active`, and every transition syncs the CRM deal.
    #[test]
    fn access_follows_the_active_state_on_any_walk(choices in proptest::collection::vec(0usize..12, 1..40)) {
        let expert = ContactId::new();
        let mut state = ProjectState::Intake;
        let mut has_access = false;
        for choice in choices {
            let allowed = allowed_actions(state);
            if allowed.is_empty() {
                break;
            }
            let action = allowed[choice % allowed.len()];
            let t = run(state, command(action, expert), expert);
            for effect in &t.effects {
                match effect {
                    Effect::TrackerGrantAccess { .. } => { prop_assert!(!has_access); has_access = true; }
                    Effect::TrackerRevokeAccess { .. } => { prop_assert!(has_access); has_access = false; }
                    _ => {}
                }
            }
            prop_assert_eq!(t.effects.last(), Some(&Effect::CrmSyncDeal { state: t.to }));
            state = t.to;
            prop_assert_eq!(has_access, state == ProjectState::Active);
        }
    }
}

#[test]
fn the_system_activates_a_credentialed_project_and_blocks_one_that_loses_a_document() {
    let e = ContactId::new();
    let mut facts = open_facts(e);
    assert_eq!(
        automatic_command(ProjectState::Credentialing, &facts),
        Some(Command::Activate)
    );
    assert_eq!(automatic_command(ProjectState::Active, &facts), None);
    assert_eq!(automatic_command(ProjectState::Accepted, &facts), None);
    facts.documents_outstanding = vec![DocumentType::parse("d", "nda").unwrap()];
    match automatic_command(ProjectState::Active, &facts) {
        Some(Command::Block { reason }) => assert!(reason.as_str().contains("nda")),
        other => panic!("expected an automatic block, got {other:?}"),
    }
    let unblock = Command::Unblock { reason: reason() };
    let op = person(Role::Operator, None);
    assert_eq!(
        gate_of(ProjectState::Blocked, unblock, op, &facts, e),
        Gate::DocumentsApproved
    );
}

#[test]
fn every_effect_has_one_lane_and_the_archive_pair_shares_it() {
    assert_eq!(
        Effect::TrackerExportToBoard.lane(),
        Effect::TrackerDeleteProject.lane()
    );
    assert_eq!(
        Effect::BoardCreateRecord.lane(),
        Effect::BoardMoveCard {
            state: ProjectState::Active
        }
        .lane()
    );
    assert_eq!(Effect::TrackerCreateProject.lane(), Lane::Tracker);
    assert_eq!(
        Effect::CrmSyncDeal {
            state: ProjectState::Intake
        }
        .lane(),
        Lane::Crm
    );
}
