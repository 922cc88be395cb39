//! `/search/jql`: bounded JQL, page tokens, chosen fields.

use super::*;

struct SearchRequest {
    jql: String,
    max_results: Option<i64>,
    next_page_token: Option<String>,
    fields: Fields,
    properties: Vec<String>,
}

pub(super) async fn search_get(
    State(db): State<Shared>,
    Query(query): Query<Vec<(String, String)>>,
) -> Reply {
    let max_results = match param(&query, "maxResults") {
        Some(m) => Some(
            m.parse()
                .map_err(|_| bad_request(format!("'{m}' is not a valid value for maxResults")))?,
        ),
        None => None,
    };
    let request = SearchRequest {
        jql: param(&query, "jql").unwrap_or_default().to_owned(),
        max_results,
        next_page_token: param(&query, "nextPageToken").map(str::to_owned),
        fields: Fields::parse(
            query
                .iter()
                .filter(|(k, _)| k == "fields")
                .map(|(_, v)| v.clone()),
            false,
        ),
        properties: list_param(&query, "properties"),
    };
    search(&mut lock(&db), request)
}

pub(super) async fn search_post(
    State(db): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = json_object(&headers, &body)?;
    if let Some(unknown) = body
        .keys()
        .find(|k| !SEARCH_BODY_FIELDS.contains(&k.as_str()))
    {
        return Err(bad_request(format!(
            "Unrecognized field \"{unknown}\" (not marked as ignorable)"
        )));
    }
    let strings = |f: &str| -> Result<Vec<String>, JiraError> {
        match body.get(f) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad_request(format!("'{f}' must hold strings")))
                })
                .collect(),
            Some(_) => Err(bad_request(format!("'{f}' must be an array of strings"))),
        }
    };
    let request = SearchRequest {
        jql: body
            .get("jql")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        max_results: body.get("maxResults").and_then(Value::as_i64),
        next_page_token: body
            .get("nextPageToken")
            .and_then(Value::as_str)
            .map(str::to_owned),
        fields: Fields::parse(strings("fields")?.into_iter(), false),
        properties: strings("properties")?,
    };
    search(&mut lock(&db), request)
}

/// One page of the issues `jql` matches; a token continues where it stopped.
fn search(db: &mut Db, request: SearchRequest) -> Reply {
    if request.properties.len() > 5 {
        return Err(bad_request("At most 5 issue properties can be requested."));
    }
    let query = jql::parse(&request.jql).map_err(bad_request)?;
    let offset = match &request.next_page_token {
        None => 0,
        Some(token) => match db.tokens.get(token) {
            Some((jql, offset)) if *jql == request.jql => *offset,
            _ => {
                return Err(bad_request(
                    "The provided next page token is invalid or expired.",
                ));
            }
        },
    };
    let matched = jql::run(db, &query).map_err(bad_request)?;
    let page = request.max_results.unwrap_or(50).clamp(1, MAX_PAGE as i64) as usize;
    let issues: Vec<Value> = matched
        .iter()
        .skip(offset)
        .take(page)
        .map(|i| db.issue_json(i, &request.fields, &request.properties))
        .collect();
    let mut reply = json!({ "issues": issues, "isLast": true });
    if offset + page < matched.len() {
        let token = uuid::Uuid::now_v7().simple().to_string();
        db.tokens
            .insert(token.clone(), (request.jql, offset + page));
        reply["nextPageToken"] = json!(token);
        reply["isLast"] = json!(false);
    }
    Ok(Json(reply).into_response())
}

/// The JQL this fake understands: clauses joined by `AND` on `project`,
/// `labels`, `status`, `key`/`issuekey`, `issuetype`/`type` (`=`, `!=`, `in`,
/// `not in`) and `summary`/`text` (`~`), then `ORDER BY` up to 7 fields.
mod jql {
    use super::{Db, Issue, STATUSES};

    pub(super) struct Query {
        clauses: Vec<Clause>,
        order: Vec<(String, bool)>,
    }

    struct Clause {
        field: String,
        op: Op,
        values: Vec<String>,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        In,
        NotIn,
        Contains,
    }

    #[derive(Debug, PartialEq)]
    enum Tok {
        Word(String),
        Quoted(String),
        Sym(char),
        NotEq,
    }

    fn lex(s: &str) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => {}
                '"' | '\'' => {
                    let mut text = String::new();
                    loop {
                        match chars.next() {
                            Some('\\') => text.extend(chars.next()),
                            Some(q) if q == c => break,
                            Some(ch) => text.push(ch),
                            None => {
                                return Err(format!(
                                    "Error in the JQL Query: The quoted string '{text}' has not been completed."
                                ));
                            }
                        }
                    }
                    out.push(Tok::Quoted(text));
                }
                '!' if chars.peek() == Some(&'=') => {
                    chars.next();
                    out.push(Tok::NotEq);
                }
                '=' | '~' | '(' | ')' | ',' => out.push(Tok::Sym(c)),
                _ => {
                    let mut word = c.to_string();
                    while let Some(&n) = chars.peek() {
                        if n.is_whitespace() || "=!~(),\"'".contains(n) {
                            break;
                        }
                        word.push(n);
                        chars.next();
                    }
                    out.push(Tok::Word(word));
                }
            }
        }
        Ok(out)
    }

    fn is_word(t: Option<&Tok>, w: &str) -> bool {
        matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn value(t: Option<&Tok>) -> Result<String, String> {
        match t {
            Some(Tok::Word(w) | Tok::Quoted(w)) => Ok(w.clone()),
            other => Err(format!(
                "Error in the JQL Query: Expecting a value but got {other:?}."
            )),
        }
    }

    pub(super) fn parse(jql: &str) -> Result<Query, String> {
        let toks = lex(jql)?;
        let order_at = (0..toks.len())
            .find(|&i| is_word(toks.get(i), "order") && is_word(toks.get(i + 1), "by"));
        let (filter, order) = toks.split_at(order_at.unwrap_or(toks.len()));
        let clauses = parse_filter(filter)?;
        if clauses.is_empty() {
            return Err("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.".into());
        }
        let order = if order.is_empty() {
            Vec::new()
        } else {
            parse_order(&order[2..])?
        };
        Ok(Query { clauses, order })
    }

    fn parse_filter(toks: &[Tok]) -> Result<Vec<Clause>, String> {
        let mut clauses = Vec::new();
        let mut at = 0;
        while at < toks.len() {
            if !clauses.is_empty() {
                if is_word(toks.get(at), "or") {
                    return Err("The fake's JQL supports AND only, not OR.".into());
                }
                if !is_word(toks.get(at), "and") {
                    return Err(format!(
                        "Error in the JQL Query: Expecting 'AND' but got {:?}.",
                        toks[at]
                    ));
                }
                at += 1;
            }
            let field = match toks.get(at) {
                Some(Tok::Word(f) | Tok::Quoted(f)) => f.to_lowercase(),
                other => {
                    return Err(format!(
                        "Error in the JQL Query: Expecting a field name but got {other:?}."
                    ));
                }
            };
            at += 1;
            let op = match toks.get(at) {
                Some(Tok::Sym('=')) => Op::In,
                Some(Tok::NotEq) => Op::NotIn,
                Some(Tok::Sym('~')) => Op::Contains,
                t if is_word(t, "in") => Op::In,
                t if is_word(t, "not") && is_word(toks.get(at + 1), "in") => {
                    at += 1;
                    Op::NotIn
                }
                other => {
                    return Err(format!(
                        "Error in the JQL Query: Expecting an operator but got {other:?}."
                    ));
                }
            };
            let list = is_word(toks.get(at), "in");
            at += 1;
            let mut values = Vec::new();
            if list {
                if toks.get(at) != Some(&Tok::Sym('(')) {
                    return Err("Error in the JQL Query: Expecting '(' after IN.".into());
                }
                at += 1;
                loop {
                    values.push(value(toks.get(at))?);
                    at += 1;
                    match toks.get(at) {
                        Some(Tok::Sym(',')) => at += 1,
                        Some(Tok::Sym(')')) => break,
                        _ => {
                            return Err(
                                "Error in the JQL Query: Expecting ',' or ')' in the list.".into(),
                            );
                        }
                    }
                }
            } else {
                values.push(value(toks.get(at))?);
            }
            at += 1;
            clauses.push(Clause { field, op, values });
        }
        Ok(clauses)
    }

    fn parse_order(toks: &[Tok]) -> Result<Vec<(String, bool)>, String> {
        let mut order = Vec::new();
        for part in toks.split(|t| *t == Tok::Sym(',')) {
            let (field, asc) = match part {
                [Tok::Word(f)] => (f, true),
                [Tok::Word(f), Tok::Word(d)] if d.eq_ignore_ascii_case("asc") => (f, true),
                [Tok::Word(f), Tok::Word(d)] if d.eq_ignore_ascii_case("desc") => (f, false),
                _ => return Err("Error in the JQL Query: Expecting a field name and an optional ASC or DESC after ORDER BY.".into()),
            };
            let field = field.to_lowercase();
            if !["key", "issuekey", "id", "created", "updated", "summary"].contains(&field.as_str())
            {
                return Err(format!("Not able to sort using field '{field}'."));
            }
            order.push((field, asc));
        }
        if order.len() > 7 {
            return Err("The ORDER BY clause can contain a maximum of 7 fields.".into());
        }
        Ok(order)
    }

    /// The live issues matching `query`, ordered (default: newest first).
    pub(super) fn run<'a>(db: &'a Db, query: &Query) -> Result<Vec<&'a Issue>, String> {
        for clause in &query.clauses {
            check(db, clause)?;
        }
        let mut found: Vec<&Issue> = db
            .issues
            .iter()
            .filter(|i| i.indexed)
            .filter(|i| {
                db.projects
                    .iter()
                    .any(|p| p.id == i.project_id && !p.deleted)
            })
            .filter(|i| query.clauses.iter().all(|c| matches(db, i, c)))
            .collect();
        let order = if query.order.is_empty() {
            vec![("id".to_owned(), false)]
        } else {
            query.order.clone()
        };
        found.sort_by(|a, b| {
            order
                .iter()
                .fold(std::cmp::Ordering::Equal, |acc, (field, asc)| {
                    let o = match field.as_str() {
                        "key" | "issuekey" => {
                            (project_key(db, a), a.number).cmp(&(project_key(db, b), b.number))
                        }
                        "summary" => a.summary.cmp(&b.summary),
                        "updated" => a.updated.cmp(&b.updated).then(a.id.cmp(&b.id)),
                        _ => a.id.cmp(&b.id),
                    };
                    acc.then(if *asc { o } else { o.reverse() })
                })
        });
        Ok(found)
    }

    fn project_key<'a>(db: &'a Db, i: &Issue) -> &'a str {
        db.projects
            .iter()
            .find(|p| p.id == i.project_id)
            .map_or("", |p| p.key.as_str())
    }

    /// Jira refuses values that name nothing, and fields it does not know.
    fn check(db: &Db, c: &Clause) -> Result<(), String> {
        let known = |v: &str| match c.field.as_str() {
            "project" => db.projects.iter().any(|p| {
                !p.deleted
                    && (p.key.eq_ignore_ascii_case(v)
                        || p.id.to_string() == v
                        || p.name.eq_ignore_ascii_case(v))
            }),
            "status" => STATUSES
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(v) || s.id == v),
            "key" | "issuekey" => db
                .issues
                .iter()
                .any(|i| i.key.eq_ignore_ascii_case(v) || i.id.to_string() == v),
            "issuetype" | "type" => super::ISSUE_TYPES
                .iter()
                .any(|(id, n)| n.eq_ignore_ascii_case(v) || *id == v),
            _ => true,
        };
        let fields = [
            "project",
            "labels",
            "status",
            "key",
            "issuekey",
            "issuetype",
            "type",
            "summary",
            "text",
        ];
        if !fields.contains(&c.field.as_str()) {
            return Err(format!(
                "Field '{}' does not exist or you do not have permission to view it.",
                c.field
            ));
        }
        if (c.op == Op::Contains) != ["summary", "text"].contains(&c.field.as_str()) {
            return Err(format!(
                "The operator is not supported by the '{}' field.",
                c.field
            ));
        }
        match c.values.iter().find(|v| !known(v)) {
            Some(v) if ["key", "issuekey"].contains(&c.field.as_str()) => Err(format!(
                "An issue with key '{v}' does not exist for field '{}'.",
                c.field
            )),
            Some(v) => Err(format!(
                "The value '{v}' does not exist for the field '{}'.",
                c.field
            )),
            None => Ok(()),
        }
    }

    fn matches(db: &Db, i: &Issue, c: &Clause) -> bool {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let hit = |v: &str| match c.field.as_str() {
            "project" => db.projects.iter().any(|p| {
                p.id == i.project_id && (eq(&p.key, v) || p.id.to_string() == v || eq(&p.name, v))
            }),
            "labels" => i.labels.iter().any(|l| l == v),
            "status" => eq(STATUSES[i.status].name, v) || STATUSES[i.status].id == v,
            "key" | "issuekey" => eq(&i.key, v) || i.id.to_string() == v,
            "issuetype" | "type" => eq(i.issue_type.1, v) || i.issue_type.0 == v,
            _ => i.summary.to_lowercase().contains(&v.to_lowercase()),
        };
        let any = c.values.iter().any(|v| hit(v));
        if c.op == Op::NotIn { !any } else { any }
    }
}
