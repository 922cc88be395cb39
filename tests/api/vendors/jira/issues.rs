//! Issues, their properties and the workflow.

use super::*;

impl Db {
    pub(super) fn issue_type_json(&self, (id, name): (&str, &str)) -> Value {
        json!({ "self": self.url(&format!("/issuetype/{id}")), "id": id, "name": name, "subtask": false })
    }

    pub(super) fn status_json(&self, s: &Status) -> Value {
        let (key, cat_id, cat_name, colour) = s.category;
        json!({
            "self": self.url(&format!("/status/{}", s.id)),
            "id": s.id,
            "name": s.name,
            "statusCategory": {
                "self": self.url(&format!("/statuscategory/{cat_id}")),
                "id": cat_id, "key": key, "colorName": colour, "name": cat_name,
            },
        })
    }

    pub(super) fn issue(&self, id_or_key: &str) -> Result<&Issue, JiraError> {
        self.issues
            .iter()
            .find(|i| i.key.eq_ignore_ascii_case(id_or_key) || i.id.to_string() == id_or_key)
            .filter(|i| {
                self.projects
                    .iter()
                    .any(|p| p.id == i.project_id && !p.deleted)
            })
            .ok_or_else(no_issue)
    }

    pub(super) fn issue_mut(&mut self, id_or_key: &str) -> Result<&mut Issue, JiraError> {
        let id = self.issue(id_or_key)?.id;
        self.issues
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(no_issue)
    }

    /// An issue as `GET /issue` or a search shows it, with the `fields` chosen.
    pub(super) fn issue_json(&self, i: &Issue, fields: &Fields, properties: &[String]) -> Value {
        if fields.id_only() && properties.is_empty() {
            return json!({ "id": i.id.to_string() });
        }
        let project = self.projects.iter().find(|p| p.id == i.project_id);
        let mut out = Map::new();
        for name in ALL_FIELDS.into_iter().filter(|f| fields.wants(f)) {
            let value = match name {
                "summary" => json!(i.summary),
                "status" => self.status_json(&STATUSES[i.status]),
                "labels" => json!(i.labels),
                "issuetype" => self.issue_type_json(i.issue_type),
                "created" => json!(i.created),
                "updated" => json!(i.updated),
                "description" => i.description.clone().unwrap_or(Value::Null),
                _ => project.map_or(Value::Null, |p| {
                    json!({ "self": self.url(&format!("/project/{}", p.id)), "id": p.id.to_string(), "key": p.key, "name": p.name, "projectTypeKey": p.type_key })
                }),
            };
            out.insert(name.to_owned(), value);
        }
        let mut v = json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": i.id.to_string(),
            "self": self.url(&format!("/issue/{}", i.id)),
            "key": i.key,
            "fields": out,
        });
        if !properties.is_empty() {
            let props: Map<String, Value> = properties
                .iter()
                .filter_map(|k| i.properties.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            v["properties"] = Value::Object(props);
        }
        v
    }
}

/// What a valid `fields` object for a new issue resolves to.
struct NewIssue {
    project: usize,
    issue_type: (&'static str, &'static str),
    summary: String,
    description: Option<Value>,
    labels: Vec<String>,
}

pub(super) async fn create_issue(
    State(db): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = json_object(&headers, &body)?;
    if body.contains_key("update") {
        return Err(bad_request(
            "The fake does not model `update` at creation; send `fields`.",
        ));
    }
    let Some(fields) = body.get("fields").and_then(Value::as_object) else {
        return Err(field_errors(&[(
            "project",
            "Specify a valid project ID or key".into(),
        )]));
    };
    let properties = parse_properties(body.get("properties"))?;
    let mut db = lock(&db);
    let new = db.check_new_issue(fields)?;
    let status = match body.get("transition") {
        Some(t) => transition_target(t)?,
        None => 0,
    };
    let (id, now) = (db.next_issue_id, jira_time());
    db.next_issue_id += 1;
    let p = &mut db.projects[new.project];
    p.issue_count += 1;
    let (number, key, project_id) = (p.issue_count, format!("{}-{}", p.key, p.issue_count), p.id);
    let reply =
        json!({ "id": id.to_string(), "key": key, "self": db.url(&format!("/issue/{id}")) });
    let indexed = !db.search_lags;
    db.issues.push(Issue {
        id,
        key,
        number,
        project_id,
        issue_type: new.issue_type,
        summary: new.summary,
        description: new.description,
        labels: new.labels,
        status,
        created: now.clone(),
        updated: now,
        properties,
        indexed,
    });
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// `properties: [{key, value}]` as a map, refusing entries without a key.
fn parse_properties(given: Option<&Value>) -> Result<BTreeMap<String, Value>, JiraError> {
    let Some(given) = given else {
        return Ok(BTreeMap::new());
    };
    let items = given
        .as_array()
        .ok_or_else(|| bad_request("properties must be an array"))?;
    items
        .iter()
        .map(
            |p| match (p.get("key").and_then(Value::as_str), p.get("value")) {
                (Some(k), Some(v)) if !k.is_empty() => Ok((k.to_owned(), v.clone())),
                _ => Err(bad_request(
                    "Each property needs a non-empty key and a value.",
                )),
            },
        )
        .collect()
}

impl Db {
    fn check_new_issue(&self, fields: &Map<String, Value>) -> Result<NewIssue, JiraError> {
        let mut errors: Vec<(&str, String)> = Vec::new();
        for unknown in fields
            .keys()
            .filter(|k| !ISSUE_FIELDS.contains(&k.as_str()))
        {
            let m = format!(
                "Field '{unknown}' cannot be set. It is not on the appropriate screen, or unknown."
            );
            errors.push((unknown.as_str(), m));
        }
        let by = |v: Option<&Value>, f: &str| {
            v.and_then(|v| v.get(f)).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
        };
        let project = fields.get("project");
        let wanted = by(project, "key")
            .or_else(|| by(project, "id"))
            .unwrap_or_default();
        let project = self.projects.iter().position(|p| {
            !p.deleted && (p.key.eq_ignore_ascii_case(&wanted) || p.id.to_string() == wanted)
        });
        if project.is_none() {
            errors.push(("project", "Specify a valid project ID or key".into()));
        }
        let kind = fields.get("issuetype");
        let (type_id, type_name) = (by(kind, "id"), by(kind, "name"));
        let issue_type = ISSUE_TYPES.iter().copied().find(|(id, name)| {
            type_id.as_deref() == Some(*id)
                || type_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        if issue_type.is_none() {
            errors.push(("issuetype", "Specify an issue type".into()));
        }
        let summary = fields
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if summary.trim().is_empty() {
            errors.push(("summary", "You must specify a summary of the issue.".into()));
        } else if summary.chars().count() > 255 {
            errors.push((
                "summary",
                "Summary must be less than 255 characters.".into(),
            ));
        }
        let description = fields.get("description").filter(|d| !d.is_null()).cloned();
        if description.as_ref().is_some_and(|d| !is_adf(d)) {
            let m =
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
            errors.push(("description", m.into()));
        }
        let labels = check_labels(fields.get("labels"), &mut errors);
        match (project, issue_type) {
            (Some(project), Some(issue_type)) if errors.is_empty() => Ok(NewIssue {
                project,
                issue_type,
                summary: summary.to_owned(),
                description,
                labels,
            }),
            _ => Err(field_errors(&errors)),
        }
    }
}

/// An Atlassian Document: `{"type":"doc","version":1,"content":[…]}`.
fn is_adf(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("doc")
        && v.get("version").and_then(Value::as_u64) == Some(1)
        && v.get("content").is_some_and(Value::is_array)
}

/// Labels are strings without spaces, at most 255 characters each.
fn check_labels(given: Option<&Value>, errors: &mut Vec<(&str, String)>) -> Vec<String> {
    let Some(given) = given.filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(items) = given.as_array() else {
        errors.push(("labels", "data was not an array".into()));
        return Vec::new();
    };
    let mut labels = Vec::new();
    for item in items {
        match item.as_str() {
            Some(l) if l.chars().any(char::is_whitespace) => {
                errors.push((
                    "labels",
                    format!("The label '{l}' contains spaces which is invalid."),
                ));
            }
            Some(l) if !l.is_empty() && l.chars().count() <= 255 => labels.push(l.to_owned()),
            _ => errors.push((
                "labels",
                "A label must be a non-empty string of at most 255 characters.".into(),
            )),
        }
    }
    labels
}

pub(super) async fn get_issue(
    State(db): State<Shared>,
    Path(key): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Reply {
    let db = lock(&db);
    let issue = db.issue(&key)?;
    let fields = Fields::parse(
        query
            .iter()
            .filter(|(k, _)| k == "fields")
            .map(|(_, v)| v.clone()),
        true,
    );
    let properties = list_param(&query, "properties");
    Ok(Json(db.issue_json(issue, &fields, &properties)).into_response())
}

/// Sets an issue property: 201 when new, 200 when replaced.
pub(super) async fn put_property(
    State(db): State<Shared>,
    Path((key, prop)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    if !is_json(&headers) {
        return Err(messages(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
        ));
    }
    let value: Value = serde_json::from_slice(&body)
        .map_err(|_| bad_request("The property value must be valid JSON."))?;
    if body.len() > 32768 || prop.len() > 255 {
        return Err(bad_request("The property key or value is too long."));
    }
    let mut db = lock(&db);
    let issue = db.issue_mut(&key)?;
    let created = issue.properties.insert(prop, value).is_none();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(status.into_response())
}

pub(super) async fn get_property(
    State(db): State<Shared>,
    Path((key, prop)): Path<(String, String)>,
) -> Reply {
    let db = lock(&db);
    let value = db.issue(&key)?.properties.get(&prop).cloned();
    let value = value
        .ok_or_else(|| not_found(format!("The property with key '{prop}' does not exist.")))?;
    Ok(Json(json!({ "key": prop, "value": value })).into_response())
}

// ---------- workflow ----------

pub(super) async fn list_transitions(State(db): State<Shared>, Path(key): Path<String>) -> Reply {
    let db = lock(&db);
    let issue = db.issue(&key)?;
    let transitions: Vec<Value> = STATUSES
        .iter()
        .enumerate()
        .filter(|(at, _)| *at != issue.status)
        .map(|(_, s)| {
            json!({
                "id": s.transition, "name": s.name, "to": db.status_json(s),
                "hasScreen": false, "isGlobal": true, "isInitial": false,
                "isAvailable": true, "isConditional": false, "isLooped": false,
            })
        })
        .collect();
    Ok(Json(json!({ "expand": "transitions", "transitions": transitions })).into_response())
}

/// The status a `{"id": …}` transition leads to; the id may be a string or a number.
fn transition_target(t: &Value) -> Result<usize, JiraError> {
    let id = t.get("id").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_u64().map(|n| n.to_string()))
    });
    let Some(id) = id else {
        return Err(bad_request("Missing 'transition' identifier"));
    };
    STATUSES
        .iter()
        .position(|s| s.transition == id)
        .ok_or_else(|| bad_request(format!("Transition id '{id}' is not valid for this issue.")))
}

pub(super) async fn do_transition(
    State(db): State<Shared>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = json_object(&headers, &body)?;
    let mut db = lock(&db);
    let issue = db.issue_mut(&key)?;
    let target = transition_target(body.get("transition").unwrap_or(&Value::Null))?;
    if target == issue.status {
        return Err(bad_request(format!(
            "Transition id '{}' is not valid for this issue.",
            STATUSES[target].transition
        )));
    }
    issue.status = target;
    issue.updated = jira_time();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Which issue fields to return: the search default is `id` only.
pub(super) struct Fields {
    all: bool,
    only: Vec<String>,
    minus: Vec<String>,
}

impl Fields {
    pub(super) fn all() -> Self {
        Self {
            all: true,
            only: Vec::new(),
            minus: Vec::new(),
        }
    }

    /// From `fields` values (each may be a comma list); none gives `all_by_default`.
    pub(super) fn parse(values: impl Iterator<Item = String>, all_by_default: bool) -> Self {
        let names: Vec<String> = values
            .flat_map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect();
        let mut f = Self {
            all: all_by_default && names.is_empty(),
            only: Vec::new(),
            minus: Vec::new(),
        };
        for name in names {
            match name.as_str() {
                "*all" | "*navigable" => f.all = true,
                "id" => {}
                n if n.starts_with('-') => f.minus.push(n[1..].to_owned()),
                n => f.only.push(n.to_owned()),
            }
        }
        f
    }

    fn id_only(&self) -> bool {
        !self.all && self.only.is_empty()
    }

    fn wants(&self, name: &str) -> bool {
        (self.all || self.only.iter().any(|n| n == name)) && !self.minus.iter().any(|n| n == name)
    }
}
