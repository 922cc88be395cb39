//! `ssot demo`: one project through all 11 lifecycle steps on a fresh temporary
//! database with the built-in connectors, printing for each step the state
//! before and after, who acted, and the side effects delivered.

use std::fmt::Write as _;

use crate::App;
use crate::agent::sniff::sniff;
use crate::config::Settings;
use crate::connectors::settings::ConnectorSettings;
use crate::domain::actor::{Actor, Person, Role};
use crate::domain::contact::{ContactInput, ContactKind, NewContact};
use crate::domain::document::{Document, DocumentSubject, DocumentType};
use crate::domain::expert::{ExpertProfile, ProfileInput, VettingAction};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::lifecycle::{Command, Transition};
use crate::domain::matching;
use crate::domain::metrics::{Baseline, Outcome};
use crate::domain::project::{NewProject, NewProjectInput};
use crate::domain::validation::Reason;
use crate::domain::verification::{Source, Verdict};
use crate::jobs::delivery::Delivery;
use crate::jobs::verification::VerifyStep;
use crate::store::{NewDocument, OutboxStatus, Store, StoreError};

/// The running demo: the app, a delivery worker, and what was printed so far.
/// The connectors the demo drives, by name.
struct Tools {
    crm: &'static str,
    tracker: &'static str,
    board: &'static str,
}

struct Demo {
    store: Store,
    tools: Tools,
    delivery: Delivery,
    project: Option<ProjectId>,
    /// Delivered outbox entries already reported.
    reported: usize,
    out: String,
}

fn person(role: Role, contact: Option<ContactId>, label: &str) -> Actor {
    Actor::Person(Person {
        role,
        contact,
        label: label.into(),
    })
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).expect("demo reasons are valid")
}

impl Demo {
    fn say(&mut self, line: impl AsRef<str>) {
        println!("{}", line.as_ref());
        let _ = writeln!(self.out, "{}", line.as_ref());
    }

    fn id(&self) -> ProjectId {
        self.project.expect("the project exists from step 1")
    }

    /// Delivers everything queued, then prints what was delivered since last time.
    async fn deliver(&mut self) -> Result<(), StoreError> {
        self.delivery.drain().await?;
        let delivered = self
            .store
            .list_outbox(Some(OutboxStatus::Delivered), self.project, 10_000)
            .await?;
        let new: Vec<String> = delivered
            .iter()
            .skip(self.reported)
            .map(|e| e.kind.clone())
            .collect();
        self.reported = delivered.len();
        let failed = self
            .store
            .list_outbox(Some(OutboxStatus::Failed), self.project, 100)
            .await?;
        if !failed.is_empty() {
            return Err(StoreError::Conflict(format!(
                "{} side effects failed: {:?}",
                failed.len(),
                failed
            )));
        }
        let line = if new.is_empty() {
            "none".to_owned()
        } else {
            new.join(", ")
        };
        self.say(format!("      side effects delivered: {line}"));
        Ok(())
    }

    async fn act(&mut self, command: Command, actor: &Actor) -> Result<(), StoreError> {
        let outcome = self
            .store
            .transition_project(self.id(), command, actor, None)
            .await?;
        for (i, t) in outcome.transitions.iter().enumerate() {
            self.print_transition(t, if i == 0 { actor } else { &Actor::Agent });
        }
        self.deliver().await
    }

    fn print_transition(&mut self, t: &Transition, by: &Actor) {
        let reason = t
            .reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        self.say(format!(
            "      {} -> {}  by {} [{}]: {}{reason}",
            t.from,
            t.to,
            by.label(),
            by.kind_name(),
            t.action
        ));
    }

    async fn members(&self) -> Result<String, StoreError> {
        if self.tools.tracker != "builtin" {
            return Ok(format!("kept in {} (its project role)", self.tools.tracker));
        }
        let tracker = self.store.tracker_view(self.id()).await?;
        let names: Vec<String> = match tracker {
            Some(t) => {
                let mut names = Vec::new();
                for m in t.members {
                    names.push(self.store.contact(m.expert_id).await?.full_name);
                }
                names
            }
            None => vec![],
        };
        Ok(if names.is_empty() {
            "nobody".into()
        } else {
            names.join(", ")
        })
    }
}

/// Stores a client's file and queues it for the agent, as an upload does.
async fn upload(
    app: &App,
    project: ProjectId,
    doc_type: &str,
    filename: &str,
    text: &str,
    by: &Actor,
) -> Result<Document, Box<dyn std::error::Error>> {
    let mut incoming = app.blobs.receive().await?;
    incoming.write(text.as_bytes()).await?;
    let received = incoming.finish().await?;
    let kind = sniff(&received.head).ok_or("the demo document is not text")?;
    let (size_bytes, sha256) = (received.size, received.sha256.clone());
    app.blobs.keep(received).await?;
    let new = NewDocument {
        subject: DocumentSubject::Project(project),
        doc_type: DocumentType::parse("type", doc_type)?,
        filename: filename.into(),
        content_type: kind.content_type().into(),
        size_bytes,
        sha256,
    };
    let quota = app.settings().upload_quota();
    Ok(app.store.insert_document(new, quota, by).await?.0)
}

async fn contact(
    store: &Store,
    kind: ContactKind,
    name: &str,
    email: &str,
    legal: Option<&str>,
) -> Result<ContactId, StoreError> {
    let input = ContactInput {
        full_name: name.into(),
        email: email.into(),
        legal_name: legal.map(Into::into),
        ..Default::default()
    };
    let new = NewContact::parse(kind, &input)?;
    Ok(store
        .create_contact(&new, &person(Role::Operator, None, "olga"))
        .await?
        .id)
}

async fn expert(
    store: &Store,
    name: &str,
    email: &str,
    skills: &[&str],
    rating: f64,
) -> Result<ContactId, StoreError> {
    let op = person(Role::Operator, None, "olga");
    let input = ContactInput {
        full_name: name.into(),
        email: email.into(),
        ..Default::default()
    };
    let profile = ProfileInput {
        skills: skills.iter().map(|s| s.to_string()).collect(),
        industries: vec!["retail".into()],
        languages: vec!["pl".into(), "en".into()],
        hourly_rate: 160.0,
        capacity: 2,
        rating: Some(rating),
    };
    let id = store
        .create_expert(
            &NewContact::parse(ContactKind::Expert, &input)?,
            &ExpertProfile::parse(&profile)?,
            &op,
        )
        .await?
        .contact
        .id;
    for action in [VettingAction::StartVetting, VettingAction::Approve] {
        store.change_vetting(id, action, None, &op).await?;
    }
    Ok(id)
}

/// Runs the demo with the vault in `./protocols` and returns its transcript
/// (also printed as it goes).
pub async fn run() -> Result<String, Box<dyn std::error::Error>> {
    run_with(
        ConnectorSettings::default(),
        &Settings::default().protocols_dir,
    )
    .await
}

/// The demo against the tools `connectors` configures (Jira, HubSpot, Trello),
/// built-in equivalents for the rest: their records show each step too.
pub async fn run_with(
    connectors: ConnectorSettings,
    protocols_dir: &std::path::Path,
) -> Result<String, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        database_url: format!("sqlite://{}/demo.db?mode=rwc", dir.path().display()),
        documents_dir: dir.path().join("documents"),
        protocols_dir: protocols_dir.to_owned(),
        connectors,
        ..Settings::default()
    };
    let app = App::open(settings).await?;
    let c = app.connectors();
    let tools = Tools {
        crm: c.crm.name(),
        tracker: c.tracker.name(),
        board: c.board.name(),
    };
    let mut demo = Demo {
        store: app.store.clone(),
        tools,
        delivery: app.delivery("demo-worker"),
        project: None,
        reported: 0,
        out: String::new(),
    };
    let op = person(Role::Operator, None, "olga");
    demo.say("SSoT-Lite demo: one client project through the 11 lifecycle steps");
    demo.say(format!(
        "(temporary database {}; CRM: {}, tracker: {}, board: {})\n",
        dir.path().join("demo.db").display(),
        demo.tools.crm,
        demo.tools.tracker,
        demo.tools.board
    ));

    let client = contact(
        &demo.store,
        ContactKind::Client,
        "Anna Kowalska",
        "anna@kowalska-meble.pl",
        Some("Kowalska Meble Sp. z o.o."),
    )
    .await?;
    let jan = expert(
        &demo.store,
        "Jan Nowak",
        "jan@nowak.dev",
        &["automation", "python"],
        4.8,
    )
    .await?;
    let ewa = expert(
        &demo.store,
        "Ewa Wiśniewska",
        "ewa@wisniewska.dev",
        &["automation"],
        4.2,
    )
    .await?;

    demo.say(" 1. Consultation form: the operator records the intake");
    let intake =
        serde_json::json!({ "hours_per_month_on_invoicing": 40, "tools": "spreadsheet + e-mail" });
    let new = NewProject::parse(NewProjectInput {
        client_id: client,
        title: "Invoice automation".into(),
        spec: "Automate monthly invoicing from the shop system to the accounting office.".into(),
        skills: vec!["automation".into(), "python".into()],
        industry: Some("retail".into()),
        required_documents: vec!["nda".into(), "insurance_certificate".into()],
        intake: intake.as_object().cloned().unwrap_or_default(),
    })?;
    let project = demo.store.create_project(new, &op).await?;
    demo.project = Some(project.id);
    demo.say(format!(
        "      (new) -> intake  by olga [operator]: create \"{}\"",
        project.title
    ));
    demo.deliver().await?;

    demo.say(" 2. CRM contact: the intake answers are appended to the client's profile");
    let profile = demo.store.contact(client).await?;
    let answers = match demo.tools.crm {
        "builtin" => format!("intake_history = {}", profile.properties["intake_history"]),
        crm => format!("intake answers appended in {crm}"),
    };
    demo.say(format!(
        "      CRM record {}: {answers}",
        profile.crm_ref.unwrap_or_default()
    ));

    demo.say(" 3. Tracker project, locked until the expert is cleared");
    let tracker = demo
        .store
        .project(demo.id())
        .await?
        .tracker_ref
        .unwrap_or_default();
    demo.say(format!(
        "      tracker project {tracker}; members: {}",
        demo.members().await?
    ));

    demo.say(" 4. Matching: the CRM ranks vetted experts; the offered expert must accept");
    demo.act(Command::StartMatching, &op).await?;
    let ranked = matching::rank(
        &demo.store.project(demo.id()).await?,
        &demo
            .store
            .experts_in(crate::domain::expert::VettingState::Vetted)
            .await?,
        &[],
    );
    for m in &ranked {
        let rating = m
            .score
            .rating
            .map_or("unrated".to_owned(), |r| format!("{r:.1}"));
        demo.say(format!(
            "      candidate {}: fit {:.2}, rating {rating}, load {}/{}",
            m.full_name, m.score.fit, m.score.load, m.score.capacity
        ));
    }
    demo.act(Command::Offer { expert: ewa }, &op).await?;
    demo.act(
        Command::Decline {
            reason: Some(reason("fully booked this month")),
        },
        &person(Role::Expert, Some(ewa), "Ewa Wiśniewska"),
    )
    .await?;
    demo.act(Command::Offer { expert: jan }, &op).await?;

    demo.say(" 5. The expert accepts: board record and a task linked to the tracker");
    let jan_actor = person(Role::Expert, Some(jan), "Jan Nowak");
    demo.act(Command::Accept, &jan_actor).await?;

    demo.say(" 6. Value metrics: the VBP / TS-ROI baseline");
    let baseline = Baseline {
        hours_before: 40.0,
        hours_after: 8.0,
        hourly_value: 120.0,
        horizon_months: 12,
        price: 14_000.0,
    };
    let p = demo.store.record_baseline(demo.id(), baseline, &op).await?;
    let value = p.value().expect("a baseline gives a value");
    demo.say(format!(
        "      expected value {:.0}, TS-ROI {:.2}",
        value.expected_value, value.expected_roi
    ));

    demo.say(" 7. Suspended until the client's credentialing is complete");
    demo.act(Command::StartCredentialing, &op).await?;

    demo.say(
        " 8. Documents: the client uploads them, the agent checks them against the protocols,",
    );
    demo.say("    a person decides what it cannot; the last approval activates the project and grants access");
    let anna = person(Role::Client, Some(client), "Anna Kowalska");
    let until = (crate::store::now().date() + time::Duration::days(365)).to_string();
    let documents = [
        (
            "nda",
            "nda.md",
            "# Umowa o zachowaniu poufności (NDA)\n\nZawarta pomiędzy Kowalska Meble Sp. z o.o. a Coretex Hub.\n\
             Strony zobowiązują się zachować w poufności wszystkie informacje.\n\nPodpisy: Anna Kowalska, Olga Operator\n"
                .to_owned(),
        ),
        (
            "insurance_certificate",
            "polisa.txt",
            format!(
                "CERTYFIKAT UBEZPIECZENIA OC\nUbezpieczony: Kowalska Meble Sp. z o.o.\n\
                 Ubezpieczenie odpowiedzialności cywilnej działalności gospodarczej\n\
                 Okres ubezpieczenia: od 2026-01-01 do {until}\nUbezpieczyciel: PZU SA\n"
            ),
        ),
    ];
    let verifier = app.verifier("demo-verifier");
    for (doc_type, filename, text) in documents {
        let document = upload(&app, demo.id(), doc_type, filename, &text, &anna).await?;
        let VerifyStep::Done { report, .. } = verifier.step().await? else {
            return Err(
                StoreError::Conflict("the uploaded document was not verified".into()).into(),
            );
        };
        let by_rule = report
            .requirements
            .iter()
            .filter(|r| r.source == Source::Rule && r.verdict == Verdict::Met)
            .count();
        let open: Vec<&str> = report
            .requirements
            .iter()
            .filter(|r| r.verdict != Verdict::Met)
            .map(|r| r.id.as_str())
            .collect();
        demo.say(format!(
            "      {filename} ({doc_type}) uploaded by anna; agent: {by_rule} rules met, {} for a person ({}) -> {}",
            open.len(),
            if open.is_empty() { "none".to_owned() } else { open.join(", ") },
            report.decision
        ));
        if report.decision == crate::domain::verification::Outcome::Review {
            let outcome = demo
                .store
                .decide_review(
                    document.id,
                    true,
                    Some("signatures and insurer checked by hand"),
                    None,
                    &op,
                )
                .await?;
            demo.say(format!("      review queue: olga approves {doc_type}"));
            for (_, t) in &outcome.transitions {
                demo.print_transition(t, &Actor::Agent);
            }
        }
        demo.deliver().await?;
    }
    demo.say(format!("      tracker members: {}", demo.members().await?));

    demo.say(" 9. Helpdesk for the client and the expert");
    let ticket = demo
        .store
        .create_ticket(
            demo.id(),
            "Access to the shop system".into(),
            "Which account should Jan use?".into(),
            &anna,
        )
        .await?;
    demo.store
        .add_message(
            demo.id(),
            ticket.id,
            "A read-only API key is enough, thanks.".into(),
            &jan_actor,
        )
        .await?;
    demo.say(format!(
        "      ticket \"{}\": 2 messages (client, expert)",
        ticket.subject
    ));

    demo.say("10. Monitoring: the operator blocks and unblocks; access follows");
    demo.act(
        Command::Block {
            reason: reason("invoice 2026/11 overdue"),
        },
        &op,
    )
    .await?;
    demo.say(format!("      tracker members: {}", demo.members().await?));
    demo.act(
        Command::Unblock {
            reason: reason("invoice paid"),
        },
        &op,
    )
    .await?;
    demo.say(format!("      tracker members: {}", demo.members().await?));

    demo.say("11. Completion: realised figures, export attached to the board record, tracker project deleted");
    let p = demo
        .store
        .record_outcome(
            demo.id(),
            Outcome {
                hours_saved: 30.0,
                cost: 14_000.0,
            },
            &op,
        )
        .await?;
    let value = p.value().expect("a baseline gives a value");
    demo.say(format!(
        "      realised value {:.0}, TS-ROI {:.2}",
        value.realised_value.unwrap_or_default(),
        value.realised_roi.unwrap_or_default()
    ));
    demo.act(Command::Complete, &op).await?;
    demo.act(Command::Archive, &op).await?;
    if demo.tools.board == "builtin" {
        let board = demo
            .store
            .board_view(demo.id())
            .await?
            .ok_or_else(|| StoreError::Corrupt("no board record".into()))?;
        let files: Vec<String> = board
            .attachments
            .iter()
            .map(|a| format!("{} ({} bytes)", a.filename, a.size_bytes))
            .collect();
        demo.say(format!(
            "      board list: {}; attached: {}",
            board.list,
            files.join(", ")
        ));
    } else {
        let card = demo.store.project(demo.id()).await?.board_ref;
        demo.say(format!(
            "      {} card {}: in the Archived list, the export attached",
            demo.tools.board,
            card.unwrap_or_default()
        ));
    }
    let deleted = if demo.tools.tracker == "builtin" {
        demo.store
            .tracker_view(demo.id())
            .await?
            .and_then(|t| t.deleted_at)
            .is_some()
    } else {
        // Delivered, or `deliver` would have failed the demo.
        true
    };
    demo.say(format!(
        "      tracker project deleted: {deleted}; members: {}",
        demo.members().await?
    ));

    let p = demo.store.project(demo.id()).await?;
    let trail = demo
        .store
        .audit_trail(crate::domain::audit::EntityKind::Project, &p.id.to_string())
        .await?;
    demo.say(format!(
        "\nDone: project {} is {}; {} audit events; every side effect delivered.",
        p.id,
        p.state,
        trail.len()
    ));
    app.store.close().await;
    Ok(demo.out)
}
