//! A fake Jira Cloud REST API v3 (contract section 1, spec in
//! `shared/specs/jira-cloud-v3.json`): projects with their roles, users,
//! issues with properties, a four-status workflow, and `/search/jql` with
//! page tokens. Basic auth on every call; errors are `ErrorCollection`s.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::faults::{self, Faults};
use super::{Fault, Recorded, is_json, list_param, param, serve};

mod issues;
mod projects;
mod search;
mod tests;

use issues::{
    Fields, create_issue, do_transition, get_issue, get_property, list_transitions, put_property,
};
use projects::{
    add_actors, create_project, delete_project, get_project, get_role, list_roles, remove_actor,
    search_users,
};
use search::{search_get, search_post};

const API: &str = "/rest/api/3";

/// Every project has these roles: (id, name).
const ROLES: [(u64, &str); 3] = [
    (10002, "Administrators"),
    (10003, "Member"),
    (10004, "Viewer"),
];

/// The workflow's statuses; any status can move to any other.
struct Status {
    transition: &'static str,
    id: &'static str,
    name: &'static str,
    /// Status category: (key, id, name, colour).
    category: (&'static str, u64, &'static str, &'static str),
}

const STATUSES: [Status; 4] = [
    Status {
        transition: "11",
        id: "10000",
        name: "To Do",
        category: ("new", 2, "To Do", "blue-gray"),
    },
    Status {
        transition: "21",
        id: "3",
        name: "In Progress",
        category: ("indeterminate", 4, "In Progress", "yellow"),
    },
    Status {
        transition: "31",
        id: "10001",
        name: "Done",
        category: ("done", 3, "Done", "green"),
    },
    Status {
        transition: "41",
        id: "10002",
        name: "Blocked",
        category: ("indeterminate", 4, "In Progress", "yellow"),
    },
];

/// Issue types every project offers: (id, name).
const ISSUE_TYPES: [(&str, &str); 4] = [
    ("10001", "Task"),
    ("10002", "Bug"),
    ("10003", "Story"),
    ("10004", "Epic"),
];

/// Template key prefixes and the project type their templates belong to.
const TEMPLATE_TYPES: [(&str, &str); 3] = [
    ("com.atlassian.jira-core-project-templates:", "business"),
    ("com.pyxis.greenhopper.jira:", "software"),
    ("com.atlassian.servicedesk:", "service_desk"),
];

/// `CreateProjectDetails` properties: the schema has `additionalProperties: false`.
const PROJECT_FIELDS: [&str; 18] = [
    "assigneeType",
    "avatarId",
    "categoryId",
    "description",
    "fieldConfigurationScheme",
    "issueSecurityScheme",
    "issueTypeScheme",
    "issueTypeScreenScheme",
    "key",
    "lead",
    "leadAccountId",
    "name",
    "notificationScheme",
    "permissionScheme",
    "projectTemplateKey",
    "projectTypeKey",
    "url",
    "workflowScheme",
];

/// Issue fields this fake can set at creation; others are "not on the screen".
const ISSUE_FIELDS: [&str; 5] = ["project", "issuetype", "summary", "description", "labels"];

/// `SearchAndReconcileRequestBean` properties (`additionalProperties: false`).
const SEARCH_BODY_FIELDS: [&str; 8] = [
    "expand",
    "fields",
    "fieldsByKeys",
    "jql",
    "maxResults",
    "nextPageToken",
    "properties",
    "reconcileIssues",
];

/// Issue fields returned for `*all` and `*navigable`.
const ALL_FIELDS: [&str; 8] = [
    "summary",
    "status",
    "labels",
    "issuetype",
    "created",
    "updated",
    "description",
    "project",
];

const MAX_PAGE: usize = 100;

pub struct JiraFake {
    /// `http://127.0.0.1:PORT`; clients append `/rest/api/3`.
    pub base_url: String,
    db: Shared,
    faults: Faults,
}

type Shared = Arc<Mutex<Db>>;

struct Db {
    base: String,
    /// `email:api_token`, as Basic auth must decode to.
    credentials: String,
    users: Vec<User>,
    projects: Vec<Project>,
    issues: Vec<Issue>,
    next_project_id: u64,
    next_issue_id: u64,
    next_actor_id: u64,
    /// Page token → (the JQL it continues, offset of the next page).
    tokens: HashMap<String, (String, usize)>,
    /// Jira's search is eventually consistent: while set, new issues are
    /// readable by key at once but not found by search until indexed.
    search_lags: bool,
}

struct User {
    account_id: String,
    display_name: String,
    email: String,
    active: bool,
}

struct Project {
    id: u64,
    key: String,
    name: String,
    description: String,
    lead: String,
    type_key: String,
    /// Deleted, in the recycle bin or for good; either way gone from the API.
    deleted: bool,
    /// Deleted for good (`enableUndo=false`): its key and name are free again.
    purged: bool,
    /// Role id → (actor id, account id), in the order added.
    roles: BTreeMap<u64, Vec<(u64, String)>>,
    issue_count: u64,
}

struct Issue {
    id: u64,
    key: String,
    number: u64,
    project_id: u64,
    issue_type: (&'static str, &'static str),
    summary: String,
    description: Option<Value>,
    labels: Vec<String>,
    status: usize,
    created: String,
    updated: String,
    properties: BTreeMap<String, Value>,
    /// Found by search (see `Db::search_lags`).
    indexed: bool,
}

impl JiraFake {
    pub async fn start(email: &str, api_token: &str) -> Self {
        let faults = Faults::new(render_fault);
        let db: Shared = Arc::new(Mutex::new(Db {
            base: String::new(),
            credentials: format!("{email}:{api_token}"),
            users: Vec::new(),
            projects: Vec::new(),
            issues: Vec::new(),
            next_project_id: 10000,
            next_issue_id: 10000,
            next_actor_id: 10100,
            tokens: HashMap::new(),
            search_lags: false,
        }));
        let base_url = serve(|base| {
            lock(&db).base = base.to_owned();
            faults.wrap(router(db.clone()))
        })
        .await;
        Self {
            base_url,
            db,
            faults,
        }
    }

    /// The next `times` requests, whatever the path, get `fault`.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.faults.inject(None, fault, times);
    }

    /// The next `times` requests whose path contains `path_contains` get `fault`.
    pub fn inject_on(&self, path_contains: &str, fault: Fault, times: usize) {
        self.faults.inject(Some(path_contains), fault, times);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.faults.requests()
    }

    /// While `lags`, issues created are not found by search (as right after
    /// a write in Jira Cloud); turning it off indexes them all.
    pub fn lag_search(&self, lags: bool) {
        let mut db = lock(&self.db);
        db.search_lags = lags;
        if !lags {
            db.issues.iter_mut().for_each(|i| i.indexed = true);
        }
    }

    /// A site user, active, who can lead projects and hold roles.
    pub fn add_user(&self, account_id: &str, display_name: &str, email: &str) {
        lock(&self.db).users.push(User {
            account_id: account_id.to_owned(),
            display_name: display_name.to_owned(),
            email: email.to_owned(),
            active: true,
        });
    }

    /// Deactivates a user: they can no longer be given a role.
    pub fn deactivate_user(&self, account_id: &str) {
        if let Some(u) = lock(&self.db)
            .users
            .iter_mut()
            .find(|u| u.account_id == account_id)
        {
            u.active = false;
        }
    }

    /// The latest project with this key, deleted or not, as `GET /project`
    /// shows it plus `deleted`, `inRecycleBin` and role members by role name.
    pub fn project(&self, key: &str) -> Option<Value> {
        let db = lock(&self.db);
        let p = db.projects.iter().rev().find(|p| p.key == key)?;
        let mut v = db.project_json(p);
        let members: Map<String, Value> = ROLES
            .iter()
            .map(|(id, name)| {
                let ids: Vec<&str> = p.roles[id].iter().map(|(_, a)| a.as_str()).collect();
                (name.to_string(), json!(ids))
            })
            .collect();
        v["deleted"] = json!(p.deleted);
        v["inRecycleBin"] = json!(p.deleted && !p.purged);
        v["roleMembers"] = Value::Object(members);
        Some(v)
    }

    /// Account ids holding `role_name` in the live project `key`.
    pub fn role_members(&self, key: &str, role_name: &str) -> Vec<String> {
        let db = lock(&self.db);
        let role = ROLES.iter().find(|(_, n)| *n == role_name);
        match (db.live_project(key), role) {
            (Some(p), Some((id, _))) => p.roles[id].iter().map(|(_, a)| a.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The live project's issues in creation order, with all fields and properties.
    pub fn issues(&self, key: &str) -> Vec<Value> {
        let db = lock(&self.db);
        let Some(p) = db.live_project(key) else {
            return Vec::new();
        };
        let all = Fields::all();
        db.issues
            .iter()
            .filter(|i| i.project_id == p.id)
            .map(|i| {
                let mut v = db.issue_json(i, &all, &[]);
                v["properties"] = json!(i.properties);
                v
            })
            .collect()
    }

    /// Keys of the projects that are not deleted, in creation order.
    pub fn projects(&self) -> Vec<String> {
        lock(&self.db)
            .projects
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| p.key.clone())
            .collect()
    }
}

fn lock(db: &Shared) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(db: Shared) -> Router {
    let gone = || get(search_removed).post(search_removed);
    Router::new()
        .route(&format!("{API}/project"), post(create_project))
        .route(
            &format!("{API}/project/{{id}}"),
            get(get_project).delete(delete_project),
        )
        .route(&format!("{API}/project/{{id}}/role"), get(list_roles))
        .route(
            &format!("{API}/project/{{id}}/role/{{role}}"),
            get(get_role).post(add_actors).delete(remove_actor),
        )
        .route(&format!("{API}/user/search"), get(search_users))
        .route(&format!("{API}/issue"), post(create_issue))
        .route(&format!("{API}/issue/{{key}}"), get(get_issue))
        .route(
            &format!("{API}/issue/{{key}}/properties/{{prop}}"),
            put(put_property).get(get_property),
        )
        .route(
            &format!("{API}/issue/{{key}}/transitions"),
            get(list_transitions).post(do_transition),
        )
        .route(
            &format!("{API}/search/jql"),
            get(search_get).post(search_post),
        )
        .route(&format!("{API}/search"), gone())
        .fallback(not_found_uri)
        .layer(middleware::from_fn_with_state(db.clone(), authenticate))
        .with_state(db)
}

// ---------- errors ----------

/// An error as Jira words it: `{"errorMessages":[…],"errors":{field: message}}`.
struct JiraError(StatusCode, Value);

impl IntoResponse for JiraError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

type Reply = Result<Response, JiraError>;

fn messages(status: StatusCode, message: impl Into<String>) -> JiraError {
    JiraError(
        status,
        json!({ "errorMessages": [message.into()], "errors": {} }),
    )
}

fn field_errors(errors: &[(&str, String)]) -> JiraError {
    let errors: Map<String, Value> = errors
        .iter()
        .map(|(f, m)| (f.to_string(), json!(m)))
        .collect();
    JiraError(
        StatusCode::BAD_REQUEST,
        json!({ "errorMessages": [], "errors": errors }),
    )
}

fn bad_request(message: impl Into<String>) -> JiraError {
    messages(StatusCode::BAD_REQUEST, message)
}

fn not_found(message: impl Into<String>) -> JiraError {
    messages(StatusCode::NOT_FOUND, message)
}

fn render_fault(fault: &Fault) -> Response {
    match fault {
        Fault::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            faults::retry_after(*retry_after_secs),
            [
                ("x-ratelimit-remaining", "0"),
                ("ratelimit-reason", "jira-burst-based"),
            ],
            Json(json!({ "errorMessages": ["Rate limit exceeded."], "errors": {} })),
        )
            .into_response(),
        Fault::ServerError => {
            messages(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
        Fault::LostAnswer => unreachable!("the middleware answers a lost answer itself"),
        Fault::Unauthorized => unauthorized(),
        Fault::Malformed => faults::malformed(),
        Fault::Slow(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn unauthorized() -> Response {
    let text = "You are not authenticated. Authentication required to perform this operation.";
    messages(StatusCode::UNAUTHORIZED, text).into_response()
}

async fn not_found_uri(req: Request) -> JiraError {
    not_found(format!("null for uri: {}", req.uri()))
}

/// `GET|POST /search` was removed in favour of `/search/jql` (CHANGE-2046).
async fn search_removed() -> JiraError {
    messages(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. \
         A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

async fn authenticate(State(db): State<Shared>, req: Request, next: Next) -> Response {
    let expected = lock(&db).credentials.clone();
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| BASE64.decode(b64.trim()).ok());
    if given.as_deref() == Some(expected.as_bytes()) {
        next.run(req).await
    } else {
        unauthorized()
    }
}

/// The body as a JSON object, refusing what Jira refuses first.
fn json_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, JiraError> {
    if !is_json(headers) {
        return Err(messages(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request(
            "Can not deserialize instance out of non-object token",
        )),
        Err(e) => Err(bad_request(format!("Unexpected character in JSON: {e}"))),
    }
}

fn jira_time() -> String {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

// ---------- state ----------

impl Db {
    fn url(&self, path: &str) -> String {
        format!("{}{API}{path}", self.base)
    }

    /// A project that is not deleted, by key (any case) or numeric id.
    fn live_project(&self, id_or_key: &str) -> Option<&Project> {
        self.projects.iter().find(|p| {
            !p.deleted && (p.key.eq_ignore_ascii_case(id_or_key) || p.id.to_string() == id_or_key)
        })
    }

    fn live_project_mut(&mut self, id_or_key: &str) -> Result<&mut Project, JiraError> {
        self.projects
            .iter_mut()
            .find(|p| {
                !p.deleted
                    && (p.key.eq_ignore_ascii_case(id_or_key) || p.id.to_string() == id_or_key)
            })
            .ok_or_else(|| no_project(id_or_key))
    }

    fn active_user(&self, account_id: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.account_id == account_id && u.active)
    }

    fn user_json(&self, account_id: &str) -> Value {
        let user = self.users.iter().find(|u| u.account_id == account_id);
        json!({
            "self": self.url(&format!("/user?accountId={account_id}")),
            "accountId": account_id,
            "accountType": "atlassian",
            "displayName": user.map(|u| u.display_name.as_str()),
            "active": user.is_some_and(|u| u.active),
        })
    }
}

fn no_project(id_or_key: &str) -> JiraError {
    not_found(format!("No project could be found with key '{id_or_key}'."))
}

fn no_issue() -> JiraError {
    not_found("Issue does not exist or you do not have permission to see it.")
}
