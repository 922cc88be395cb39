//! The pages over HTTP, as a browser without script would use them: sign-in
//! and out, sessions ended server-side, CSRF on every form, throttled
//! sign-in without user enumeration, one-time invitations, 404 for what a
//! person may not see, and the language switch. The real-browser walk is in
//! `tests/browser`.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use ssot::domain::actor::Role;
use ssot::domain::ids::ContactId;

use crate::helpers::{TestApp, admin_actor, id, on_both_backends, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// A browser without script: keeps cookies, follows no redirects.
struct Visitor {
    site: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
    language: &'static str,
}

/// An answer: status, headers, body text.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The form token the page's forms carry.
    fn csrf(&self) -> String {
        let re = regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#).unwrap();
        re.captures(&self.text)
            .unwrap_or_else(|| panic!("no form token on the page:\n{}", self.text))[1]
            .to_owned()
    }

    fn cookie_header(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

impl Visitor {
    fn new(app: &TestApp, language: &'static str) -> Self {
        Self {
            site: app.base.trim_end_matches("/api/v1").to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            language,
        }
    }

    fn cookie_line(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let res = req
            .header("cookie", self.cookie_line())
            .header("accept-language", self.language)
            .send()
            .await
            .unwrap();
        for v in res.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            text: res.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.site));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = self
            .http
            .post(format!("{}{path}", self.site))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Posts a multipart form: the text fields in order, then the file.
    async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, Vec<u8>)) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_owned()),
        );
        let req = self
            .http
            .post(format!("{}{path}", self.site))
            .multipart(form);
        self.send(req).await
    }

    /// Signs in through the form; the answer to the form's post.
    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        let csrf = form.csrf();
        self.post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

async fn user(app: &TestApp, role: Role, email: &str, contact: Option<ContactId>) {
    ssot::user_cmd::create(
        &app.store,
        role,
        email,
        &format!("{role} user"),
        contact,
        Some(PASSWORD.into()),
        (time::Duration::hours(1), "http://hub"),
        &admin_actor(),
    )
    .await
    .unwrap();
}

fn text_between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html.find(open).map_or(0, |i| i + open.len());
    let end = html[start..].find(close).map_or(html.len(), |i| start + i);
    &html[start..end]
}

on_both_backends! {
    async fn signing_in_and_out_keeps_the_session_on_the_server(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Admin, "ala@agency.pl", None).await;
        let mut v = Visitor::new(&app, "pl-PL,pl;q=0.9");

        let start = v.get("/").await;
        assert_eq!(start.status, StatusCode::SEE_OTHER);
        assert_eq!(start.location(), "/sign-in?next=%2F");
        let form = v.get("/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text.contains(r#"<html lang="pl">"#));
        assert!(form.text.contains("Zaloguj się"));
        let csp = form.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(form.headers["x-frame-options"], "DENY");
        assert_eq!(form.headers["x-content-type-options"], "nosniff");

        // No token, or another one: refused, and no session is made.
        for token in ["", &"0".repeat(64)] {
            let page = v
                .post("/sign-in", &[("csrf", token), ("email", "ala@agency.pl"), ("password", PASSWORD)])
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
            assert!(page.text.contains("Formularz wygasł"));
            assert!(page.cookie_header("ssot_session").is_none());
        }

        let signed = v.sign_in("ALA@agency.pl", PASSWORD).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
        assert_eq!(signed.location(), "/");
        let cookie = signed.cookie_header("ssot_session").unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain HTTP unless configured: {cookie}");
        let session = v.cookies["ssot_session"].clone();

        let dashboard = v.get("/").await;
        assert_eq!(dashboard.status, StatusCode::OK);
        assert!(dashboard.text.contains("Pulpit operatora"), "{}", dashboard.text);
        assert!(dashboard.text.contains("Zgłoszenie"), "every state is listed");

        // Sign-out needs the session's token too.
        let refused = v.post("/sign-out", &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(v.get("/").await.status, StatusCode::OK, "still signed in");
        let csrf = dashboard.csrf();
        let out = v.post("/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(out.cookie_header("ssot_session").unwrap().contains("Max-Age=0"));

        // The old cookie, replayed, is dead on the server.
        v.cookies.insert("ssot_session".into(), session);
        let replay = v.get("/").await;
        assert_eq!(replay.status, StatusCode::SEE_OTHER, "{}", replay.text);
        assert!(replay.location().starts_with("/sign-in"));
    }
}

on_both_backends! {
    async fn a_failed_sign_in_says_the_same_for_every_account_and_locks_after_five(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;

        let mut v = Visitor::new(&app, "en");
        let wrong = v.sign_in("olga@agency.pl", "not the password at all").await;
        let mut w = Visitor::new(&app, "en");
        let unknown = w.sign_in("nobody@agency.pl", "not the password at all").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        let message = |p: &Page| text_between(&p.text, r#"role="alert" id="sign-in-error">"#, "</p>").to_owned();
        assert_eq!(message(&wrong), "Wrong e-mail or password.");
        assert_eq!(message(&wrong), message(&unknown), "no hint whether the account exists");

        for _ in 0..3 {
            let again = v.sign_in("olga@agency.pl", "still not the password").await;
            assert_eq!(again.status, StatusCode::UNAUTHORIZED);
        }
        // Five failures: even the right password now waits.
        let locked = v.sign_in("olga@agency.pl", PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.text);
        let wait: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(message(&locked).starts_with("Too many failed attempts. Try again in"), "{}", message(&locked));
        assert!(locked.cookie_header("ssot_session").is_none());
    }
}

on_both_backends! {
    async fn an_invitation_sets_a_password_once(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let jan = app.vetted_expert("Jan Nowak", 2).await;
        let mut olga = Visitor::new(&app, "en");
        olga.sign_in("olga@agency.pl", PASSWORD).await;

        let people = olga.get("/users").await;
        assert_eq!(people.status, StatusCode::OK);
        let csrf = people.csrf();
        // An expert without their contact: the error stands beside the field.
        let missing = olga
            .post("/users", &[("csrf", &csrf), ("email", "jan@nowak.dev"), ("display_name", "Jan Nowak"), ("role", "expert"), ("contact_id", "")])
            .await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(missing.text.contains(r#"id="contact_id-error""#), "{}", missing.text);
        assert!(missing.text.contains(r#"value="jan@nowak.dev""#), "what was typed stays");
        // An operator may not make admins.
        let admin = olga
            .post("/users", &[("csrf", &csrf), ("email", "eve@agency.pl"), ("display_name", "Eve"), ("role", "admin"), ("contact_id", "")])
            .await;
        assert_eq!(admin.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(admin.text.contains(r#"id="role-error""#));

        let made = olga
            .post("/users", &[("csrf", &csrf), ("email", "jan@nowak.dev"), ("display_name", "Jan Nowak"), ("role", "expert"), ("contact_id", &id(&jan))])
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let re = regex::Regex::new(r#"id="invitation-url" type="text" readonly value="[^"]*(/invitation/[0-9a-f]{64})""#).unwrap();
        let link = re.captures(&made.text).expect("the link is shown to copy")[1].to_owned();
        assert_eq!(made.text.matches("/invitation/").count(), 1, "the link appears once");

        let mut jan_browser = Visitor::new(&app, "pl");
        let page = jan_browser.get(&link).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Witaj, Jan Nowak!"));
        assert_eq!(page.headers["referrer-policy"], "no-referrer", "the secret never leaves in a Referer");
        let csrf = page.csrf();
        let differ = jan_browser.post(&link, &[("csrf", &csrf), ("password", PASSWORD), ("confirm", "something else entirely")]).await;
        assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(differ.text.contains("Hasła nie są takie same."));
        let short = jan_browser.post(&link, &[("csrf", &csrf), ("password", "short"), ("confirm", "short")]).await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        let no_token = jan_browser.post(&link, &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);

        let set = jan_browser.post(&link, &[("csrf", &csrf), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text);
        let home = jan_browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.text.contains("Moje projekty"));

        // The link worked once.
        let mut again = Visitor::new(&app, "pl");
        let gone = again.get(&link).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert!(gone.text.contains("Link jest nieważny"));
        let csrf = again.get("/sign-in").await.csrf();
        let replay = again.post(&link, &[("csrf", &csrf), ("password", "another long password"), ("confirm", "another long password")]).await;
        assert_eq!(replay.status, StatusCode::NOT_FOUND);
        assert_eq!(again.sign_in("jan@nowak.dev", PASSWORD).await.status, StatusCode::SEE_OTHER);
    }
}

on_both_backends! {
    async fn people_see_only_their_own_pages(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let other = app.client_contact("Piotr Zieliński").await;
        let hers = app.project(&anna, &[]).await;
        app.project(&other, &[]).await;
        let anna_id: ContactId = id(&anna).parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna_id)).await;
        let mut v = Visitor::new(&app, "pl");
        v.sign_in("anna@kowalska.pl", PASSWORD).await;

        let home = v.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.text.contains(hers["title"].as_str().unwrap()));
        assert_eq!(home.text.matches("<tr><td>").count(), 1, "only her project: {}", home.text);
        assert!(!home.text.contains("/users"), "no staff navigation");

        // Staff pages and forms: the same 404 as a page that does not exist.
        let csrf = home.csrf();
        let missing = v.get("/no-such-page").await;
        for page in [
            v.get("/users").await,
            v.post("/users", &[("csrf", &csrf), ("email", "x@y.pl"), ("display_name", "X"), ("role", "client"), ("contact_id", &id(&other))]).await,
        ] {
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            assert_eq!(text_between(&page.text, "<main", "</main>"), text_between(&missing.text, "<main", "</main>"));
        }
        assert!(app.store.list_users().await.unwrap().len() == 1, "nothing was created");
    }
}

on_both_backends! {
    async fn disabling_a_user_ends_their_sessions(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Admin, "ala@agency.pl", None).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let mut ala = Visitor::new(&app, "en");
        ala.sign_in("ala@agency.pl", PASSWORD).await;
        let mut olga = Visitor::new(&app, "en");
        olga.sign_in("olga@agency.pl", PASSWORD).await;
        assert_eq!(olga.get("/").await.status, StatusCode::OK);

        let olga_id = app
            .store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.email.as_str() == "olga@agency.pl")
            .unwrap()
            .id;
        let people = ala.get("/users").await;
        let csrf = people.csrf();
        // An admin cannot lock themself out.
        let ala_id = app.store.list_users().await.unwrap().into_iter().find(|u| u.role == Role::Admin).unwrap().id;
        let own = ala.post(&format!("/users/{ala_id}/disable"), &[("csrf", &csrf)]).await;
        assert_eq!(own.status, StatusCode::CONFLICT);
        // An operator may not disable anyone: the page does not exist for them.
        let olga_csrf = olga.get("/users").await.csrf();
        let not_theirs = olga.post(&format!("/users/{ala_id}/disable"), &[("csrf", &olga_csrf)]).await;
        assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);

        let done = ala.post(&format!("/users/{olga_id}/disable"), &[("csrf", &csrf)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert!(olga.get("/").await.location().starts_with("/sign-in"), "her session ended");
        assert_eq!(olga.sign_in("olga@agency.pl", PASSWORD).await.status, StatusCode::UNAUTHORIZED);

        let back = ala.post(&format!("/users/{olga_id}/enable"), &[("csrf", &csrf)]).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        assert_eq!(olga.sign_in("olga@agency.pl", PASSWORD).await.status, StatusCode::SEE_OTHER);
        let unknown = ala.post(&format!("/users/{}/disable", uuid::Uuid::now_v7()), &[("csrf", &csrf)]).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let garbage = ala.post("/users/not-an-id/disable", &[("csrf", &csrf)]).await;
        assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn the_language_follows_the_choice_then_the_browser(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let mut v = Visitor::new(&app, "en-GB,en;q=0.8");
        let page = v.get("/sign-in").await;
        assert!(page.text.contains(r#"<html lang="en">"#));
        let csrf = page.csrf();
        let switched = v.post("/language", &[("csrf", &csrf), ("locale", "pl"), ("back", "/sign-in")]).await;
        assert_eq!(switched.status, StatusCode::SEE_OTHER);
        assert_eq!(switched.location(), "/sign-in");
        assert!(v.get("/sign-in").await.text.contains(r#"<html lang="pl">"#));
        // A foreign place to come back to is not followed.
        let away = v.post("/language", &[("csrf", &csrf), ("locale", "en"), ("back", "https://evil.example/")]).await;
        assert_eq!(away.location(), "/");
        let bad = v.post("/language", &[("csrf", &csrf), ("locale", "de")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        // Signed in, the choice is kept with the user, on any browser.
        v.sign_in("olga@agency.pl", PASSWORD).await;
        let csrf = v.get("/").await.csrf();
        v.post("/language", &[("csrf", &csrf), ("locale", "pl"), ("back", "/")]).await;
        let mut elsewhere = Visitor::new(&app, "en");
        elsewhere.sign_in("olga@agency.pl", PASSWORD).await;
        let home = elsewhere.get("/").await;
        assert!(home.text.contains(r#"<html lang="pl">"#), "{}", &home.text[..200]);
    }
}

#[tokio::test]
async fn static_files_and_unknown_paths() {
    let app = spawn_app(crate::helpers::TestDb::sqlite().await).await;
    let mut v = Visitor::new(&app, "pl");
    let css = v.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        v.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(v.get("/static/nope.js").await.status, StatusCode::NOT_FOUND);
    let page = v.get("/nowhere").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let api = v.get("/api/v1/nowhere").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(
        api.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

/// A scan the agent cannot read, waiting in the review queue: its project,
/// the document's id.
async fn document_in_review(app: &TestApp) -> (String, String) {
    let client = app.client_contact("Anna Kowalska").await;
    let (pid, _, _) = app.accepted_project(&client, &["nda"]).await;
    app.act(
        &app.operator,
        &pid,
        "start_credentialing",
        serde_json::json!({}),
    )
    .await
    .expect(200);
    let scan = [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        uuid::Uuid::now_v7().as_bytes().to_vec(),
    ]
    .concat();
    let up = app
        .upload(
            &app.operator,
            &format!("/projects/{pid}/documents"),
            "nda",
            "umowa.png",
            scan,
        )
        .await
        .expect(201);
    assert_eq!(app.verify_all().await, 1);
    (pid, up["document"]["id"].as_str().unwrap().to_owned())
}

on_both_backends! {
    async fn a_reviewer_decides_from_the_queue_with_the_apis_rules(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let (pid, doc) = document_in_review(&app).await;
        let mut v = Visitor::new(&app, "en");
        v.sign_in("olga@agency.pl", PASSWORD).await;

        let queue = v.get("/reviews").await;
        assert_eq!(queue.status, StatusCode::OK);
        assert!(queue.text.contains("1 document waits for a decision"), "{}", queue.text);
        assert!(queue.text.contains(&format!(r#"action="/reviews/{doc}""#)));
        assert!(queue.text.contains("umowa.png"));
        assert!(queue.text.contains("hand to a person"), "the agent's outcome is shown");
        let csrf = queue.csrf();
        let path = format!("/reviews/{doc}");

        // Refused forms change nothing: no token, no choice, an expiry that
        // has passed or goes with a rejection, a date that is no date.
        assert_eq!(v.post(&path, &[("decision", "approve")]).await.status, StatusCode::FORBIDDEN);
        for (form, message) in [
            (vec![("comment", "looked")], "Choose approve or reject."),
            (vec![("decision", "approve"), ("expires_on", "2020-01-31")], "This date has passed"),
            (vec![("decision", "reject"), ("expires_on", "2099-01-31")], "goes with an approval only"),
            (vec![("decision", "approve"), ("expires_on", "31.01.2099")], "Enter a date as YYYY-MM-DD."),
        ] {
            let mut form = form;
            form.push(("csrf", &csrf));
            let page = v.post(&path, &form).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
            assert!(page.text.contains(message), "{message}: {}", page.text);
            assert!(page.text.contains(r#"aria-invalid="true""#) || message.starts_with("Choose"));
        }
        let long = "x".repeat(2001);
        let page = v.post(&path, &[("csrf", &csrf), ("decision", "reject"), ("comment", &long)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text.contains("at most 2000 characters"), "{}", page.text);
        let still = app.get(&app.operator, &format!("/documents/{doc}")).await.expect(200);
        assert_eq!(still["document"]["status"], "review");

        // The approval has the agent's effects: the project becomes active.
        let done = v
            .post(&path, &[("csrf", &csrf), ("decision", "approve"), ("expires_on", "2099-12-31"), ("comment", "signed by both")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(done.location(), "/reviews?done=approved");
        let after = v.get(done.location()).await;
        assert!(after.text.contains("Saved: the document is approved."));
        assert!(after.text.contains("The queue is empty"));
        let document = app.get(&app.operator, &format!("/documents/{doc}")).await.expect(200);
        assert_eq!(document["document"]["status"], "approved");
        assert_eq!(document["document"]["expires_on"], "2099-12-31");
        assert_eq!(document["document"]["decision_comment"], "signed by both");
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert_eq!(project["state"], "active", "{project}");

        // Deciding again is refused with the API's reason.
        let again = v.post(&path, &[("csrf", &csrf), ("decision", "reject")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.text.contains("not waiting for review"), "{}", again.text);

        // Unknown and malformed ids are pages that do not exist.
        let unknown = format!("/reviews/{}", uuid::Uuid::now_v7());
        assert_eq!(v.post(&unknown, &[("csrf", &csrf), ("decision", "reject")]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(v.post("/reviews/garbage", &[("csrf", &csrf), ("decision", "reject")]).await.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn the_review_queue_is_staff_only(db) {
        let app = spawn_app(db).await;
        let (_, doc) = document_in_review(&app).await;
        let client = app.client_contact("Piotr Zieliński").await;
        let contact: ContactId = id(&client).parse().unwrap();
        user(&app, Role::Client, "piotr@zielinski.pl", Some(contact)).await;
        let mut v = Visitor::new(&app, "pl");
        v.sign_in("piotr@zielinski.pl", PASSWORD).await;
        let queue = v.get("/reviews").await;
        assert_eq!(queue.status, StatusCode::NOT_FOUND);
        assert!(!queue.text.contains(&doc));
        let csrf = v.get("/").await.csrf();
        let page = v.post(&format!("/reviews/{doc}"), &[("csrf", &csrf), ("decision", "approve")]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let document = app.get(&app.operator, &format!("/documents/{doc}")).await.expect(200);
        assert_eq!(document["document"]["status"], "review");
    }
}

/// The `expected_version` the project page's step forms carry.
fn version_on(page: &Page) -> String {
    let re = regex::Regex::new(r#"name="expected_version" value="(\d+)""#).unwrap();
    re.captures(&page.text)
        .unwrap_or_else(|| panic!("no step form on the page:\n{}", page.text))[1]
        .to_owned()
}

on_both_backends! {
    async fn a_project_moves_through_its_page_with_the_apis_rules(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let client = app.client_contact("Anna Kowalska").await;
        let pid = id(&app.project(&client, &["nda"]).await);
        let jan = app.vetted_expert("Jan Nowak", 2).await;
        let jan_id: ContactId = id(&jan).parse().unwrap();
        user(&app, Role::Expert, "jan@nowak.dev", Some(jan_id)).await;
        let path = format!("/projects/{pid}");
        let steps = format!("{path}/transitions");
        let mut olga = Visitor::new(&app, "en");
        olga.sign_in("olga@agency.pl", PASSWORD).await;

        let page = olga.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Invoice automation") && page.text.contains("Anna Kowalska"));
        assert!(page.text.contains("Start matching") && page.text.contains("Cancel the project"));
        let csrf = page.csrf();
        let v = version_on(&page);
        let moved = olga.post(&steps, &[("csrf", &csrf), ("action", "start_matching"), ("expected_version", &v)]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
        assert_eq!(moved.location(), path);
        let state = || async { app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200)["state"].clone() };
        assert_eq!(state().await, "matching");

        // A form from before the move is refused: someone changed the project first.
        let stale = olga.post(&steps, &[("csrf", &csrf), ("action", "cancel"), ("reason", "duplicate"), ("expected_version", &v)]).await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        assert!(stale.text.contains("Not saved:"), "{}", stale.text);
        // An offer needs an expert, a cancellation a reason: errors beside the fields.
        let page = olga.get(&path).await;
        assert!(page.text.contains("Jan Nowak"), "the vetted expert is offered as a candidate");
        let matches = text_between(&page.text, r#"id="matches""#, "</section>");
        assert!(matches.contains("Jan Nowak") && matches.contains("automation") && matches.contains("100\u{a0}%"), "the score's parts: {matches}");
        let v = version_on(&page);
        let no_expert = olga.post(&steps, &[("csrf", &csrf), ("action", "offer"), ("expert_id", ""), ("expected_version", &v)]).await;
        assert_eq!(no_expert.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_expert.text.contains("Choose an expert from the list."), "{}", no_expert.text);
        let no_reason = olga.post(&steps, &[("csrf", &csrf), ("action", "cancel"), ("reason", "  ")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.text.contains("Give a reason"), "{}", no_reason.text);
        // A step the state does not allow, posted by hand: the reason, in words.
        let wrong = olga.post(&steps, &[("csrf", &csrf), ("action", "complete")]).await;
        assert_eq!(wrong.status, StatusCode::CONFLICT);
        assert!(wrong.text.contains("A project in “Matching” does not allow “Complete”."), "{}", wrong.text);
        assert_eq!(olga.post(&steps, &[("csrf", &csrf), ("action", "fly")]).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(state().await, "matching", "nothing refused changed the project");

        let offered = olga.post(&steps, &[("csrf", &csrf), ("action", "offer"), ("expert_id", &id(&jan))]).await;
        assert_eq!(offered.status, StatusCode::SEE_OTHER, "{}", offered.text);

        // The expert accepts on the same page; staff-only steps are not offered to him.
        let mut jan_v = Visitor::new(&app, "pl");
        jan_v.sign_in("jan@nowak.dev", PASSWORD).await;
        let his = jan_v.get(&path).await;
        assert_eq!(his.status, StatusCode::OK);
        assert!(his.text.contains("Przyjmij projekt") && !his.text.contains("Anuluj projekt"), "{}", his.text);
        let jan_csrf = his.csrf();
        let forged = jan_v.post(&steps, &[("csrf", &jan_csrf), ("action", "cancel"), ("reason", "no")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.text.contains("Nie możesz wykonać kroku „Anuluj projekt”"), "{}", forged.text);
        let accepted = jan_v.post(&steps, &[("csrf", &jan_csrf), ("action", "accept")]).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.text);
        assert_eq!(state().await, "accepted");

        // Credentialing waits for the baseline (step 6); the gate says so.
        let gate = olga.post(&steps, &[("csrf", &csrf), ("action", "start_credentialing")]).await;
        assert_eq!(gate.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", gate.text);
        assert!(gate.text.contains("condition does not hold: record the baseline"), "{}", gate.text);
        let baseline = format!("{path}/baseline");
        let bad = olga
            .post(&baseline, &[("csrf", &csrf), ("hours_before", "10"), ("hours_after", "20"), ("hourly_value", "x"),
                               ("horizon_months", "0"), ("price", "5000")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text.contains("Enter an amount above zero."), "{}", bad.text);
        assert!(bad.text.contains(r#"value="20""#), "what was typed stays");
        let good = olga
            .post(&baseline, &[("csrf", &csrf), ("hours_before", "40,5"), ("hours_after", "10"), ("hourly_value", "120"),
                               ("horizon_months", "12"), ("price", "9 000")])
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.text);
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert_eq!(project["baseline"]["hours_before"], 40.5);
        assert_eq!(project["baseline"]["price"], 9000.0);
        let page = olga.get(&path).await;
        assert!(page.text.contains("PLN\u{a0}43,920"), "30.5 h x 120 x 12 months: {}", page.text);
        let started = olga.post(&steps, &[("csrf", &csrf), ("action", "start_credentialing")]).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
        assert_eq!(state().await, "credentialing");
        let page = olga.get(&path).await;
        assert!(page.text.contains("missing"), "the NDA is listed as missing");
        let trail = text_between(&page.text, "<ol class=\"trail\">", "</ol>");
        assert!(trail.contains("Start matching") && trail.contains("operator user") && trail.contains("expert user"),
            "the trail names each step and who took it: {trail}");
    }
}

on_both_backends! {
    async fn a_project_page_is_only_for_its_people(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let piotr = app.client_contact("Piotr Zieliński").await;
        let pid = id(&app.project(&anna, &[]).await);
        let anna_id: ContactId = id(&anna).parse().unwrap();
        let piotr_id: ContactId = id(&piotr).parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna_id)).await;
        user(&app, Role::Client, "piotr@zielinski.pl", Some(piotr_id)).await;
        let path = format!("/projects/{pid}");

        let mut anna_v = Visitor::new(&app, "pl");
        anna_v.sign_in("anna@kowalska.pl", PASSWORD).await;
        let home = anna_v.get("/").await;
        assert!(home.text.contains(&format!(r#"href="{path}""#)), "her list links to the project");
        let hers = anna_v.get(&path).await;
        assert_eq!(hers.status, StatusCode::OK);
        assert!(hers.text.contains("Historia") && !hers.text.contains("/transitions"), "no steps for a client");
        let csrf = hers.csrf();
        let forged = anna_v.post(&format!("{path}/transitions"), &[("csrf", &csrf), ("action", "start_matching")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let figures = anna_v.post(&format!("{path}/baseline"), &[("csrf", &csrf), ("hours_before", "1")]).await;
        assert_eq!(figures.status, StatusCode::NOT_FOUND);

        let mut piotr_v = Visitor::new(&app, "pl");
        piotr_v.sign_in("piotr@zielinski.pl", PASSWORD).await;
        assert_eq!(piotr_v.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(piotr_v.get(&format!("{path}/documents/status")).await.status, StatusCode::NOT_FOUND);
        let csrf = piotr_v.get("/").await.csrf();
        let other = piotr_v.post(&format!("{path}/transitions"), &[("csrf", &csrf), ("action", "start_matching")]).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        assert_eq!(piotr_v.get("/projects/garbage").await.status, StatusCode::NOT_FOUND);
        assert_eq!(piotr_v.get(&format!("/projects/{}", uuid::Uuid::now_v7())).await.status, StatusCode::NOT_FOUND);
        let project = app.get(&app.operator, &path).await.expect(200);
        assert_eq!(project["state"], "intake");
    }
}

on_both_backends! {
    async fn a_client_uploads_her_document_from_the_project_page(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let (pid, jan, _) = app.accepted_project(&anna, &["nda"]).await;
        app.act(&app.operator, &pid, "start_credentialing", serde_json::json!({})).await.expect(200);
        let anna_id: ContactId = id(&anna).parse().unwrap();
        let jan_id: ContactId = id(&jan).parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna_id)).await;
        user(&app, Role::Expert, "jan@nowak.dev", Some(jan_id)).await;
        let path = format!("/projects/{pid}");
        let target = format!("{path}/documents");
        let documents = || async {
            app.get(&app.operator, &format!("/projects/{pid}/documents")).await.expect(200)
        };
        let mut v = Visitor::new(&app, "pl");
        v.sign_in("anna@kowalska.pl", PASSWORD).await;
        let page = v.get(&path).await;
        assert!(page.text.contains(r#"enctype="multipart/form-data""#), "{}", page.text);
        let csrf = page.csrf();
        let pdf = crate::pdfs::pdf(&[&["UMOWA O ZACHOWANIU POUFNOSCI", "Coretex Hub", "informacje poufne"]]);

        // Refused uploads leave no document behind.
        let no_token = v.upload(&target, &[("type", "nda")], ("nda.pdf", pdf.clone())).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let wrong_token = v.upload(&target, &[("csrf", &"0".repeat(64)), ("type", "nda")], ("nda.pdf", pdf.clone())).await;
        assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
        let html = v.upload(&target, &[("csrf", &csrf), ("type", "nda")], ("nda.pdf", b"<html><script>x</script></html>".to_vec())).await;
        assert_eq!(html.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(html.text.contains("Tego rodzaju pliku nie przyjmujemy"), "{}", html.text);
        let other = v.upload(&target, &[("csrf", &csrf), ("type", "passport")], ("p.pdf", pdf.clone())).await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(other.text.contains("Wybierz jeden z wymaganych dokumentów."));
        let listed = documents().await;
        assert_eq!(listed["uploaded"].as_array().map(Vec::len), Some(0), "{listed}");

        let sent = v.upload(&target, &[("csrf", &csrf), ("type", "nda")], ("umowa.pdf", pdf)).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
        assert_eq!(sent.location(), format!("{path}?uploaded=nda"));
        let after = v.get(sent.location()).await;
        assert!(after.text.contains("Dokument „nda” został przyjęty"), "{}", after.text);
        let uploads = text_between(&after.text, r#"<table id="uploads">"#, "</table>");
        assert!(uploads.contains("umowa.pdf") && uploads.contains("w kolejce do weryfikacji"), "{uploads}");
        assert_eq!(app.verify_all().await, 1, "the agent takes it up as an API upload");
        let listed = documents().await;
        assert_eq!(listed["uploaded"][0]["filename"], "umowa.pdf", "{listed}");
        assert_eq!(listed["uploaded"][0]["uploaded_by"], "client user");

        // The page's script reads the states as JSON, under the page's rules.
        let status = v.get(&format!("{path}/documents/status")).await;
        assert_eq!(status.status, StatusCode::OK);
        let status: serde_json::Value = serde_json::from_str(&status.text).unwrap();
        assert_eq!(status["required"][0]["key"], "nda", "{status}");
        assert_eq!(status["uploads"].as_array().map(Vec::len), Some(1), "{status}");
        assert_ne!(status["uploads"][0]["status"], "queued", "verified by now: {status}");
        assert!(status["uploads"][0]["label"].as_str().is_some_and(|l| !l.starts_with("doc-status")));

        // The expert sees no upload form, and a forged one is refused.
        let mut jan_v = Visitor::new(&app, "en");
        jan_v.sign_in("jan@nowak.dev", PASSWORD).await;
        let his = jan_v.get(&path).await;
        assert!(!his.text.contains("multipart/form-data"));
        let his_status = jan_v.get(&format!("{path}/documents/status")).await;
        assert!(his_status.text.contains(r#""uploads":[]"#), "not the client's files: {}", his_status.text);
        let forged = jan_v.upload(&target, &[("csrf", &his.csrf()), ("type", "nda")], ("x.pdf", b"%PDF-1.4".to_vec())).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.text.contains("Experts upload their own credentials"), "{}", forged.text);
    }
}

on_both_backends! {
    async fn an_operator_takes_a_consultation_on_the_intake_page(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let expert = app.vetted_expert("Jan Nowak", 2).await;
        let mut v = Visitor::new(&app, "pl");
        v.sign_in("olga@agency.pl", PASSWORD).await;
        let form = v.get("/intake").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text.contains(r#"name="doc:nda""#), "the vault's client documents are offered: {}", form.text);
        let csrf = form.csrf();
        let response_id = regex::Regex::new(r#"name="response_id" value="(page-[0-9a-f-]+)""#).unwrap()
            .captures(&form.text).unwrap()[1].to_owned();
        let clients = || async { app.get(&app.operator, "/contacts?kind=client").await.expect(200) };
        let before = clients().await;

        // Every wrong field at once, beside each, and nothing saved.
        let empty = v.post("/intake", &[("csrf", &csrf), ("response_id", &response_id), ("email", "nie-email"), ("hours_per_month", "1000")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        for id in ["full_name-error", "email-error", "title-error", "spec-error", "hours_per_month-error"] {
            assert!(empty.text.contains(&format!(r#"id="{id}""#)), "{id}: {}", empty.text);
        }
        assert!(empty.text.contains(r#"value="nie-email""#), "what was typed stays");
        let experts_mail = expert["email"].as_str().unwrap();
        let taken = v
            .post("/intake", &[("csrf", &csrf), ("response_id", &response_id), ("full_name", "Jan"), ("email", experts_mail),
                               ("title", "Faktury"), ("spec", "Ręcznie.")])
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(taken.text.contains("Ten adres należy do eksperta"), "{}", taken.text);
        assert_eq!(clients().await, before);

        let fields = [
            ("csrf", csrf.as_str()), ("response_id", &response_id), ("full_name", "Anna Kowalska"), ("email", "Anna@Kowalska.pl"),
            ("phone", "+48 600 100 200"), ("legal_name", "Kowalska Meble Sp. z o.o."), ("tax_id", "526-000-12-46"),
            ("title", "Faktury ze sklepu do księgowości"), ("spec", "Co tydzień przepisuję faktury z Shopera do Subiekta."),
            ("skills", "excel, automation"), ("industry", "retail"), ("hours_per_month", "40,5"), ("doc:nda", "on"),
        ];
        let saved = v.post("/intake", &fields).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let project_path = saved.location().to_owned();
        assert!(project_path.starts_with("/projects/"), "{project_path}");
        let project = app.get(&app.operator, &project_path).await.expect(200);
        assert_eq!(project["state"], "intake");
        assert_eq!(project["required_documents"], serde_json::json!(["nda"]));
        assert_eq!(project["skills"], serde_json::json!(["excel", "automation"]));
        assert_eq!(project["intake"]["hours_per_month"], 40.5);
        let client = app.get(&app.operator, &format!("/contacts/{}", project["client_id"].as_str().unwrap())).await.expect(200);
        assert_eq!(client["email"], "anna@kowalska.pl");
        assert_eq!(client["legal_name"], "Kowalska Meble Sp. z o.o.");

        // The same form sent again (a double click, a reload) is the same project.
        let again = v.post("/intake", &fields).await;
        assert_eq!(again.location(), project_path);
        let projects = app.get(&app.operator, "/projects").await.expect(200);
        assert_eq!(projects["items"].as_array().map(Vec::len), Some(1), "{projects}");

        // Not for clients; a forged response id is no form.
        let anna: ContactId = project["client_id"].as_str().unwrap().parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna)).await;
        let mut anna_v = Visitor::new(&app, "pl");
        anna_v.sign_in("anna@kowalska.pl", PASSWORD).await;
        assert_eq!(anna_v.get("/intake").await.status, StatusCode::NOT_FOUND);
        let forged = v.post("/intake", &[("csrf", &csrf), ("response_id", "gf-123")]).await;
        assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    }
}

on_both_backends! {
    async fn the_board_has_a_column_per_state_and_filters(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let piotr = app.client_contact("Piotr Zieliński").await;
        let (held, jan, _) = app.accepted_project(&anna, &["nda", "insurance_certificate"]).await;
        let fresh = id(&app.project(&piotr, &[]).await);
        let mut v = Visitor::new(&app, "en");
        v.sign_in("olga@agency.pl", PASSWORD).await;

        let board = v.get("/board").await;
        assert_eq!(board.status, StatusCode::OK);
        assert_eq!(board.text.matches(r#"<section class="column""#).count(), 10, "one column per state");
        assert!(board.text.contains("2 projects."), "{}", board.text);
        let accepted = text_between(&board.text, r#"data-state="accepted""#, "</section>");
        assert!(accepted.contains(&held) && accepted.contains("Anna Kowalska") && accepted.contains("Jan"), "{accepted}");
        assert!(accepted.contains("2 documents missing"), "{accepted}");
        let intake = text_between(&board.text, r#"data-state="intake""#, "</section>");
        assert!(intake.contains(&fresh), "{intake}");
        assert!(intake.contains(r#"data-moves="matching=start_matching cancelled=cancel""#), "{intake}");

        let only_anna = v.get(&format!("/board?client={}", id(&anna))).await;
        assert!(only_anna.text.contains(&held) && !only_anna.text.contains(&fresh));
        let by_expert = v.get(&format!("/board?expert={}", id(&jan))).await;
        assert!(by_expert.text.contains(&held) && !by_expert.text.contains(&fresh));
        let retail = v.get("/board?industry=retail").await;
        assert!(retail.text.contains(&held) && retail.text.contains(&fresh));
        let nobody = v.get("/board?expert=garbage&industry=").await;
        assert_eq!(nobody.status, StatusCode::OK);
        assert!(nobody.text.contains("0 projects."), "an unknown expert matches nothing");

        let client: ContactId = id(&piotr).parse().unwrap();
        user(&app, Role::Client, "piotr@zielinski.pl", Some(client)).await;
        let mut piotr_v = Visitor::new(&app, "en");
        piotr_v.sign_in("piotr@zielinski.pl", PASSWORD).await;
        assert_eq!(piotr_v.get("/board").await.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn the_helpdesk_goes_both_ways_on_the_project_page(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        let anna_id: ContactId = id(&anna).parse().unwrap();
        let jan_id: ContactId = id(&jan).parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna_id)).await;
        user(&app, Role::Expert, "jan@nowak.dev", Some(jan_id)).await;
        let path = format!("/projects/{pid}");
        let mut anna_v = Visitor::new(&app, "pl");
        anna_v.sign_in("anna@kowalska.pl", PASSWORD).await;
        let csrf = anna_v.get(&path).await.csrf();

        let empty = anna_v.post(&format!("{path}/tickets"), &[("csrf", &csrf), ("subject", " "), ("body", "Jak wysłać fakturę?")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.text.contains(r#"id="ticket-subject-error""#) && empty.text.contains("Jak wysłać fakturę?"), "{}", empty.text);
        let opened = anna_v
            .post(&format!("{path}/tickets"), &[("csrf", &csrf), ("subject", "Eksport faktur"), ("body", "Jak wysłać fakturę?")])
            .await;
        assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text);
        assert_eq!(opened.location(), format!("{path}#helpdesk"));
        let tickets = app.get(&app.operator, &format!("/projects/{pid}/tickets")).await.expect(200);
        let ticket = tickets[0]["id"].as_str().unwrap().to_owned();

        // The expert answers on his page; the client reads it on hers.
        let mut jan_v = Visitor::new(&app, "en");
        jan_v.sign_in("jan@nowak.dev", PASSWORD).await;
        let his = jan_v.get(&path).await;
        assert!(his.text.contains("Eksport faktur") && his.text.contains("Jak wysłać fakturę?"));
        let replies = format!("{path}/tickets/{ticket}/messages");
        let blank = jan_v.post(&replies, &[("csrf", &his.csrf()), ("body", "")]).await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(blank.text.contains("Write a message"), "{}", blank.text);
        let answered = jan_v.post(&replies, &[("csrf", &his.csrf()), ("body", "Z panelu sklepu: Eksport → CSV.")]).await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.text);
        let hers = anna_v.get(&path).await;
        assert!(hers.text.contains("Z panelu sklepu: Eksport → CSV."), "{}", hers.text);

        // Closed, it takes no replies until reopened.
        let status = format!("{path}/tickets/{ticket}/status");
        assert_eq!(anna_v.post(&status, &[("csrf", &csrf), ("status", "closed")]).await.status, StatusCode::SEE_OTHER);
        let closed = anna_v.get(&path).await;
        assert!(closed.text.contains("zamknięte") && !closed.text.contains(&format!(r#"action="{replies}""#)));
        assert_eq!(anna_v.post(&status, &[("csrf", &csrf), ("status", "nonsense")]).await.status, StatusCode::BAD_REQUEST);
        let unknown = format!("{path}/tickets/{}/messages", uuid::Uuid::now_v7());
        assert_eq!(anna_v.post(&unknown, &[("csrf", &csrf), ("body", "x")]).await.status, StatusCode::NOT_FOUND);
        let ticket_now = app.get(&app.operator, &format!("/projects/{pid}/tickets/{ticket}")).await.expect(200);
        assert_eq!(ticket_now["messages"].as_array().map(Vec::len), Some(2));
        assert_eq!(ticket_now["status"], "closed");

        // Another client does not see the project at all.
        let piotr = app.client_contact("Piotr Zieliński").await;
        user(&app, Role::Client, "piotr@zielinski.pl", Some(id(&piotr).parse().unwrap())).await;
        let mut piotr_v = Visitor::new(&app, "pl");
        piotr_v.sign_in("piotr@zielinski.pl", PASSWORD).await;
        let his_csrf = piotr_v.get("/").await.csrf();
        let stranger = piotr_v.post(&format!("{path}/tickets"), &[("csrf", &his_csrf), ("subject", "x"), ("body", "y")]).await;
        assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn a_failed_delivery_is_shown_and_retried_from_the_pages(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let pid = id(&app.project(&anna, &[]).await);
        let entry = app.store.list_outbox(None, Some(pid.parse().unwrap()), 10).await.unwrap()[0].id;
        app.raw_sql(&format!(
            "UPDATE outbox SET status = 'failed', attempts = 5, last_error = 'HubSpot answered 401: expired token' WHERE id = '{entry}'"
        ))
        .await;
        let mut v = Visitor::new(&app, "en");
        v.sign_in("olga@agency.pl", PASSWORD).await;
        let dashboard = v.get("/").await;
        assert!(dashboard.text.contains(r#"href="/deliveries""#));
        let page = v.get("/deliveries").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("HubSpot answered 401: expired token"), "{}", page.text);
        assert!(page.text.contains(&format!(r#"href="/projects/{pid}""#)));
        let project = v.get(&format!("/projects/{pid}")).await;
        let section = text_between(&project.text, r#"id="deliveries""#, "</section>");
        assert!(section.contains("failed") && section.contains("Retry"), "{section}");

        let retry = format!("/deliveries/{entry}/retry");
        assert_eq!(v.post(&retry, &[("back", "/deliveries")]).await.status, StatusCode::FORBIDDEN);
        let csrf = page.csrf();
        let done = v.post(&retry, &[("csrf", &csrf), ("back", &format!("/projects/{pid}#deliveries"))]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(done.location(), format!("/projects/{pid}#deliveries"));
        let now = app.store.outbox_entry(entry).await.unwrap();
        assert_ne!(now.status, ssot::store::OutboxStatus::Failed, "queued again");
        let again = v.post(&retry, &[("csrf", &csrf), ("back", "//evil.example")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.text.contains("only failed entries can be retried"), "{}", again.text);
        assert_eq!(v.post("/deliveries/garbage/retry", &[("csrf", &csrf)]).await.status, StatusCode::NOT_FOUND);

        let anna_id: ContactId = id(&anna).parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna_id)).await;
        let mut anna_v = Visitor::new(&app, "en");
        anna_v.sign_in("anna@kowalska.pl", PASSWORD).await;
        assert_eq!(anna_v.get("/deliveries").await.status, StatusCode::NOT_FOUND);
        assert!(!anna_v.get(&format!("/projects/{pid}")).await.text.contains(r#"id="deliveries""#));
    }
}

on_both_backends! {
    async fn contacts_are_searched_and_an_expert_vetted_from_the_pages(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let pid = id(&app.project(&anna, &[]).await);
        let jan = app.vetted_expert("Jan Nowak", 2).await;
        let mut v = Visitor::new(&app, "en");
        v.sign_in("olga@agency.pl", PASSWORD).await;

        let all = v.get("/contacts").await;
        assert_eq!(all.status, StatusCode::OK);
        assert!(all.text.contains("Anna Kowalska") && all.text.contains("Jan Nowak"));
        let found = v.get("/contacts?q=KOWAL").await;
        assert!(found.text.contains("Anna Kowalska") && !found.text.contains("Jan Nowak"), "{}", found.text);
        let experts = v.get("/contacts?kind=expert").await;
        assert!(!experts.text.contains("Anna Kowalska") && experts.text.contains("Jan Nowak"));
        let wildcard = v.get("/contacts?q=%25").await;
        assert!(wildcard.text.contains("Nothing matches the search."), "a % is a character, not a pattern");

        let client_page = v.get(&format!("/contacts/{}", id(&anna))).await;
        assert!(client_page.text.contains(&format!(r#"href="/projects/{pid}""#)), "{}", client_page.text);
        let path = format!("/contacts/{}", id(&jan));
        let expert_page = v.get(&path).await;
        assert!(expert_page.text.contains("vetted") && expert_page.text.contains("Suspend"), "{}", expert_page.text);
        let csrf = expert_page.csrf();
        let vetting = format!("{path}/vetting");
        let no_reason = v.post(&vetting, &[("csrf", &csrf), ("action", "suspend")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.text.contains("Give a reason"), "{}", no_reason.text);
        let wrong = v.post(&vetting, &[("csrf", &csrf), ("action", "approve")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text.contains("cannot `approve`"), "the domain's reason: {}", wrong.text);
        let expert = app.get(&app.operator, &format!("/experts/{}", id(&jan))).await.expect(200);
        assert_eq!(expert["vetting"], "vetted", "nothing refused changed it");
        let suspended = v.post(&vetting, &[("csrf", &csrf), ("action", "suspend"), ("reason", "insurance lapsed")]).await;
        assert_eq!(suspended.status, StatusCode::SEE_OTHER, "{}", suspended.text);
        let expert = app.get(&app.operator, &format!("/experts/{}", id(&jan))).await.expect(200);
        assert_eq!(expert["vetting"], "suspended");
        assert!(v.get(&path).await.text.contains("Reinstate"));
        assert_eq!(v.post(&vetting, &[("csrf", &csrf), ("action", "fly")]).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(v.get("/contacts/garbage").await.status, StatusCode::NOT_FOUND);

        let anna_id: ContactId = id(&anna).parse().unwrap();
        user(&app, Role::Client, "anna@kowalska.pl", Some(anna_id)).await;
        let mut anna_v = Visitor::new(&app, "en");
        anna_v.sign_in("anna@kowalska.pl", PASSWORD).await;
        assert_eq!(anna_v.get("/contacts").await.status, StatusCode::NOT_FOUND);
        assert_eq!(anna_v.get(&path).await.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn an_expert_uploads_his_credentials_from_his_page(db) {
        let app = spawn_app(db).await;
        user(&app, Role::Operator, "olga@agency.pl", None).await;
        let jan = app.vetted_expert("Jan Nowak", 2).await;
        let jan_id: ContactId = id(&jan).parse().unwrap();
        user(&app, Role::Expert, "jan@nowak.dev", Some(jan_id)).await;
        let mut v = Visitor::new(&app, "pl");
        v.sign_in("jan@nowak.dev", PASSWORD).await;
        let home = v.get("/").await;
        assert!(home.text.contains(r#"href="/credentials""#));
        let page = v.get("/credentials").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Ubezpieczenie OC"), "{}", page.text);
        let csrf = page.csrf();

        let no_token = v.upload("/credentials", &[("type", "liability_insurance")], ("oc.pdf", b"%PDF-1.4\n".to_vec())).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let html = v.upload("/credentials", &[("csrf", &csrf), ("type", "liability_insurance")], ("oc.pdf", b"<html></html>".to_vec())).await;
        assert_eq!(html.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(html.text.contains("Tego rodzaju pliku nie przyjmujemy"));
        let pdf = crate::pdfs::pdf(&[&["POLISA OC", "Ubezpieczony: Jan Nowak", "Okres: 2026-01-01 do 2099-12-31"]]);
        let sent = v.upload("/credentials", &[("csrf", &csrf), ("type", "liability_insurance")], ("polisa.pdf", pdf)).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
        app.verify_all().await;
        let after = v.get("/credentials").await;
        let table = text_between(&after.text, r#"<table id="credentials">"#, "</table>");
        assert!(table.contains("polisa.pdf") && !table.contains("w kolejce"), "decided: {table}");

        // Staff read it on the expert's contact page; the page is the expert's alone.
        let mut olga = Visitor::new(&app, "en");
        olga.sign_in("olga@agency.pl", PASSWORD).await;
        assert_eq!(olga.get("/credentials").await.status, StatusCode::NOT_FOUND);
        let contact = olga.get(&format!("/contacts/{}", id(&jan))).await;
        assert!(contact.text.contains("polisa.pdf"), "{}", contact.text);
    }
}

on_both_backends! {
    async fn the_expert_moves_his_tasks_while_he_has_access(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        let jan_id: ContactId = id(&jan).parse().unwrap();
        user(&app, Role::Expert, "jan@nowak.dev", Some(jan_id)).await;
        let task = app.post(&app.operator, &format!("/projects/{pid}/tasks"), serde_json::json!({ "title": "Zebrać faktury" })).await.expect(201);
        let tid = id(&task);
        let path = format!("/projects/{pid}");
        let move_to = format!("{path}/tasks/{tid}/status");
        let mut v = Visitor::new(&app, "pl");
        v.sign_in("jan@nowak.dev", PASSWORD).await;
        let before = v.get(&path).await;
        assert!(!before.text.contains(r#"id="tasks""#), "no tracker before access is granted");
        let early = v.post(&move_to, &[("csrf", &before.csrf()), ("status", "done")]).await;
        assert_eq!(early.status, StatusCode::FORBIDDEN);
        assert!(early.text.contains("Zadania są dla zespołu"), "{}", early.text);

        app.act(&app.operator, &pid, "start_credentialing", serde_json::json!({})).await.expect(200);
        app.drain().await;
        let page = v.get(&path).await;
        let tasks = text_between(&page.text, r#"id="tasks""#, "</section>");
        assert!(tasks.contains("Zebrać faktury") && tasks.contains("do zrobienia"), "{tasks}");
        let moved = v.post(&move_to, &[("csrf", &page.csrf()), ("status", "in_progress")]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
        let now = app.get(&app.operator, &format!("/projects/{pid}/tasks")).await.expect(200);
        assert_eq!(now[0]["status"], "in_progress");
        assert_eq!(v.post(&move_to, &[("csrf", &page.csrf()), ("status", "finished")]).await.status, StatusCode::BAD_REQUEST);
        let unknown = format!("{path}/tasks/{}/status", uuid::Uuid::now_v7());
        assert_eq!(v.post(&unknown, &[("csrf", &page.csrf()), ("status", "done")]).await.status, StatusCode::NOT_FOUND);
    }
}
