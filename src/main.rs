//! `ssot`: the command-line entry point. A thin layer over the library: parse
//! flags, load configuration, run one command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use ssot::App;
use ssot::config::Settings;
use ssot::domain::actor::{Actor, Person, Role};
use ssot::domain::ids::{ContactId, TokenId};
use ssot::store::{Store, redact_url};

#[derive(Parser)]
#[command(
    name = "ssot",
    version,
    about = "SSoT-Lite: single source of truth and lifecycle orchestrator for an expert agency"
)]
#[command(
    after_help = "Configuration: defaults, then ./ssot.toml (or --config), then SSOT_* environment variables, then flags.\n\
    Quick start: `ssot user create --role admin --email you@agency.pl --name \"Your Name\"`, then `ssot serve` \
    and sign in at http://127.0.0.1:8080/ (API tokens: `ssot token create --role admin`)."
)]
struct Cli {
    /// Configuration file [default: ./ssot.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL, e.g. sqlite://./data/ssot.db or postgres://user@host/db
    /// [env: SSOT_DATABASE_URL, DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the hub: the pages at /, the JSON API under /api/v1 (creates the database on first start)
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080, env: SSOT_BIND]
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
        /// The protocol vault [default: ./protocols, env: SSOT_PROTOCOLS_DIR]
        #[arg(long, value_name = "DIR")]
        protocols: Option<PathBuf>,
    },
    /// Write the default protocol vault and a commented ssot.toml into DIR, to start a hub there
    Init {
        /// The folder (created if missing); existing files are never overwritten
        dir: PathBuf,
    },
    /// Apply pending database migrations and exit
    Migrate,
    /// Run one project through all 11 lifecycle steps on a temporary database and print each step
    Demo {
        /// Drive the tools configured in [connectors.*] (Jira, HubSpot, Trello) instead of the
        /// built-in ones: the demo's records appear there
        #[arg(long)]
        with_connectors: bool,
        /// The protocol vault [default: ./protocols, env: SSOT_PROTOCOLS_DIR]
        #[arg(long, value_name = "DIR")]
        protocols: Option<PathBuf>,
    },
    /// Check and index the protocol vault (running servers re-index by themselves when a note changes)
    Protocols {
        #[command(subcommand)]
        command: ProtocolsCommand,
    },
    /// Verify one document with the agent, without a server, and print the report
    Verify {
        /// The document: PDF, PNG, JPEG, plain text or Markdown
        file: PathBuf,
        /// Its document type id, e.g. insurance_certificate
        #[arg(long = "type", value_name = "TYPE")]
        doc_type: String,
        /// The record it must match, e.g. --subject legal_name="Kowalska Sp. z o.o." --subject tax_id=5260001246
        #[arg(long, value_name = "FIELD=VALUE")]
        subject: Vec<String>,
        /// The protocol vault to use [default: protocols_dir, ./protocols]
        #[arg(long, value_name = "DIR")]
        protocols: Option<PathBuf>,
        /// Print the report as JSON (with a top-level `decision`)
        #[arg(long)]
        json: bool,
    },
    /// Create, list and revoke API tokens
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Create the people who sign in to the pages (the first admin too), list, disable, re-invite
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the audit trail's hash chain (exit 1 if an event was edited, inserted or deleted)
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write the Obsidian vault of clients, experts and projects (changed notes only)
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Import records from a Google Sheets CSV export (all rows or none)
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export records as CSV for Google Sheets (to stdout, or --output FILE)
    Export {
        /// What to export
        #[arg(value_parser = PossibleValuesParser::new(["projects", "contacts"]))]
        what: String,
        /// The format
        #[arg(long, default_value = "csv", value_parser = PossibleValuesParser::new(["csv"]))]
        format: String,
        /// Write to this file instead of stdout
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum VaultCommand {
    /// One note per client, expert and project, with front matter, wikilinks, metrics and timeline
    Export {
        /// The vault folder (created if missing) [default: connectors.obsidian.vault_dir]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every event's hash and report the first break in the chain
    Verify {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Contacts: columns kind (client|expert), full_name, email, and optionally phone, legal_name,
    /// tax_id, atlassian_account_id, skills, industries, languages, hourly_rate, capacity, rating
    Contacts {
        /// The CSV file (first row: column names)
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProtocolsCommand {
    /// Read every note, build the index, and list what loaded and what did not (exit 1 if a note is broken)
    Reindex {
        /// The vault [default: protocols_dir, ./protocols]
        #[arg(long, value_name = "DIR")]
        protocols: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is asked for on the terminal (twice), read from
    /// --password-file, or set by the person through the link --invite prints
    Create {
        #[arg(long, value_parser = PossibleValuesParser::new(["admin", "operator", "expert", "client"]))]
        role: String,
        #[arg(long)]
        email: String,
        /// The name shown on the pages and in the audit trail
        #[arg(long)]
        name: String,
        /// The contact an expert or client user speaks for
        #[arg(long, value_name = "ID")]
        contact: Option<ContactId>,
        /// Read the password from the first line of FILE (`-`: standard input)
        #[arg(long, value_name = "FILE", conflicts_with = "invite")]
        password_file: Option<PathBuf>,
        /// Set no password; print a one-time link by which the person sets theirs
        #[arg(long)]
        invite: bool,
    },
    /// List users: role, state (active, invited, disabled), contact
    List,
    /// Disable a user: their sessions end at once and their links stop working
    Disable { email: String },
    /// Enable a disabled user again
    Enable { email: String },
    /// Print a fresh one-time link for a user (the earlier one stops working)
    Invite { email: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret (shown only once)
    Create {
        /// What the token may do
        #[arg(long, value_parser = PossibleValuesParser::new(["operator", "expert", "client", "admin"]))]
        role: String,
        /// The contact an expert or client token speaks for
        #[arg(long, value_name = "ID")]
        contact: Option<ContactId>,
        /// A name for the audit trail [default: the role, or the contact's name]
        #[arg(long)]
        label: Option<String>,
        /// Days until it expires, 0 for never [default: token_ttl_days_<role>]
        #[arg(long, value_name = "DAYS")]
        ttl_days: Option<u32>,
    },
    /// List tokens that are not revoked: role, contact, expiry, last use
    List,
    /// Give a token a new secret (printed once) and lifetime; the old secret stops working
    Rotate {
        id: TokenId,
        /// Days the new secret lives, 0 for never [default: token_ttl_days_<role>]
        #[arg(long, value_name = "DAYS")]
        ttl_days: Option<u32>,
    },
    /// Revoke a token by its id
    Revoke { id: TokenId },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match load_settings(&cli) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    // The demo's transcript is its output; the workers' log lines would bury it.
    let log = match cli.command {
        Command::Demo { .. } if settings.log == Settings::default().log => "warn",
        _ => settings.log.as_str(),
    };
    ssot::telemetry::init(log, settings.log_format);
    ssot::init_tls();
    let runtime = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_settings(cli: &Cli) -> Result<Settings, String> {
    let mut settings = Settings::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(url) = &cli.database_url {
        settings.database_url = url.clone();
    }
    match &cli.command {
        Command::Serve { bind, protocols } => {
            if let Some(bind) = bind {
                settings.bind = *bind;
            }
            if let Some(dir) = protocols {
                settings.protocols_dir = dir.clone();
            }
        }
        Command::Demo {
            protocols: Some(dir),
            ..
        } => settings.protocols_dir = dir.clone(),
        _ => {}
    }
    let settings = settings.validate().map_err(|e| e.to_string())?;
    // The demo brings its own temporary database; verify and protocols need none.
    if matches!(
        cli.command,
        Command::Demo { .. }
            | Command::Verify { .. }
            | Command::Protocols { .. }
            | Command::Init { .. }
    ) {
        return Ok(settings);
    }
    settings.with_database_ready().map_err(|e| e.to_string())
}

async fn open_store(settings: &Settings) -> Result<Store, String> {
    Store::open(&settings.database_url, &settings.pool())
        .await
        .map_err(|e| e.to_string())
}

async fn export(store: &Store, what: &str, out: impl std::io::Write) -> Result<usize, String> {
    match what {
        "projects" => ssot::sheets_cmd::export_projects(store, out).await,
        _ => ssot::sheets_cmd::export_contacts(store, out).await,
    }
}

/// Who the command line acts as in the audit trail: whoever can run the binary
/// against the database is in effect an administrator.
fn cli_actor() -> Actor {
    Actor::Person(Person {
        role: Role::Admin,
        contact: None,
        label: "cli".into(),
    })
}

async fn run(command: Command, settings: Settings) -> Result<(), String> {
    match command {
        Command::Serve { .. } => serve(settings).await,
        Command::Migrate => {
            let store = Store::open(&settings.database_url, &settings.pool())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "database {} is up to date",
                redact_url(&settings.database_url)
            );
            store.close().await;
            Ok(())
        }
        Command::Token { command } => token(command, settings).await,
        Command::User { command } => user(command, settings).await,
        Command::Audit {
            command: AuditCommand::Verify { json },
        } => audit_verify(&settings, json).await,
        Command::Import {
            command: ImportCommand::Contacts { file },
        } => {
            let store = open_store(&settings).await?;
            let result = ssot::sheets_cmd::import_contacts(&store, &file, &cli_actor()).await;
            store.close().await;
            match result {
                Ok(n) => {
                    println!("imported {n} contacts from {}", file.display());
                    Ok(())
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    Err(format!(
                        "nothing imported: {} row(s) need fixing",
                        errors.len()
                    ))
                }
            }
        }
        Command::Vault {
            command: VaultCommand::Export { dir },
        } => {
            let dir = dir
                .or_else(|| {
                    settings
                        .connectors
                        .obsidian
                        .as_ref()
                        .map(|o| o.vault_dir.clone())
                })
                .ok_or("name the vault folder, or set connectors.obsidian.vault_dir")?;
            let store = open_store(&settings).await?;
            let report = ssot::vault_export::export(&store, &dir).await;
            store.close().await;
            let r = report.map_err(|e| e.to_string())?;
            println!(
                "vault {}: {} notes written, {} unchanged, {} removed",
                dir.display(),
                r.written,
                r.unchanged,
                r.removed
            );
            Ok(())
        }
        Command::Export { what, output, .. } => {
            let store = open_store(&settings).await?;
            let written = match &output {
                Some(path) => {
                    // Personal data: readable by this user only.
                    let _ = std::fs::remove_file(path);
                    ssot::private_files::create_file(path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    let file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    export(&store, &what, file).await
                }
                None => export(&store, &what, std::io::stdout().lock()).await,
            };
            store.close().await;
            let n = written?;
            if let Some(path) = output {
                eprintln!("exported {n} {what} to {}", path.display());
            }
            Ok(())
        }
        Command::Init { dir } => {
            let written = ssot::init_cmd::init(&dir)?;
            println!(
                "wrote {} files to {}; start the hub there with `cd {} && ssot serve`",
                written.len(),
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        Command::Demo {
            with_connectors, ..
        } => {
            let connectors = if with_connectors {
                settings.connectors.clone()
            } else {
                Default::default()
            };
            ssot::demo::run_with(connectors, &settings.protocols_dir)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Command::Protocols {
            command: ProtocolsCommand::Reindex { protocols },
        } => {
            let dir = protocols.unwrap_or_else(|| settings.protocols_dir.clone());
            ssot::verify_cmd::reindex(&dir)
        }
        Command::Verify {
            file,
            doc_type,
            subject,
            protocols,
            json,
        } => {
            let args = ssot::verify_cmd::VerifyArgs {
                file,
                doc_type,
                subject,
                protocols,
                json,
            };
            ssot::verify_cmd::run(&settings, args).await.map(|_| ())
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
    let app = App::open(settings).await.map_err(|e| e.to_string())?;
    if app
        .store
        .list_tokens()
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        tracing::warn!("no API tokens yet: create one with `ssot token create --role admin`");
    }
    app.serve(listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn user(command: UserCommand, settings: Settings) -> Result<(), String> {
    use ssot::user_cmd::{self, PasswordSource};
    // Read before the database opens, so a typo costs no connection.
    let password = match &command {
        UserCommand::Create {
            password_file,
            invite,
            ..
        } => {
            let source = match (password_file, invite) {
                (_, true) => PasswordSource::Invite,
                (Some(file), false) => PasswordSource::File(file),
                (None, false) => PasswordSource::Terminal,
            };
            user_cmd::read_password(&source)?
        }
        _ => None,
    };
    let store = open_store(&settings).await?;
    let ttl = time::Duration::hours(
        i64::try_from(settings.invitation_ttl_hours).unwrap_or(i64::MAX / 3600),
    );
    let public_url = settings.public_url();
    let actor = cli_actor();
    let result = async {
        match command {
            UserCommand::Create {
                role,
                email,
                name,
                contact,
                ..
            } => {
                let role: Role = role.parse().map_err(|_| format!("unknown role {role}"))?;
                let created = user_cmd::create(
                    &store,
                    role,
                    &email,
                    &name,
                    contact,
                    password,
                    (ttl, &public_url),
                    &actor,
                )
                .await?;
                let u = &created.user;
                eprintln!(
                    "created {} {} <{}> ({})",
                    u.role, u.display_name, u.email, u.id
                );
                match created.link {
                    Some(link) => {
                        eprintln!(
                            "the link below sets their password; it works once, for {} hours:",
                            settings.invitation_ttl_hours
                        );
                        println!("{link}");
                    }
                    None => eprintln!("they can sign in at {public_url}/sign-in"),
                }
                Ok(())
            }
            UserCommand::List => {
                let users = store.list_users().await.map_err(|e| e.to_string())?;
                print!("{}", user_cmd::table(&users));
                Ok(())
            }
            UserCommand::Disable { email } => {
                let u = user_cmd::find(&store, &email).await?;
                store
                    .set_user_disabled(u.id, true, &actor)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("disabled {email}; their sessions ended");
                Ok(())
            }
            UserCommand::Enable { email } => {
                let u = user_cmd::find(&store, &email).await?;
                store
                    .set_user_disabled(u.id, false, &actor)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("enabled {email}");
                Ok(())
            }
            UserCommand::Invite { email } => {
                let u = user_cmd::find(&store, &email).await?;
                let invitation = store
                    .invite_user(u.id, ttl, &actor)
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!(
                    "a fresh link for {email}; it works once, for {} hours:",
                    settings.invitation_ttl_hours
                );
                println!(
                    "{}",
                    ssot::domain::user::invitation_link(&public_url, &invitation.secret)
                );
                Ok(())
            }
        }
    }
    .await;
    store.close().await;
    result
}

async fn token(command: TokenCommand, settings: Settings) -> Result<(), String> {
    let store = Store::open(&settings.database_url, &settings.pool())
        .await
        .map_err(|e| e.to_string())?;
    let lifetimes = settings.token_lifetimes();
    let result = match command {
        TokenCommand::Create {
            role,
            contact,
            label,
            ttl_days,
        } => {
            let role: Role = role.parse().map_err(|_| format!("unknown role {role}"))?;
            let lifetime = lifetimes.lifetime(role, ttl_days);
            let new = store
                .create_token(role, contact, label.as_deref(), lifetime, &cli_actor())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "created {} token {} ({}, {}); the secret below is shown only once:",
                new.record.role,
                new.record.id,
                new.record.label,
                expiry(&new.record)
            );
            println!("{}", new.secret);
            Ok(())
        }
        TokenCommand::List => {
            let tokens = store.list_tokens().await.map_err(|e| e.to_string())?;
            println!(
                "{:<36}  {:<8}  {:<36}  {:<26}  {:<18}  LABEL",
                "ID", "ROLE", "CONTACT", "EXPIRES", "LAST USED"
            );
            for t in tokens {
                let contact = t
                    .contact_id
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}  {:<8}  {:<36}  {:<26}  {:<18}  {}",
                    t.id,
                    t.role,
                    contact,
                    expiry(&t),
                    t.last_used_at.map_or_else(|| "never".into(), minute),
                    t.label
                );
            }
            Ok(())
        }
        TokenCommand::Rotate { id, ttl_days } => {
            let new = store
                .rotate_token(id, &lifetimes, ttl_days, &cli_actor())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "rotated {} token {} ({}); the new secret below is shown only once:",
                new.record.role,
                new.record.id,
                expiry(&new.record)
            );
            println!("{}", new.secret);
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            store
                .revoke_token(id, &cli_actor())
                .await
                .map_err(|e| e.to_string())?;
            println!("revoked {id}");
            Ok(())
        }
    };
    store.close().await;
    result
}

/// `ssot audit verify`: progress on stderr, the finding on stdout.
async fn audit_verify(settings: &Settings, json: bool) -> Result<(), String> {
    let store = open_store(settings).await?;
    let report = store
        .verify_audit_chain(|checked| eprint!("\rchecked {checked} events"))
        .await;
    eprintln!();
    store.close().await;
    let report = report.map_err(|e| e.to_string())?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{} events; chain head {} at {}",
            report.events, report.head.hash, report.head.seq
        );
    }
    match &report.first_break {
        None => {
            if !json {
                println!("the audit chain is intact");
            }
            Ok(())
        }
        Some(found) => Err(format!("the audit chain is broken: {}", describe(found))),
    }
}

fn describe(found: &ssot::domain::audit::ChainBreak) -> String {
    use ssot::domain::audit::ChainBreak;
    match found {
        ChainBreak::Edited { seq, id } => format!("event {id} (#{seq}) was edited"),
        ChainBreak::Inserted { seq, id } => {
            format!("event {id} (#{seq}) does not follow the one before it: inserted")
        }
        ChainBreak::Deleted { after_seq, missing } => {
            format!("{missing} event(s) after #{after_seq} were deleted")
        }
        ChainBreak::Unsealed { id } => {
            format!("event {id} was written outside the hub (it has no seal)")
        }
        ChainBreak::TailDeleted { head_seq, last_seq } => format!(
            "the newest events were deleted: the head records #{head_seq}, the table ends at #{last_seq}"
        ),
    }
}

/// A time to the minute, in UTC, for tables.
fn minute(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]Z");
    t.format(&f).unwrap_or_default()
}

/// "expires 2027-03-01 10:00Z", "EXPIRED 2026-11-30 ...", or "never expires".
fn expiry(t: &ssot::store::TokenRecord) -> String {
    match t.expires_at {
        None => "never expires".into(),
        Some(e) if t.is_expired(ssot::store::now()) => format!("EXPIRED {}", minute(e)),
        Some(e) => format!("expires {}", minute(e)),
    }
}

/// Completes on Ctrl-C or SIGTERM, so the server can drain and stop cleanly.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
