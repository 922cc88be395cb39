//! Projects, their roles, and users.

use super::*;

impl Db {
    pub(super) fn project_json(&self, p: &Project) -> Value {
        let roles: Map<String, Value> = ROLES
            .iter()
            .map(|(id, name)| {
                (
                    name.to_string(),
                    json!(self.url(&format!("/project/{}/role/{id}", p.key))),
                )
            })
            .collect();
        let issue_types: Vec<Value> = ISSUE_TYPES
            .iter()
            .map(|t| self.issue_type_json(*t))
            .collect();
        json!({
            "self": self.url(&format!("/project/{}", p.id)),
            "id": p.id.to_string(),
            "key": p.key,
            "name": p.name,
            "description": p.description,
            "lead": self.user_json(&p.lead),
            "projectTypeKey": p.type_key,
            "simplified": false,
            "style": "classic",
            "isPrivate": false,
            "issueTypes": issue_types,
            "roles": roles,
            "properties": {},
        })
    }

    fn role_json(&self, p: &Project, role: u64) -> Value {
        let name = ROLES
            .iter()
            .find(|(id, _)| *id == role)
            .map_or("", |(_, n)| n);
        let actors: Vec<Value> = p.roles[&role]
            .iter()
            .map(|(actor, account)| {
                let shown = self.users.iter().find(|u| &u.account_id == account);
                json!({
                    "id": actor,
                    "displayName": shown.map(|u| u.display_name.as_str()),
                    "type": "atlassian-user-role-actor",
                    "actorUser": { "accountId": account },
                })
            })
            .collect();
        json!({
            "self": self.url(&format!("/project/{}/role/{role}", p.key)),
            "name": name,
            "id": role,
            "description": format!("A project role that represents {name} in a project"),
            "actors": actors,
            "scope": { "type": "PROJECT", "project": { "id": p.id.to_string() } },
        })
    }
}

pub(super) async fn create_project(
    State(db): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = json_object(&headers, &body)?;
    if let Some(unknown) = body.keys().find(|k| !PROJECT_FIELDS.contains(&k.as_str())) {
        return Err(bad_request(format!(
            "Unrecognized field \"{unknown}\" (not marked as ignorable)"
        )));
    }
    let mut db = lock(&db);
    let type_key = project_type(&body)?;
    db.check_new_project(&body)?;
    let text = |f: &str| {
        body.get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let id = db.next_project_id;
    db.next_project_id += 1;
    db.projects.push(Project {
        id,
        key: text("key"),
        name: text("name"),
        description: text("description"),
        lead: text("leadAccountId"),
        type_key,
        deleted: false,
        purged: false,
        roles: ROLES.iter().map(|(r, _)| (*r, Vec::new())).collect(),
        issue_count: 0,
    });
    let reply = json!({ "self": db.url(&format!("/project/{id}")), "id": id, "key": text("key") });
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// The project type, from `projectTypeKey` or implied by `projectTemplateKey`;
/// the two must agree when both are given.
fn project_type(body: &Map<String, Value>) -> Result<String, JiraError> {
    let given = body.get("projectTypeKey").and_then(Value::as_str);
    if let Some(t) = given.filter(|t| !["software", "service_desk", "business"].contains(t)) {
        return Err(bad_request(format!(
            "Cannot deserialize value of type `ProjectTypeKey` from String \"{t}\""
        )));
    }
    let Some(template) = body.get("projectTemplateKey").and_then(Value::as_str) else {
        return given.map(str::to_owned).ok_or_else(|| {
            field_errors(&[(
                "projectTypeKey",
                "You must specify a valid project type.".into(),
            )])
        });
    };
    let implied = TEMPLATE_TYPES
        .iter()
        .find(|(prefix, _)| template.starts_with(prefix) && template.len() > prefix.len())
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            bad_request(format!(
                "The project template key '{template}' is not valid."
            ))
        })?;
    match given {
        Some(t) if t != implied => Err(bad_request(format!(
            "The project template '{template}' cannot be used with the project type '{t}'."
        ))),
        _ => Ok(implied.to_owned()),
    }
}

impl Db {
    /// Checks key, name and lead, reporting every bad field at once as Jira does.
    fn check_new_project(&self, body: &Map<String, Value>) -> Result<(), JiraError> {
        let text = |f: &str| body.get(f).and_then(Value::as_str).unwrap_or_default();
        let (key, name, lead) = (text("key"), text("name"), text("leadAccountId"));
        let taken =
            |same: &dyn Fn(&Project) -> bool| self.projects.iter().any(|p| !p.purged && same(p));
        let mut errors: Vec<(&str, String)> = Vec::new();
        let key_ok = key.len() >= 2
            && key.starts_with(|c: char| c.is_ascii_uppercase())
            && key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if key.len() > 10 {
            errors.push((
                "projectKey",
                "The project key must not exceed 10 characters in length.".into(),
            ));
        } else if !key_ok {
            let m = "Project keys must start with an uppercase letter, followed by one or more uppercase alphanumeric characters.";
            errors.push(("projectKey", m.into()));
        } else if taken(&|p| p.key == key) {
            errors.push((
                "projectKey",
                "A project with that project key already exists.".into(),
            ));
        }
        if name.trim().is_empty() {
            errors.push((
                "projectName",
                "You must specify a valid project name.".into(),
            ));
        } else if name.chars().count() > 80 {
            errors.push((
                "projectName",
                "The project name must not exceed 80 characters in length.".into(),
            ));
        } else if taken(&|p| p.name.eq_ignore_ascii_case(name)) {
            errors.push((
                "projectName",
                "A project with that name already exists.".into(),
            ));
        }
        if self.active_user(lead).is_none() {
            errors.push((
                "projectLead",
                "You must specify a valid project lead.".into(),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(field_errors(&errors))
        }
    }
}

pub(super) async fn get_project(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    let db = lock(&db);
    let p = db.live_project(&id).ok_or_else(|| no_project(&id))?;
    Ok(Json(db.project_json(p)).into_response())
}

/// `enableUndo` (default true) moves the project to the recycle bin; `false`
/// deletes it for good. Either way it is gone from the API.
pub(super) async fn delete_project(
    State(db): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Reply {
    let mut db = lock(&db);
    let p = db.live_project_mut(&id)?;
    p.deleted = true;
    p.purged = param(&query, "enableUndo") == Some("false");
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------- roles and users ----------

fn role_id(role: &str) -> Result<u64, JiraError> {
    role.parse::<u64>()
        .ok()
        .filter(|r| ROLES.iter().any(|(id, _)| id == r))
        .ok_or_else(|| {
            not_found(format!(
                "Can not retrieve a role actor for a null project role. Role id '{role}'."
            ))
        })
}

pub(super) async fn list_roles(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    let db = lock(&db);
    let p = db.live_project(&id).ok_or_else(|| no_project(&id))?;
    let roles: Map<String, Value> = ROLES
        .iter()
        .map(|(r, name)| {
            (
                name.to_string(),
                json!(db.url(&format!("/project/{}/role/{r}", p.key))),
            )
        })
        .collect();
    Ok(Json(roles).into_response())
}

pub(super) async fn get_role(
    State(db): State<Shared>,
    Path((id, role)): Path<(String, String)>,
) -> Reply {
    let db = lock(&db);
    let p = db.live_project(&id).ok_or_else(|| no_project(&id))?;
    Ok(Json(db.role_json(p, role_id(&role)?)).into_response())
}

/// Grants a role: `{"user":[accountId…]}`. Every user must exist and be
/// active or nothing changes; adding a member again is harmless.
pub(super) async fn add_actors(
    State(db): State<Shared>,
    Path((id, role)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = json_object(&headers, &body)?;
    let mut db = lock(&db);
    let role = role_id(&role)?;
    db.live_project(&id).ok_or_else(|| no_project(&id))?;
    if body.contains_key("group") || body.contains_key("groupId") {
        return Err(not_found("The group does not exist."));
    }
    let users: Vec<String> = match body.get("user") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => {
            return Err(bad_request(
                "You must specify at least one user or group to add to the role.",
            ));
        }
    };
    if let Some(missing) = users.iter().find(|u| db.active_user(u).is_none()) {
        return Err(not_found(format!(
            "The user with account ID '{missing}' does not exist or is not active."
        )));
    }
    for user in users {
        let actor = db.next_actor_id;
        let p = db.live_project_mut(&id)?;
        let actors = p.roles.entry(role).or_default();
        if !actors.iter().any(|(_, a)| *a == user) {
            actors.push((actor, user));
            db.next_actor_id += 1;
        }
    }
    let p = db.live_project(&id).ok_or_else(|| no_project(&id))?;
    Ok(Json(db.role_json(p, role)).into_response())
}

/// Revokes a role: `?user=<accountId>`; 404 when they do not hold it.
pub(super) async fn remove_actor(
    State(db): State<Shared>,
    Path((id, role)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Reply {
    let mut db = lock(&db);
    let role = role_id(&role)?;
    let p = db.live_project_mut(&id)?;
    let Some(user) = param(&query, "user") else {
        let group = param(&query, "group").or(param(&query, "groupId"));
        return Err(match group {
            Some(_) => not_found("The group does not exist."),
            None => bad_request("You must specify a user or a group to remove from the role."),
        });
    };
    let actors = p.roles.entry(role).or_default();
    let before = actors.len();
    actors.retain(|(_, a)| a != user);
    if actors.len() == before {
        return Err(not_found(format!(
            "The user '{user}' is not an actor of this project role."
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Users whose display name, a word of it, or email starts with `query`.
pub(super) async fn search_users(
    State(db): State<Shared>,
    Query(query): Query<Vec<(String, String)>>,
) -> Reply {
    let db = lock(&db);
    let (text, account) = (param(&query, "query"), param(&query, "accountId"));
    let found: Vec<Value> = match (text, account) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(bad_request(
                "One of 'query' or 'accountId' must be provided, not both.",
            ));
        }
        (None, Some(id)) => db
            .users
            .iter()
            .filter(|u| u.account_id == id)
            .map(|u| user_found(&db, u))
            .collect(),
        (Some(q), None) => {
            let q = q.to_lowercase();
            let starts = |s: &str| s.to_lowercase().starts_with(&q);
            db.users
                .iter()
                .filter(|u| {
                    starts(&u.email)
                        || starts(&u.display_name)
                        || u.display_name.split_whitespace().any(starts)
                })
                .map(|u| user_found(&db, u))
                .collect()
        }
    };
    Ok(Json(found).into_response())
}

fn user_found(db: &Db, u: &User) -> Value {
    let mut v = db.user_json(&u.account_id);
    v["emailAddress"] = json!(u.email);
    v
}
