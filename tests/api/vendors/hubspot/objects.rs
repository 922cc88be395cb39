//! Contacts and deals: create, read, update, search and batch upsert, with
//! values checked against their property definitions and unique values kept
//! unique.

use axum::extract::Query;

use super::associations::type_id;
use super::*;
use crate::vendors::list_param;

const MAX_SEARCH_LIMIT: u64 = 200;

/// One property value HubSpot refused: (property, message, code).
type Problem = (String, String, &'static str);

impl Db {
    /// An object as the API shows it: all its properties (`None`, for tests),
    /// or those named plus the three HubSpot always returns.
    pub(super) fn object_json(&self, o: &Object, names: Option<&[String]>) -> Value {
        let properties: Map<String, Value> = match names {
            None => o
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect(),
            Some(names) => names
                .iter()
                .map(String::as_str)
                .chain(["createdate", "hs_object_id", o.kind.modified()])
                .filter(|n| self.property(o.kind, n).is_some())
                .map(|n| {
                    (
                        n.to_owned(),
                        o.properties.get(n).map_or(Value::Null, |v| json!(v)),
                    )
                })
                .collect(),
        };
        json!({ "id": o.id.to_string(), "properties": properties, "createdAt": o.created_at, "updatedAt": o.updated_at, "archived": false })
    }

    /// The object whose `property` holds `value`; emails match in any case.
    pub(super) fn find_by(&self, kind: Kind, property: &str, value: &str) -> Option<&Object> {
        let same = |v: &String| {
            if property == "email" {
                v.eq_ignore_ascii_case(value)
            } else {
                v == value
            }
        };
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.properties.get(property).is_some_and(same))
    }

    pub(super) fn object(&self, kind: Kind, id: u64) -> Option<&Object> {
        self.objects.iter().find(|o| o.kind == kind && o.id == id)
    }

    /// Checks `given` against the property definitions, reporting every problem
    /// at once as HubSpot does; values come back as strings, emails lower-cased.
    fn check_values(
        &self,
        kind: Kind,
        given: &Map<String, Value>,
    ) -> Result<BTreeMap<String, String>, HsError> {
        let mut values = BTreeMap::new();
        let mut problems: Vec<Problem> = Vec::new();
        for (name, v) in given {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                _ => {
                    problems.push((
                        name.clone(),
                        format!("{v} is not a valid value for {name}"),
                        "INVALID_PROPERTY_VALUE",
                    ));
                    continue;
                }
            };
            match self.property(kind, name) {
                None => problems.push((
                    name.clone(),
                    format!("Property \"{name}\" does not exist"),
                    "PROPERTY_DOESNT_EXIST",
                )),
                Some(p) if p.read_only => problems.push((
                    name.clone(),
                    format!("\"{name}\" is a read only property; its value cannot be set."),
                    "READ_ONLY_VALUE",
                )),
                Some(p) => match check_value(p, &text) {
                    Ok(value) => {
                        values.insert(name.clone(), value);
                    }
                    Err((message, code)) => problems.push((name.clone(), message, code)),
                },
            }
        }
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(invalid_values(&problems))
        }
    }

    /// A 409 when a unique value is already held by another object.
    fn conflict(
        &self,
        kind: Kind,
        values: &BTreeMap<String, String>,
        except: Option<u64>,
    ) -> Result<(), HsError> {
        for (name, value) in values.iter().filter(|(_, v)| !v.is_empty()) {
            if !self.property(kind, name).is_some_and(|p| p.unique) {
                continue;
            }
            if let Some(other) = self
                .find_by(kind, name, value)
                .filter(|o| Some(o.id) != except)
            {
                let what = if kind == Kind::Contact {
                    "Contact"
                } else {
                    "Deal"
                };
                let mut body = error_body(
                    &format!("{what} already exists. Existing ID: {}", other.id),
                    "CONFLICT",
                );
                body["context"] = json!({ "id": [other.id.to_string()], "propertyName": [name] });
                return Err(HsError(StatusCode::CONFLICT, body));
            }
        }
        Ok(())
    }

    fn insert(&mut self, kind: Kind, mut values: BTreeMap<String, String>) -> u64 {
        let (id, now) = (self.next_id, now_iso());
        self.next_id += 1;
        values.retain(|_, v| !v.is_empty());
        values.insert("hs_object_id".into(), id.to_string());
        values.insert("createdate".into(), now.clone());
        values.insert(kind.modified().into(), now.clone());
        self.objects.push(Object {
            kind,
            id,
            properties: values,
            created_at: now.clone(),
            updated_at: now,
        });
        id
    }

    /// Sets values; `""` clears one.
    fn apply(&mut self, kind: Kind, id: u64, values: BTreeMap<String, String>) {
        let now = now_iso();
        let Some(o) = self
            .objects
            .iter_mut()
            .find(|o| o.kind == kind && o.id == id)
        else {
            return;
        };
        for (k, v) in values {
            if v.is_empty() {
                o.properties.remove(&k);
            } else {
                o.properties.insert(k, v);
            }
        }
        o.properties.insert(kind.modified().into(), now.clone());
        o.updated_at = now;
    }

    /// The object a path names: a numeric id, or with `idProperty` a unique value.
    fn resolve(&self, kind: Kind, id: &str, id_property: Option<&str>) -> Result<u64, HsError> {
        let found = match id_property {
            Some(p) => {
                if !self.property(kind, p).is_some_and(|p| p.unique) {
                    return Err(validation(format!(
                        "{p} is not a unique property and cannot be used as idProperty"
                    )));
                }
                self.find_by(kind, p, id)
            }
            None => id.parse().ok().and_then(|n| self.object(kind, n)),
        };
        found.map(|o| o.id).ok_or_else(|| {
            not_found(format!(
                "Object not found. objectId are usually numeric. id: {id}"
            ))
        })
    }
}

/// Checks one value against its property's type; returns it normalised.
fn check_value(p: &Property, text: &str) -> Result<String, (String, &'static str)> {
    if text.is_empty() {
        return Ok(String::new());
    }
    let option = |v: &str| p.options.iter().any(|o| o["value"] == v);
    match p.type_.as_str() {
        "number" if text.parse::<f64>().is_err() => {
            Err((format!("{text} was not a valid number."), "INVALID_DECIMAL"))
        }
        "bool" if !["true", "false"].contains(&text) => Err((
            format!("{text} was not a valid boolean."),
            "INVALID_BOOLEAN",
        )),
        "enumeration" if !text.split(';').all(option) => Err((
            format!("{text} was not one of the allowed options for {}", p.name),
            "INVALID_OPTION",
        )),
        _ if p.name == "email" => {
            let valid = text.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
            });
            if valid {
                Ok(text.to_lowercase())
            } else {
                Err((format!("Email address {text} is invalid"), "INVALID_EMAIL"))
            }
        }
        _ => Ok(text.to_owned()),
    }
}

/// HubSpot's refusal of property values: the legacy list in `message`, and `errors[]`.
fn invalid_values(problems: &[Problem]) -> HsError {
    let legacy: Vec<Value> = problems
        .iter()
        .map(|(name, message, code)| json!({ "isValid": false, "message": message, "error": code, "name": name, "localizedErrorMessage": message }))
        .collect();
    let mut body = error_body(
        &format!("Property values were not valid: {}", Value::Array(legacy)),
        "VALIDATION_ERROR",
    );
    body["errors"] = problems
        .iter()
        .map(|(name, message, code)| json!({ "message": message, "code": code, "context": { "propertyName": [name] } }))
        .collect();
    HsError(StatusCode::BAD_REQUEST, body)
}

/// The `properties` object of a body, required.
fn properties_of(body: &Map<String, Value>) -> Result<&Map<String, Value>, HsError> {
    body.get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            validation(
                "Invalid input JSON: the field 'properties' is required and must be an object",
            )
        })
}

impl Db {
    /// `associations` at creation: each `{to:{id}, types:[{associationCategory, associationTypeId}]}`.
    fn check_associations(
        &self,
        from: Kind,
        given: Option<&Value>,
    ) -> Result<Vec<(Kind, u64)>, HsError> {
        let Some(items) = given.and_then(Value::as_array) else {
            return Err(validation(
                "Invalid input JSON: the field 'associations' is required (send [] for none)",
            ));
        };
        let mut links = Vec::new();
        for item in items {
            let to_id = item["to"]["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .or(item["to"]["id"].as_u64());
            let spec = &item["types"][0];
            let to = [Kind::Contact, Kind::Deal].into_iter().find(|to| {
                spec["associationTypeId"]
                    .as_u64()
                    .is_some_and(|t| Some(t) == type_id(from, *to))
            });
            match (to, to_id, spec["associationCategory"].as_str()) {
                (Some(to), Some(id), Some("HUBSPOT_DEFINED")) if self.object(to, id).is_some() => {
                    links.push((to, id))
                }
                _ => {
                    return Err(validation(format!(
                        "One or more associations are invalid: {item}"
                    )));
                }
            }
        }
        Ok(links)
    }
}

pub(super) async fn create_object(
    State(db): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let body = json_object(&headers, &body)?;
    let given = properties_of(&body)?;
    let mut db = lock(&db);
    let values = db.check_values(kind, given)?;
    let links = db.check_associations(kind, body.get("associations"))?;
    db.conflict(kind, &values, None)?;
    let id = db.insert(kind, values);
    for (to, to_id) in links {
        db.link(kind, id, to, to_id);
    }
    let names: Vec<String> = given.keys().cloned().collect();
    let o = db.object(kind, id).ok_or_else(|| not_found("vanished"))?;
    Ok((StatusCode::CREATED, Json(db.object_json(o, Some(&names)))).into_response())
}

pub(super) async fn get_object(
    State(db): State<Shared>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let db = lock(&db);
    let id = db.resolve(kind, &id, super::super::param(&q, "idProperty"))?;
    let o = db.object(kind, id).ok_or_else(|| not_found("vanished"))?;
    let mut names = list_param(&q, "properties");
    if names.is_empty() {
        names = kind.defaults().iter().map(|s| s.to_string()).collect();
    }
    let mut reply = db.object_json(o, Some(&names));
    for to in list_param(&q, "associations")
        .iter()
        .filter_map(|t| Kind::parse(t).ok())
    {
        let results: Vec<Value> = db
            .associations
            .iter()
            .filter(|(f, fid, t, _, _)| *f == kind && *fid == id && *t == to)
            .map(|(_, _, _, tid, _)| json!({ "id": tid.to_string(), "type": format!("{}_to_{}", singular(kind), singular(to)) }))
            .collect();
        reply["associations"][to.name()] = json!({ "results": results });
    }
    Ok(Json(reply).into_response())
}

fn singular(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contact",
        Kind::Deal => "deal",
    }
}

pub(super) async fn update_object(
    State(db): State<Shared>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let body = json_object(&headers, &body)?;
    let given = properties_of(&body)?;
    let mut db = lock(&db);
    let id = db.resolve(kind, &id, super::super::param(&q, "idProperty"))?;
    let values = db.check_values(kind, given)?;
    db.conflict(kind, &values, Some(id))?;
    db.apply(kind, id, values);
    let names: Vec<String> = given.keys().cloned().collect();
    let o = db.object(kind, id).ok_or_else(|| not_found("vanished"))?;
    Ok(Json(db.object_json(o, Some(&names))).into_response())
}

// ---------- search ----------

/// A number, or a date-time as epoch milliseconds, for range filters and sorting.
fn as_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().or_else(|| {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        Some((t.unix_timestamp_nanos() / 1_000_000) as f64)
    })
}

fn same(a: &str, b: &str) -> bool {
    match (as_number(a), as_number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// Whether one filter holds for a value (`None` when the object lacks it).
fn holds(filter: &Value, value: Option<&str>) -> Result<bool, HsError> {
    let operand = |f: &str| {
        filter[f]
            .as_str()
            .map(str::to_owned)
            .or_else(|| filter[f].as_number().map(|n| n.to_string()))
    };
    let (low, high) = (
        operand("value").unwrap_or_default(),
        operand("highValue").unwrap_or_default(),
    );
    let values: Vec<String> = filter["values"].as_array().map_or(Vec::new(), |a| {
        a.iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect()
    });
    let order = |v: &str, bound: &str| match (as_number(v), as_number(bound)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => Some(v.to_lowercase().cmp(&bound.to_lowercase())),
    };
    let v = value.filter(|v| !v.is_empty());
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match (filter["operator"].as_str().unwrap_or_default(), v) {
        ("HAS_PROPERTY", v) => v.is_some(),
        ("NOT_HAS_PROPERTY", v) => v.is_none(),
        ("NEQ", v) => !v.is_some_and(|v| same(v, &low)),
        ("NOT_IN", v) => !v.is_some_and(|v| values.iter().any(|x| same(v, x))),
        ("NOT_CONTAINS_TOKEN", v) => !v.is_some_and(|v| {
            v.to_lowercase()
                .contains(&low.replace('*', "").to_lowercase())
        }),
        ("EQ" | "IN" | "LT" | "LTE" | "GT" | "GTE" | "BETWEEN" | "CONTAINS_TOKEN", None) => false,
        ("EQ", Some(v)) => same(v, &low),
        ("IN", Some(v)) => values.iter().any(|x| same(v, x)),
        ("LT", Some(v)) => order(v, &low) == Some(Less),
        ("LTE", Some(v)) => matches!(order(v, &low), Some(Less | Equal)),
        ("GT", Some(v)) => order(v, &low) == Some(Greater),
        ("GTE", Some(v)) => matches!(order(v, &low), Some(Greater | Equal)),
        ("BETWEEN", Some(v)) => {
            matches!(order(v, &low), Some(Greater | Equal))
                && matches!(order(v, &high), Some(Less | Equal))
        }
        ("CONTAINS_TOKEN", Some(v)) => v
            .to_lowercase()
            .contains(&low.replace('*', "").to_lowercase()),
        (op, _) => {
            return Err(validation(format!(
                "Unknown operator '{op}' in filter {filter}"
            )));
        }
    })
}

/// `sorts` as strings (`"name"`, `"-name"`) or `{propertyName, direction}`.
fn sorts(given: Option<&Value>) -> Vec<(String, bool)> {
    given.and_then(Value::as_array).map_or(Vec::new(), |a| {
        a.iter()
            .filter_map(|s| match s {
                Value::String(s) => Some(
                    s.strip_prefix('-')
                        .map_or((s.clone(), false), |n| (n.to_owned(), true)),
                ),
                Value::Object(o) => {
                    let name = o.get("propertyName")?.as_str()?.to_owned();
                    Some((
                        name,
                        o.get("direction").and_then(Value::as_str) == Some("DESCENDING"),
                    ))
                }
                _ => None,
            })
            .collect()
    })
}

impl Db {
    fn matching(&self, kind: Kind, body: &Map<String, Value>) -> Result<Vec<&Object>, HsError> {
        let groups = body
            .get("filterGroups")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let filters = |g: &Value| g["filters"].as_array().cloned().unwrap_or_default();
        let total: usize = groups.iter().map(|g| filters(g).len()).sum();
        if groups.len() > 5 || groups.iter().any(|g| filters(g).len() > 6) || total > 18 {
            return Err(validation(
                "Too many filters: at most 5 groups of 6 filters, 18 in all.",
            ));
        }
        for f in groups.iter().flat_map(filters) {
            let name = f["propertyName"].as_str().unwrap_or_default();
            if self.property(kind, name).is_none() {
                return Err(validation(format!(
                    "There was a problem with the request: property '{name}' does not exist"
                )));
            }
        }
        let query = body
            .get("query")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        let searchable = [
            "email",
            "firstname",
            "lastname",
            "phone",
            "company",
            "dealname",
        ];
        let mut found = Vec::new();
        for o in self.objects.iter().filter(|o| o.kind == kind) {
            let value = |f: &Value| {
                o.properties
                    .get(f["propertyName"].as_str().unwrap_or_default())
                    .map(String::as_str)
            };
            let mut hit = groups.is_empty();
            for g in &groups {
                let mut all = true;
                for f in filters(g) {
                    all &= holds(&f, value(&f))?;
                }
                hit |= all;
            }
            let text = query.is_empty()
                || searchable.iter().any(|p| {
                    o.properties
                        .get(*p)
                        .is_some_and(|v| v.to_lowercase().contains(&query))
                });
            if hit && text {
                found.push(o);
            }
        }
        Ok(found)
    }
}

pub(super) async fn search_objects(
    State(db): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let body = json_object(&headers, &body)?;
    let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(10);
    if limit > MAX_SEARCH_LIMIT {
        return Err(validation(format!(
            "limit must be at most {MAX_SEARCH_LIMIT}"
        )));
    }
    let after: usize = match body.get("after") {
        None | Some(Value::Null) => 0,
        Some(a) => a
            .as_str()
            .and_then(|s| s.parse().ok())
            .or(a.as_u64().map(|n| n as usize))
            .ok_or_else(|| validation("after must be a paging cursor"))?,
    };
    let db = lock(&db);
    let mut found = db.matching(kind, &body)?;
    let order = sorts(body.get("sorts"));
    found.sort_by(|a, b| {
        order
            .iter()
            .fold(std::cmp::Ordering::Equal, |acc, (name, desc)| {
                let (x, y) = (a.properties.get(name), b.properties.get(name));
                let o = match (x.and_then(|v| as_number(v)), y.and_then(|v| as_number(v))) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => x.cmp(&y),
                };
                acc.then(if *desc { o.reverse() } else { o })
            })
            .then(a.id.cmp(&b.id))
    });
    let mut names: Vec<String> =
        body.get("properties")
            .and_then(Value::as_array)
            .map_or(Vec::new(), |a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            });
    if names.is_empty() {
        names = kind.defaults().iter().map(|s| s.to_string()).collect();
    }
    let page: Vec<Value> = found
        .iter()
        .skip(after)
        .take(limit as usize)
        .map(|o| db.object_json(o, Some(&names)))
        .collect();
    let mut reply = json!({ "total": found.len(), "results": page });
    if after + (limit as usize) < found.len() {
        reply["paging"] = json!({ "next": { "after": (after + limit as usize).to_string() } });
    }
    Ok(Json(reply).into_response())
}

// ---------- batch upsert ----------

pub(super) async fn batch_upsert(
    State(db): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let body = json_object(&headers, &body)?;
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty());
    let inputs = inputs
        .ok_or_else(|| validation("Invalid input JSON: 'inputs' must be a non-empty array"))?;
    if inputs.len() > 100 {
        return Err(validation("At most 100 inputs may be sent in one batch."));
    }
    let started = now_iso();
    let mut db = lock(&db);
    db.check_upsert_keys(kind, inputs)?;
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for input in inputs {
        match db.upsert_one(kind, input) {
            Ok(v) => results.push(v),
            Err(HsError(_, mut e)) => {
                e["context"]["ids"] = json!([input["id"]]);
                errors.push(e);
            }
        }
    }
    let mut reply = json!({ "status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now_iso() });
    if errors.is_empty() {
        return Ok(Json(reply).into_response());
    }
    reply["numErrors"] = json!(errors.len());
    reply["errors"] = json!(errors);
    Ok((StatusCode::MULTI_STATUS, Json(reply)).into_response())
}

impl Db {
    /// Every input names a unique `idProperty` and an `id`, no id twice:
    /// otherwise the whole batch is refused.
    fn check_upsert_keys(&self, kind: Kind, inputs: &[Value]) -> Result<(), HsError> {
        let mut seen: Vec<String> = Vec::new();
        for input in inputs {
            let (prop, id) = (
                input["idProperty"].as_str().unwrap_or_default(),
                input["id"].as_str().unwrap_or_default(),
            );
            if !self.property(kind, prop).is_some_and(|p| p.unique) {
                return Err(validation(format!(
                    "idProperty '{prop}' is not a unique property; use email or a property with hasUniqueValue"
                )));
            }
            if id.is_empty() {
                return Err(validation("Every input needs a non-empty string 'id'."));
            }
            let key = format!(
                "{prop}\u{0}{}",
                if prop == "email" {
                    id.to_lowercase()
                } else {
                    id.to_owned()
                }
            );
            if seen.contains(&key) {
                return Err(validation(format!(
                    "Duplicate IDs found in batch input: [{id}]"
                )));
            }
            seen.push(key);
        }
        Ok(())
    }

    fn upsert_one(&mut self, kind: Kind, input: &Value) -> Result<Value, HsError> {
        let (prop, id) = (
            input["idProperty"].as_str().unwrap_or_default(),
            input["id"].as_str().unwrap_or_default(),
        );
        let empty = Map::new();
        let given = input["properties"].as_object().unwrap_or(&empty);
        let mut values = self.check_values(kind, given)?;
        let mut key = Map::new();
        key.insert(prop.to_owned(), json!(id));
        values.extend(self.check_values(kind, &key)?);
        let existing = self.find_by(kind, prop, id).map(|o| o.id);
        self.conflict(kind, &values, existing)?;
        let (object, new) = match existing {
            Some(object) => {
                self.apply(kind, object, values);
                (object, false)
            }
            None => (self.insert(kind, values), true),
        };
        let names: Vec<String> = given.keys().cloned().chain([prop.to_owned()]).collect();
        let o = self
            .object(kind, object)
            .ok_or_else(|| not_found("vanished"))?;
        let mut v = self.object_json(o, Some(&names));
        v["new"] = json!(new);
        Ok(v)
    }
}
