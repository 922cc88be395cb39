//! The pages in a real headless Chromium, as people use them: an admin signs
//! in, reads the dashboard, invites an expert; the expert opens the link,
//! sets a password, switches the language; a client reads their projects on
//! a phone. Every page is checked with axe-core (no serious or critical
//! violation) and photographed, in Polish and English, on a desk and on a
//! phone, to `target/screenshots/`.
//!
//! One chromedriver and one browser session serve the whole binary, on
//! SQLite and (with `SSOT_TEST_POSTGRES_URL`) on PostgreSQL. Without
//! Chromium the binary says so and passes, unless `SSOT_TEST_BROWSER=required`
//! (as in CI), when a missing browser or axe-core fails it.
//!
//! Settings: `SSOT_TEST_CHROMEDRIVER` [/usr/bin/chromedriver],
//! `SSOT_TEST_CHROMIUM` [/usr/bin/chromium], `SSOT_TEST_AXE_JS` (the path of
//! `axe.min.js` from the npm package axe-core).

#[path = "../api/pdfs.rs"]
#[allow(dead_code)]
mod pdfs;

#[path = "../api/helpers.rs"]
#[allow(dead_code, unused_macros, unused_imports)]
mod helpers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use ssot::domain::actor::Role;

use helpers::{TestApp, TestDb, admin_actor, id, spawn_app};

const PASSWORD: &str = "correct horse battery staple";
const DESK: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

type Outcome = Result<(), String>;

fn main() -> ExitCode {
    let required = std::env::var("SSOT_TEST_BROWSER").is_ok_and(|v| v == "required");
    let driver = path_setting("SSOT_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = path_setting("SSOT_TEST_CHROMIUM", "/usr/bin/chromium");
    let axe = std::env::var_os("SSOT_TEST_AXE_JS").map(PathBuf::from);
    let missing: Vec<String> = [(&driver, "chromedriver"), (&chromium, "chromium")]
        .into_iter()
        .filter(|(p, _)| !p.exists())
        .map(|(p, name)| format!("{name} ({})", p.display()))
        .chain(match &axe {
            Some(p) if p.exists() => None,
            Some(p) => Some(format!("axe-core ({})", p.display())),
            None if required => Some("axe-core (SSOT_TEST_AXE_JS is not set)".to_owned()),
            None => None,
        })
        .collect();
    if !missing.is_empty() {
        let message = format!("browser tests: missing {}", missing.join(", "));
        if required {
            eprintln!("error: {message} (SSOT_TEST_BROWSER=required)");
            return ExitCode::FAILURE;
        }
        eprintln!(
            "note: {message}; browser tests skipped (install chromium and chromium-driver to run them)"
        );
        return ExitCode::SUCCESS;
    }
    let axe_source = match &axe {
        Some(p) => Some(std::fs::read_to_string(p).expect("axe-core is readable")),
        None => {
            eprintln!("note: SSOT_TEST_AXE_JS is not set; the accessibility checks are skipped");
            None
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match runtime.block_on(run(&driver, &chromium, axe_source)) {
        Ok(passed) => {
            println!("browser tests: {passed} walks passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("browser test failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn path_setting(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// chromedriver on a free port, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn run(driver: &Path, chromium: &Path, axe: Option<String>) -> Result<usize, String> {
    let port = free_port();
    let _driver = Driver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?,
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=pl-PL", "--hide-scrollbars"],
            // A Polish reader's browser: `Accept-Language` picks the pages' language.
            "prefs": { "intl.accept_languages": "pl-PL,pl,en" },
        }),
    );
    let mut browser = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => {
                browser = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let browser = browser.ok_or("chromedriver did not start a browser session")?;
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).map_err(|e| e.to_string())?;
    let mut walk = Walk {
        browser,
        axe,
        shots,
        site: String::new(),
        backend: "sqlite",
    };
    let mut passed = 0;
    let mut result = walk.on(TestDb::sqlite().await, "sqlite").await;
    if result.is_ok() {
        passed += 1;
        match TestDb::postgres().await {
            Some(db) => {
                result = walk.on(db, "postgres").await;
                passed += usize::from(result.is_ok());
            }
            None => eprintln!(
                "note: the PostgreSQL browser walk skipped: SSOT_TEST_POSTGRES_URL is not set"
            ),
        }
    }
    let _ = walk.browser.close().await;
    result.map(|()| passed)
}

struct Walk {
    browser: Client,
    axe: Option<String>,
    shots: PathBuf,
    site: String,
    backend: &'static str,
}

/// `Err` with `what` unless `ok`.
fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok { Ok(()) } else { Err(what()) }
}

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Walk {
    async fn on(&mut self, db: TestDb, backend: &'static str) -> Outcome {
        self.backend = backend;
        let app = spawn_app(db).await;
        self.site = app.base.trim_end_matches("/api/v1").to_owned();
        let anna = seed(&app).await;
        self.browser.delete_all_cookies().await.map_err(fail)?;
        self.staff_walk(&app)
            .await
            .map_err(|e| format!("{backend}: the admin's walk: {e}"))?;
        self.client_walk(&app, &anna)
            .await
            .map_err(|e| format!("{backend}: the client's walk: {e}"))?;
        println!("browser walk on {backend}: ok");
        Ok(())
    }

    async fn goto(&self, path: &str) -> Outcome {
        self.browser
            .goto(&format!("{}{path}", self.site))
            .await
            .map_err(fail)
    }

    async fn text(&self, css: &str) -> Result<String, String> {
        let found = self
            .browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(el) => el.text().await.map_err(fail),
            Err(e) => Err(format!("no `{css}` on {}: {e}", self.path().await)),
        }
    }

    async fn path(&self) -> String {
        self.browser
            .current_url()
            .await
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    async fn fill(&self, css: &str, value: &str) -> Outcome {
        let el = self
            .browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("no `{css}`: {e}"))?;
        el.clear().await.map_err(fail)?;
        el.send_keys(value).await.map_err(fail)
    }

    async fn click(&self, css: &str) -> Outcome {
        // Waits for the element: the page may still be loading after the last click.
        let found = self
            .browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(el) => el.click().await.map(drop).map_err(fail),
            Err(e) => Err(format!("no `{css}` on {}: {e}", self.path().await)),
        }
    }

    /// The text of `css` once it contains `needle` (the page after a form
    /// was sent may not have replaced the one before yet).
    async fn wait_text(&self, css: &str, needle: &str) -> Result<String, String> {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(text) = self.text(css).await {
                if text.contains(needle) {
                    return Ok(text);
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("`{css}` never said `{needle}`: {last}"))
    }

    /// Drags project `id`'s card onto the column of `state`, as a person's
    /// mouse would (WebDriver's pointer actions do not fire HTML drag events).
    async fn drag(&self, id: &str, state: &str) -> Outcome {
        self.browser
            .execute(
                "const [id, to] = arguments;
                 const card = document.querySelector(`.project-card[data-project='${id}']`);
                 const column = document.querySelector(`.column[data-state='${to}']`);
                 const data = new DataTransfer();
                 for (const [target, type] of [[card, 'dragstart'], [column, 'dragover'], [column, 'drop']]) {
                   target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
                 }",
                vec![json!(id), json!(state)],
            )
            .await
            .map(drop)
            .map_err(fail)
    }

    /// Switches the pages' language and waits for the page to come back in it.
    async fn language(&self, code: &str) -> Outcome {
        self.click(&format!("form.language button[value='{code}']"))
            .await?;
        for _ in 0..100 {
            let lang = self
                .browser
                .execute("return document.documentElement.lang", vec![])
                .await;
            if lang.is_ok_and(|l| l == json!(code)) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("the page did not switch to `{code}`"))
    }

    async fn size(&self, (w, h): (u32, u32)) -> Outcome {
        self.browser.set_window_size(w, h).await.map_err(fail)
    }

    /// Waits for the page headed `wanted`: a click that submits a form
    /// returns before the next page has replaced the current one.
    async fn expect_heading(&self, wanted: &str) -> Outcome {
        let mut h1 = String::new();
        for _ in 0..100 {
            // A heading read as the page goes is stale: read again.
            if let Ok(el) = self.browser.find(Locator::Css("h1")).await {
                h1 = el.text().await.unwrap_or_default();
                if h1 == wanted {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let path = self.path().await;
        Err(format!("the page at {path} is `{h1}`, not `{wanted}`"))
    }

    async fn sign_in(&self, email: &str) -> Outcome {
        self.goto("/sign-in").await?;
        self.fill("#email", email).await?;
        self.fill("#password", PASSWORD).await?;
        self.click("form.stack button[type=submit]").await?;
        // Signed in when the sign-in page has gone.
        for _ in 0..100 {
            if self.path().await != "/sign-in" {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("{email} was not signed in"))
    }

    async fn sign_out(&self) -> Outcome {
        self.click("form[action='/sign-out'] button").await?;
        self.text("#email").await.map(drop)
    }

    /// Checks the page with axe-core, that it fits the window without
    /// scrolling sideways, and saves its screenshot as `name`.
    async fn look(&self, name: &str, lang: &str, device: &str) -> Outcome {
        let html_lang = self
            .browser
            .execute("return document.documentElement.lang", vec![])
            .await
            .map_err(fail)?;
        check(html_lang == json!(lang), || {
            format!("{name}: <html lang> is {html_lang}, not {lang}")
        })?;
        let overflow = self
            .browser
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth",
                vec![],
            )
            .await
            .map_err(fail)?;
        check(overflow.as_i64().unwrap_or(1) <= 0, || {
            format!("{name} ({device}): the page is {overflow}px wider than the window")
        })?;
        if let Some(axe) = &self.axe {
            self.browser
                .execute(axe, vec![])
                .await
                .map_err(|e| format!("axe-core did not load: {e}"))?;
            let found = self
                .browser
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     axe.run(document, { resultTypes: ['violations'] })
                        .then(r => done(r.violations
                            .filter(v => v.impact === 'serious' || v.impact === 'critical')
                            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                        .catch(e => done(['axe failed: ' + e]));",
                    vec![],
                )
                .await
                .map_err(fail)?;
            let found: Vec<String> = serde_json::from_value(found).map_err(fail)?;
            check(found.is_empty(), || {
                format!("{name} ({lang}, {device}) has accessibility violations: {found:#?}")
            })?;
        }
        if self.backend == "sqlite" {
            let png = self.browser.screenshot().await.map_err(fail)?;
            let file = self.shots.join(format!("{name}-{lang}-{device}.png"));
            std::fs::write(&file, png).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        Ok(())
    }

    /// The admin: sign-in refused then accepted, the dashboard, an expert
    /// invited, the link taken by the expert, the language switched.
    async fn staff_walk(&self, app: &TestApp) -> Outcome {
        self.size(DESK).await?;
        self.goto("/").await?;
        check(self.path().await == "/sign-in", || {
            "a visitor is sent to sign in".into()
        })?;
        self.look("sign-in", "pl", "desktop").await?;
        self.fill("#email", "ala@agency.pl").await?;
        self.fill("#password", "wrong password, surely").await?;
        self.click("form.stack button[type=submit]").await?;
        let alert = self.text("[role=alert]").await?;
        check(alert == "Nieprawidłowy e-mail lub hasło.", || {
            format!("the refusal says `{alert}`")
        })?;
        let kept = self
            .browser
            .find(Locator::Css("#email"))
            .await
            .map_err(fail)?
            .prop("value")
            .await
            .map_err(fail)?;
        check(kept.as_deref() == Some("ala@agency.pl"), || {
            "the e-mail stays typed in".into()
        })?;

        self.sign_in("ala@agency.pl").await?;
        self.expect_heading("Pulpit operatora").await?;
        let review = self.text(".tiles .tile:first-child .figure").await?;
        check(review == "1", || {
            format!("one document awaits review, the tile says {review}")
        })?;
        let states = self.text(".states").await?;
        check(
            states.contains("W realizacji") && states.contains("Dobór eksperta"),
            || states.clone(),
        )?;
        let value = self.text(".tiles .tile:nth-child(3) .figure").await?;
        check(value.ends_with("zł"), || {
            format!("the value is shown in złoty: {value}")
        })?;
        self.look("dashboard", "pl", "desktop").await?;

        // The project waiting for its documents, from the dashboard.
        self.click(&format!(
            "a[href='/projects/{}']",
            app_project(app, SHOP).await?
        ))
        .await?;
        self.expect_heading(SHOP).await?;
        let documents = self.text("main table").await?;
        check(
            documents.contains("nda") && documents.contains("czeka na decyzję"),
            || documents.clone(),
        )?;
        self.look("project", "pl", "desktop").await?;
        self.click("main .crumbs a").await?;
        self.expect_heading("Pulpit operatora").await?;

        // The review queue: the agent's report, and a decision without a
        // choice refused beside the field.
        self.click("nav a[href='/reviews']").await?;
        self.expect_heading("Dokumenty do weryfikacji").await?;
        let report = self.text("article.review").await?;
        check(
            report.contains("umowa-nda.pdf") && report.contains("przekazać do decyzji człowieka"),
            || report.clone(),
        )?;
        self.look("reviews", "pl", "desktop").await?;
        self.click("form.decide button[type=submit]").await?;
        let error = self.text("form.decide .field-error").await?;
        check(error == "Wybierz: zatwierdź albo odrzuć.", || {
            format!("the refusal says `{error}`")
        })?;
        // The quoted evidence is marked in the text, and the keyboard decides.
        let marks = self
            .browser
            .find_all(Locator::Css("article.review pre.extract mark"))
            .await
            .map_err(fail)?;
        let mut marked = Vec::new();
        for m in marks {
            marked.push(m.html(true).await.map_err(fail)?);
        }
        check(marked.iter().any(|m| m.contains("Coretex")), || {
            format!("the party's quote is marked: {marked:?}")
        })?;
        let shortcuts = self.text("#shortcuts").await?;
        check(shortcuts.starts_with("Skróty klawiszowe"), || {
            shortcuts.clone()
        })?;
        let chosen = self
            .browser
            .execute(
                "document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'r', bubbles: true }));
                 return document.querySelector('article.review input[value=reject]').checked;",
                vec![],
            )
            .await
            .map_err(fail)?;
        check(chosen == json!(true), || "r chooses reject".into())?;

        // Step 1 on the consultation form: a missing field refused beside
        // it, then the project made.
        self.click("nav a[href='/intake']").await?;
        self.expect_heading("Nowe zgłoszenie klienta").await?;
        self.fill("#full_name", "Zofia Wiśniewska").await?;
        self.fill("#email", "zofia@kwiaciarnia.pl").await?;
        self.fill("#legal_name", "Kwiaciarnia Zofia").await?;
        self.fill("#title", "Zamówienia z formularza do arkusza")
            .await?;
        self.fill("#hours_per_month", "12,5").await?;
        self.click("input[name='doc:nda']").await?;
        self.click("form[action='/intake'] button[type=submit]")
            .await?;
        let error = self.text("#spec-error").await?;
        check(error.starts_with("Opisz proces"), || error.clone())?;
        self.look("intake", "pl", "desktop").await?;
        self.fill(
            "#spec",
            "Zamówienia przychodzą mailem; przepisuję je ręcznie do arkusza co wieczór.",
        )
        .await?;
        self.click("form[action='/intake'] button[type=submit]")
            .await?;
        self.expect_heading("Zamówienia z formularza do arkusza")
            .await?;

        // The board: a move the lifecycle does not allow is refused in place;
        // an allowed one opens its step on the project's page.
        let fresh = app_project(app, "Zamówienia z formularza do arkusza").await?;
        self.click("nav a[href='/board']").await?;
        self.expect_heading("Tablica projektów").await?;
        self.look("board", "pl", "desktop").await?;
        self.drag(&fresh, "archived").await?;
        let refusal = self.text("#board-status").await?;
        check(
            refusal.contains("nie może przejść do „Zarchiwizowany”"),
            || refusal.clone(),
        )?;
        self.drag(&fresh, "matching").await?;
        self.expect_heading("Zamówienia z formularza do arkusza")
            .await?;
        let url = self.browser.current_url().await.map_err(fail)?;
        check(url.fragment() == Some("step-start_matching"), || {
            format!("the step is opened: {url}")
        })?;
        self.click("#step-start_matching button[type=submit]")
            .await?;
        for _ in 0..100 {
            // Read as the page reloads: a stale read is read again.
            if self
                .text(".badge.state")
                .await
                .is_ok_and(|t| t == "Dobór eksperta")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let badge = self.text(".badge.state").await?;
        check(badge == "Dobór eksperta", || {
            format!("the project moved to matching: {badge}")
        })?;

        // Step 4: the project in matching offered to the ranked expert.
        let stock = app_project(app, STOCK).await?;
        self.goto(&format!("/projects/{stock}")).await?;
        self.expect_heading(STOCK).await?;
        let matches = self.text("#matches").await?;
        check(matches.contains("Jan Nowak"), || {
            format!("Jan is ranked: {matches}")
        })?;
        let jan_option = self
            .browser
            .execute(
                "return document.querySelector('#expert-offer option:nth-child(2)').value",
                vec![],
            )
            .await
            .map_err(fail)?;
        let jan_option = jan_option
            .as_str()
            .ok_or("a candidate to offer to")?
            .to_owned();
        self.click(&format!("#expert-offer option[value='{jan_option}']"))
            .await?;
        self.click("#step-offer button[type=submit]").await?;
        self.wait_text(".badge.state", "Oferta u eksperta").await?;

        self.click("a[href='/users']").await?;
        self.expect_heading("Osoby i dostęp").await?;
        self.fill("#display_name", "Jan Nowak").await?;
        self.fill("#new-email", "jan@nowak.dev").await?;
        // Submitted without the contact an expert needs: the error beside the field.
        self.click("#role option[value='expert']").await?;
        self.click("form.grid button[type=submit]").await?;
        let error = self.text("#contact_id-error").await?;
        check(error.starts_with("Wybierz kontakt"), || error.clone())?;
        let jan = app
            .store
            .list_contacts(Some(ssot::domain::contact::ContactKind::Expert), None, 10)
            .await
            .map_err(fail)?
            .into_iter()
            .find(|c| c.full_name == "Jan Nowak")
            .ok_or("the seeded expert")?;
        self.click(&format!("#contact_id option[value='{}']", jan.id))
            .await?;
        self.click("form.grid button[type=submit]").await?;
        let link = self
            .browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#invitation-url"))
            .await
            .map_err(|e| format!("no invitation link shown: {e}"))?
            .prop("value")
            .await
            .map_err(fail)?
            .ok_or("the link field is empty")?;
        let copy_shown = self
            .browser
            .execute(
                "return !document.querySelector('button[data-copy]').hidden",
                vec![],
            )
            .await
            .map_err(fail)?;
        check(copy_shown == json!(true), || {
            "app.js ran under the page's CSP and showed the copy button".into()
        })?;
        self.look("users", "pl", "desktop").await?;
        self.sign_out().await?;

        // The expert takes the link (on this hub, whatever public_url says).
        let path = link
            .find("/invitation/")
            .map(|i| &link[i..])
            .ok_or("a link to /invitation/")?;
        self.goto(path).await?;
        self.expect_heading("Ustaw hasło").await?;
        self.look("invitation", "pl", "desktop").await?;
        self.fill("#password", PASSWORD).await?;
        self.fill("#confirm", PASSWORD).await?;
        self.click("form.stack button[type=submit]").await?;
        self.expect_heading("Moje projekty").await?;
        self.language("en").await?;
        self.expect_heading("My projects").await?;
        let rows = self.text("tbody").await?;
        check(rows.contains("Sklep internetowy"), || {
            format!("Jan's project is listed: {rows}")
        })?;
        self.look("my-projects", "en", "desktop").await?;
        self.click("nav a[href='/credentials']").await?;
        self.expect_heading("My credentials").await?;
        self.look("credentials", "en", "desktop").await?;
        // Jan accepts the offer on its page.
        self.goto(&format!("/projects/{stock}")).await?;
        self.expect_heading(STOCK).await?;
        self.click("#step-accept button[type=submit]").await?;
        self.wait_text(".badge.state", "Accepted").await?;
        self.sign_out().await?;
        self.goto(path).await?;
        self.expect_heading("This link no longer works").await?;

        // The dashboard in English on a phone.
        self.size(PHONE).await?;
        self.sign_in("ala@agency.pl").await?;
        self.language("en").await?;
        self.expect_heading("Operator dashboard").await?;
        self.look("dashboard", "en", "phone").await?;
        self.goto("/users").await?;
        self.look("users", "en", "phone").await?;
        self.goto("/contacts?kind=expert").await?;
        self.expect_heading("Clients and experts").await?;
        self.click("#contacts tbody a").await?;
        self.expect_heading("Jan Nowak").await?;
        self.look("expert", "en", "phone").await?;
        self.goto("/deliveries").await?;
        self.expect_heading("Failed deliveries to the tools")
            .await?;
        self.look("deliveries", "en", "phone").await?;
        self.click("nav a[href='/reviews']").await?;
        self.expect_heading("Documents to review").await?;
        self.look("reviews", "en", "phone").await?;
        self.click("input[name=decision][value=reject]").await?;
        self.fill(
            "textarea[name=comment]",
            "The scan cannot be read; please upload the signed PDF.",
        )
        .await?;
        self.click("form.decide button[type=submit]").await?;
        let notice = self.text("[role=status]").await?;
        check(
            notice.starts_with("Saved: the document is rejected."),
            || notice.clone(),
        )?;
        let empty = self.text("main .card .muted").await?;
        check(empty.starts_with("The queue is empty"), || empty.clone())?;
        self.language("pl").await?;
        self.sign_out().await?;
        self.look("sign-in", "pl", "phone").await
    }

    /// A client on a phone: their projects only; staff pages do not exist
    /// for them.
    async fn client_walk(&self, app: &TestApp, anna: &Value) -> Outcome {
        self.size(PHONE).await?;
        self.browser.delete_all_cookies().await.map_err(fail)?;
        self.sign_in("anna@kowalska.pl").await?;
        self.expect_heading("Moje projekty").await?;
        let rows = self.text("tbody").await?;
        check(
            rows.contains(anna["title"].as_str().unwrap_or("?")) && !rows.contains("Magazyn"),
            || format!("only her projects: {rows}"),
        )?;
        self.look("my-projects", "pl", "phone").await?;
        self.click("tbody a").await?;
        self.expect_heading(anna["title"].as_str().unwrap_or("?"))
            .await?;
        let steps = self
            .browser
            .find_all(Locator::Css("form[action$='/transitions']"))
            .await
            .map_err(fail)?;
        check(steps.is_empty(), || {
            "a client is offered no lifecycle steps".into()
        })?;
        self.look("project", "pl", "phone").await?;
        // The rejected scan replaced by a PDF, through the page's own form.
        let file = self
            .shots
            .with_file_name(format!("browser-nda-{}.pdf", self.backend));
        let nda = pdfs::pdf(&[&[
            "UMOWA O ZACHOWANIU POUFNOŚCI",
            "Coretex Hub Sp. z o.o.",
            "Podpisano kwalifikowanym podpisem elektronicznym",
        ]]);
        std::fs::write(&file, nda).map_err(fail)?;
        let input = self
            .browser
            .find(Locator::Css("#upload-file"))
            .await
            .map_err(fail)?;
        input
            .send_keys(&file.display().to_string())
            .await
            .map_err(fail)?;
        self.click("#upload button[type=submit]").await?;
        let notice = self.text("[role=status]").await?;
        check(
            notice.starts_with("Dokument „nda” został przyjęty"),
            || notice.clone(),
        )?;
        let uploads = self.text("#uploads").await?;
        check(
            uploads.contains(&format!("browser-nda-{}.pdf", self.backend)),
            || uploads.clone(),
        )?;
        // The agent decides while she watches: the badge changes without a reload.
        self.browser
            .execute("document.body.dataset.loaded = 'before'", vec![])
            .await
            .map_err(fail)?;
        app.verify_all().await;
        let upload = format!("browser-nda-{}.pdf", self.backend);
        for _ in 0..100 {
            let row = self
                .text("#uploads tbody tr:last-child")
                .await
                .unwrap_or_default();
            if row.contains(&upload) && !row.contains("w kolejce") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let row = self.text("#uploads tbody tr:last-child").await?;
        let same_page = self
            .browser
            .execute("return document.body.dataset.loaded", vec![])
            .await
            .map_err(fail)?;
        check(
            !row.contains("w kolejce") && same_page == json!("before"),
            || format!("the state changed in place: {row}"),
        )?;

        // A question for the team, in the project's helpdesk.
        self.fill("#ticket-subject", "Kiedy start?").await?;
        self.fill("#ticket-body", "Dzień dobry, kiedy ekspert zacznie pracę?")
            .await?;
        self.click("#new-ticket button[type=submit]").await?;
        let thread = self.wait_text("#helpdesk", "Kiedy start?").await?;
        check(thread.contains("kiedy ekspert zacznie"), || thread.clone())?;
        self.look("helpdesk", "pl", "phone").await?;
        self.goto("/users").await?;
        self.expect_heading("Nie znaleziono strony").await?;
        self.look("not-found", "pl", "phone").await?;
        self.click("main a[href='/']").await?;
        self.expect_heading("Moje projekty").await?;
        self.size(DESK).await?;
        self.sign_out().await
    }
}

/// The id of the project titled `title`.
async fn app_project(app: &TestApp, title: &str) -> Result<String, String> {
    let all = app
        .store
        .list_projects(&ssot::store::ProjectFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .map_err(fail)?;
    all.into_iter()
        .find(|p| p.title == title)
        .map(|p| p.id.to_string())
        .ok_or_else(|| format!("no project `{title}`"))
}

/// A portfolio to look at: projects in several states, a document waiting
/// for review, an admin, a client user and an expert not yet invited.
async fn seed(app: &TestApp) -> Value {
    let anna = app.client_contact("Anna Kowalska").await;
    let piotr = app.client_contact("Piotr Zieliński").await;
    let shop = named_project(app, &anna, SHOP).await;
    let stock = named_project(app, &piotr, STOCK).await;
    named_project(app, &anna, "Raporty sprzedaży co tydzień").await;
    let jan = app.vetted_expert("Jan Nowak", 3).await;
    let jan_t = app.token_for("expert", &jan).await;
    for pid in [&shop, &stock] {
        app.act(&app.operator, pid, "start_matching", json!({}))
            .await
            .expect(200);
    }
    app.act(
        &app.operator,
        &shop,
        "offer",
        json!({ "expert_id": jan["id"] }),
    )
    .await
    .expect(200);
    app.act(&jan_t, &shop, "accept", json!({}))
        .await
        .expect(200);
    app.baseline(&shop).await;
    app.act(&app.operator, &shop, "start_credentialing", json!({}))
        .await
        .expect(200);
    // An NDA whose parties and confidentiality rules can check, but whose
    // signatures and data-processing clause no rule decides: without a
    // model it waits for a person in the review queue.
    let legal = format!(
        "Klient: {}",
        anna["legal_name"].as_str().unwrap_or_default()
    );
    let nda = pdfs::pdf(&[&[
        "UMOWA O ZACHOWANIU POUFNOŚCI",
        "zawarta 2 grudnia 2026 r. w Warszawie pomiędzy:",
        &legal,
        "a Coretex Hub Sp. z o.o. (Agencja).",
        "§ 1. Strony zobowiązują się zachować w tajemnicy informacje poufne.",
        "§ 2. Dane osobowe klientów Klienta Agencja przetwarza wyłącznie na jego polecenie.",
        "Podpis Klienta: ______________      Podpis Agencji: ______________",
    ]]);
    app.upload(
        &app.operator,
        &format!("/projects/{shop}/documents"),
        "nda",
        "umowa-nda.pdf",
        nda,
    )
    .await
    .expect(201);
    app.verify_all().await;
    let anna_id = id(&anna).parse().unwrap();
    for (role, email, name, contact) in [
        (Role::Admin, "ala@agency.pl", "Ala Administratorka", None),
        (
            Role::Client,
            "anna@kowalska.pl",
            "Anna Kowalska",
            Some(anna_id),
        ),
    ] {
        ssot::user_cmd::create(
            &app.store,
            role,
            email,
            name,
            contact,
            Some(PASSWORD.into()),
            (time::Duration::hours(1), "http://hub"),
            &admin_actor(),
        )
        .await
        .unwrap();
    }
    json!({ "id": anna["id"], "title": SHOP })
}

const SHOP: &str = "Sklep internetowy: faktury do księgowości";
const STOCK: &str = "Magazyn: stany z arkusza do sklepu";

async fn named_project(app: &TestApp, client: &Value, title: &str) -> String {
    let body = json!({ "client_id": client["id"], "title": title,
                       "spec": "Automatyzacja procesu opisanego w formularzu konsultacji.",
                       "skills": ["automation"], "industry": "retail", "required_documents": ["nda"] });
    id(&app.post(&app.operator, "/projects", body).await.expect(201))
}
