//! Boards, lists, cards, checklists, comments and attachments. Every change a
//! card sees becomes an action, echoed to the webhooks that watch it, as Trello
//! echoes a token's own changes back to its webhooks.

use axum::extract::{FromRequest, Multipart, Path};

use super::webhooks::echo;
use super::*;

/// Card actions per page of `GET /cards/{id}/actions`.
const ACTIONS_PER_PAGE: usize = 50;

impl Db {
    pub(super) fn card_json(&self, c: &Card) -> Value {
        let checklists: Vec<&Checklist> =
            self.checklists.iter().filter(|k| k.card == c.id).collect();
        let items = checklists.iter().flat_map(|k| &k.items);
        let comments = self
            .actions
            .iter()
            .filter(|(card, a)| *card == c.id && a["type"] == "commentCard")
            .count();
        json!({
            "id": c.id,
            "badges": {
                "attachments": self.attachments.iter().filter(|a| a.card == c.id).count(),
                "checkItems": items.clone().count(),
                "checkItemsChecked": items.filter(|i| i.complete).count(),
                "comments": comments,
                "description": !c.desc.is_empty(),
                "due": c.due, "dueComplete": false, "votes": 0, "subscribed": false,
            },
            "checkItemStates": [],
            "closed": c.closed,
            "dateLastActivity": c.last_activity,
            "desc": c.desc,
            "due": c.due,
            "dueComplete": false,
            "idBoard": c.board,
            "idChecklists": checklists.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            "idLabels": [],
            "idList": c.list,
            "idMembers": [],
            "idShort": c.id_short,
            "labels": [],
            "name": c.name,
            "pos": c.pos,
            "shortLink": c.short_link,
            "shortUrl": format!("https://trello.com/c/{}", c.short_link),
            "start": null,
            "url": format!("https://trello.com/c/{}/{}-{}", c.short_link, c.id_short, slug(&c.name)),
        })
    }

    /// What tests want to see of a card beyond the API's view.
    pub(super) fn inspect_card(&self, c: &Card) -> Value {
        let mut v = self.card_json(c);
        v["listName"] = json!(self.list_name(&c.list));
        v["checklists"] = self
            .checklists
            .iter()
            .filter(|k| k.card == c.id)
            .map(|k| {
                let items: Vec<Value> = k
                    .items
                    .iter()
                    .map(|i| json!({ "name": i.name, "state": state(i.complete) }))
                    .collect();
                json!({ "id": k.id, "name": k.name, "items": items })
            })
            .collect();
        v["comments"] = self
            .actions
            .iter()
            .filter(|(card, a)| *card == c.id && a["type"] == "commentCard")
            .map(|(_, a)| {
                json!({ "text": a["data"]["text"], "author": a["memberCreator"]["fullName"], "idMemberCreator": a["idMemberCreator"], "date": a["date"] })
            })
            .collect();
        v["attachments"] = self
            .attachments
            .iter()
            .filter(|a| a.card == c.id)
            .map(|a| {
                let text = a.bytes.as_deref().map(String::from_utf8_lossy);
                json!({ "id": a.id, "name": a.name, "mimeType": a.mime_type, "bytes": a.bytes.as_ref().map(Vec::len), "text": text, "url": a.url })
            })
            .collect();
        v
    }

    fn checklist_json(&self, k: &Checklist) -> Value {
        let items: Vec<Value> = k.items.iter().map(|i| check_item_json(i, &k.id)).collect();
        json!({ "id": k.id, "name": k.name, "idBoard": k.board, "idCard": k.card, "pos": k.pos, "checkItems": items, "limits": {} })
    }

    /// A card action by `member` with Trello's `data` (card, board, list),
    /// recorded on the card and returned for the webhooks.
    pub(super) fn act(&mut self, kind: &str, member: &Member, card: usize, extra: Value) -> Value {
        let id = self.new_id();
        let c = &self.cards[card];
        let board = self.boards.iter().find(|b| b.id == c.board);
        let mut data = json!({
            "card": { "id": c.id, "name": c.name, "idShort": c.id_short, "shortLink": c.short_link },
            "board": { "id": c.board, "name": board.map(|b| b.name.as_str()), "shortLink": board.map(|b| b.short_link.as_str()) },
            "list": { "id": c.list, "name": self.list_name(&c.list) },
        });
        if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
            for (k, v) in extra {
                if v.is_null() {
                    data.remove(&k)
                } else {
                    data.insert(k, v)
                };
            }
        }
        let action = json!({
            "id": id, "idMemberCreator": member.id, "type": kind, "date": now_iso(), "data": data,
            "appCreator": null, "limits": {}, "memberCreator": member_json(member),
        });
        let card_id = self.cards[card].id.clone();
        self.cards[card].last_activity = now_iso();
        self.actions.push((card_id, action.clone()));
        action
    }

    /// The token's own member, who makes every change that comes through the API.
    fn me(&self) -> Member {
        self.members[0].clone()
    }

    /// Moves a card to a list (and its board), recording Trello's `updateCard`.
    pub(super) fn move_card(&mut self, card: usize, list: &str, member: &Member) -> Value {
        let (before, after) = (self.cards[card].list.clone(), list.to_owned());
        let board = self
            .lists
            .iter()
            .find(|l| l.id == after)
            .map(|l| l.board.clone())
            .unwrap_or_default();
        self.cards[card].list = after.clone();
        self.cards[card].board = board;
        let extra = json!({
            "old": { "idList": before },
            "listBefore": { "id": before, "name": self.list_name(&before) },
            "listAfter": { "id": after, "name": self.list_name(&after) },
            "list": null,
        });
        let mut action = self.act("updateCard", member, card, extra);
        action["data"]["card"]["idList"] = json!(after);
        if let Some((_, stored)) = self.actions.last_mut() {
            *stored = action.clone();
        }
        action
    }
}

fn state(complete: bool) -> &'static str {
    if complete { "complete" } else { "incomplete" }
}

fn check_item_json(i: &CheckItem, checklist: &str) -> Value {
    json!({
        "id": i.id, "name": i.name, "nameData": null, "pos": i.pos, "state": state(i.complete),
        "due": null, "idMember": null, "idChecklist": checklist, "limits": {},
    })
}

fn ok(v: Value) -> Reply {
    Ok(Json(v).into_response())
}

// ---------- boards and lists ----------

pub(super) async fn create_board(
    State(db): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let name = p
        .get("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("invalid value for name"))?;
    let default_lists = p.flag("defaultLists")?.unwrap_or(true);
    let mut db = lock(&db);
    let id = db.add_board(name, default_lists);
    let board = db.board(&id)?;
    ok(db.board_json(board))
}

pub(super) async fn get_board(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    let db = lock(&db);
    ok(db.board_json(db.board(&id)?))
}

pub(super) async fn list_lists(
    State(db): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Reply {
    let db = lock(&db);
    db.board(&id)?;
    let keep = |l: &List| match param(&q, "filter").unwrap_or("open") {
        "all" => Ok(true),
        "open" => Ok(!l.closed),
        "closed" => Ok(l.closed),
        _ => Err(bad("invalid value for filter")),
    };
    let mut lists = Vec::new();
    for l in db.lists.iter().filter(|l| l.board == id) {
        if keep(l)? {
            lists.push(l);
        }
    }
    lists.sort_by(|a, b| a.pos.total_cmp(&b.pos));
    ok(json!(
        lists.iter().map(|l| list_json(l)).collect::<Vec<_>>()
    ))
}

fn list_json(l: &List) -> Value {
    json!({ "id": l.id, "name": l.name, "closed": l.closed, "pos": l.pos, "idBoard": l.board, "subscribed": false, "softLimit": null })
}

pub(super) async fn create_list(
    State(db): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let name = p
        .get("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("invalid value for name"))?;
    let board = p.id("idBoard")?;
    let mut db = lock(&db);
    if db.board(board).is_err() {
        return Err(bad("invalid value for idBoard"));
    }
    let pos = position(
        p.get("pos"),
        db.lists.iter().filter(|l| l.board == board).map(|l| l.pos),
    )?;
    let id = db.add_list(board, name, pos);
    let list = db.lists.iter().find(|l| l.id == id).ok_or_else(not_found)?;
    ok(list_json(list))
}

// ---------- cards ----------

pub(super) async fn create_card(
    State(shared): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let list_id = p.id("idList")?;
    let mut db = lock(&shared);
    let Some(list) = db.lists.iter().find(|l| l.id == list_id) else {
        return Err(bad("invalid value for idList"));
    };
    let board = list.board.clone();
    let pos = position(
        p.get("pos"),
        db.cards.iter().filter(|c| c.list == list_id).map(|c| c.pos),
    )?;
    let pos = pos.unwrap_or_else(|| {
        db.end_pos(db.cards.iter().filter(|c| c.list == list_id).map(|c| c.pos))
    });
    let (id, short_link) = (db.new_id(), db.short_link());
    let id_short = db.cards.iter().filter(|c| c.board == board).count() as u64 + 1;
    db.cards.push(Card {
        id,
        name: p.get("name").unwrap_or_default().to_owned(),
        desc: p.get("desc").unwrap_or_default().to_owned(),
        list: list_id.to_owned(),
        board,
        closed: false,
        pos,
        due: p
            .get("due")
            .filter(|d| !d.is_empty() && *d != "null")
            .map(str::to_owned),
        short_link,
        id_short,
        last_activity: now_iso(),
    });
    let at = db.cards.len() - 1;
    let me = db.me();
    let action = db.act("createCard", &me, at, json!({}));
    let reply = db.card_json(&db.cards[at]);
    echo(&shared, &db, at, action);
    ok(reply)
}

pub(super) async fn get_card(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    let db = lock(&db);
    let at = db.card_at(&id)?;
    ok(db.card_json(&db.cards[at]))
}

/// Updates `name`, `desc`, `closed`, `due`, `pos` and moves by `idList`
/// (optionally with the list's `idBoard`), one `updateCard` action per change.
pub(super) async fn update_card(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let mut db = lock(&shared);
    let at = db.card_at(&id)?;
    let target = match p.get("idList") {
        Some(_) => Some(p.id("idList")?.to_owned()),
        None => None,
    };
    if let Some(list) = &target {
        let board = db
            .lists
            .iter()
            .find(|l| l.id == *list)
            .map(|l| l.board.clone());
        match (board, p.get("idBoard")) {
            (None, _) => return Err(bad("invalid value for idList")),
            (Some(b), Some(given)) if b != given => return Err(bad("invalid value for idBoard")),
            _ => {}
        }
    }
    let closed = p.flag("closed")?;
    let pos = position(p.get("pos"), std::iter::empty())?;
    let me = db.me();
    let mut actions = Vec::new();
    for (field, new) in [("name", p.get("name")), ("desc", p.get("desc"))] {
        let Some(new) = new else { continue };
        let card = &mut db.cards[at];
        let slot = if field == "name" {
            &mut card.name
        } else {
            &mut card.desc
        };
        if slot != new {
            let old = std::mem::replace(slot, new.to_owned());
            actions.push(db.act("updateCard", &me, at, json!({ "old": { field: old } })));
        }
    }
    if let Some(closed) = closed.filter(|c| *c != db.cards[at].closed) {
        db.cards[at].closed = closed;
        actions.push(db.act(
            "updateCard",
            &me,
            at,
            json!({ "old": { "closed": !closed } }),
        ));
    }
    if let Some(due) = p.get("due") {
        db.cards[at].due = Some(due)
            .filter(|d| !d.is_empty() && *d != "null")
            .map(str::to_owned);
    }
    if let Some(pos) = pos {
        db.cards[at].pos = pos;
    }
    if let Some(list) = target.filter(|l| *l != db.cards[at].list) {
        actions.push(db.move_card(at, &list, &me));
    }
    for action in actions {
        echo(&shared, &db, at, action);
    }
    ok(db.card_json(&db.cards[at]))
}

pub(super) async fn list_board_cards(
    State(db): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Reply {
    let db = lock(&db);
    db.board(&id)?;
    let filter = param(&q, "filter").unwrap_or("visible");
    if !["visible", "open", "closed", "all"].contains(&filter) {
        return Err(bad("invalid value for filter"));
    }
    let list_pos = |c: &Card| {
        db.lists
            .iter()
            .find(|l| l.id == c.list)
            .map_or(0.0, |l| l.pos)
    };
    let mut cards: Vec<&Card> = db
        .cards
        .iter()
        .filter(|c| c.board == id)
        .filter(|c| filter == "all" || (filter == "closed") == c.closed)
        .collect();
    cards.sort_by(|a, b| {
        list_pos(a)
            .total_cmp(&list_pos(b))
            .then(a.pos.total_cmp(&b.pos))
    });
    ok(json!(
        cards.iter().map(|c| db.card_json(c)).collect::<Vec<_>>()
    ))
}

// ---------- checklists ----------

pub(super) async fn add_checklist(
    State(db): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let mut db = lock(&db);
    let at = db.card_at(&id)?;
    let (card, board) = (db.cards[at].id.clone(), db.cards[at].board.clone());
    let pos = db.end_pos(
        db.checklists
            .iter()
            .filter(|k| k.card == card)
            .map(|k| k.pos),
    );
    let checklist = Checklist {
        id: db.new_id(),
        name: p.get("name").unwrap_or("Checklist").to_owned(),
        card,
        board,
        pos,
        items: Vec::new(),
    };
    let reply = db.checklist_json(&checklist);
    db.checklists.push(checklist);
    ok(reply)
}

pub(super) async fn card_checklists(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    let db = lock(&db);
    let card = &db.cards[db.card_at(&id)?].id;
    ok(json!(
        db.checklists
            .iter()
            .filter(|k| k.card == *card)
            .map(|k| db.checklist_json(k))
            .collect::<Vec<_>>()
    ))
}

pub(super) async fn add_check_item(
    State(db): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    check_id(&id)?;
    let name = p
        .get("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("invalid value for name"))?;
    let complete = p.flag("checked")?.unwrap_or(false);
    let mut db = lock(&db);
    let item_id = db.new_id();
    let at = db
        .checklists
        .iter()
        .position(|k| k.id == id)
        .ok_or_else(not_found)?;
    let pos = db.end_pos(db.checklists[at].items.iter().map(|i| i.pos));
    let item = CheckItem {
        id: item_id,
        name: name.to_owned(),
        complete,
        pos,
    };
    let reply = check_item_json(&item, &id);
    db.checklists[at].items.push(item);
    ok(reply)
}

/// `state=complete|incomplete` (and optionally `name`) for an item on the card.
pub(super) async fn set_check_item(
    State(shared): State<Shared>,
    Path((card, item)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let complete = match p.get("state") {
        None => None,
        Some("complete") => Some(true),
        Some("incomplete") => Some(false),
        Some(_) => return Err(bad("invalid value for state")),
    };
    check_id(&item)?;
    let mut db = lock(&shared);
    let at = db.card_at(&card)?;
    let card_id = db.cards[at].id.clone();
    let k = db
        .checklists
        .iter()
        .position(|k| k.card == card_id && k.items.iter().any(|i| i.id == item));
    let k = k.ok_or_else(not_found)?;
    let checklist = db.checklists[k].id.clone();
    let i = db.checklists[k]
        .items
        .iter()
        .position(|i| i.id == item)
        .ok_or_else(not_found)?;
    let entry = &mut db.checklists[k].items[i];
    if let Some(name) = p.get("name").filter(|n| !n.trim().is_empty()) {
        entry.name = name.to_owned();
    }
    let changed = complete.filter(|c| *c != entry.complete);
    if let Some(c) = changed {
        entry.complete = c;
    }
    let reply = check_item_json(entry, &checklist);
    if changed.is_some() {
        let (me, name) = (db.me(), db.checklists[k].name.clone());
        let extra = json!({ "checkItem": { "id": reply["id"], "name": reply["name"], "state": reply["state"] }, "checklist": { "id": checklist, "name": name }, "list": null });
        let action = db.act("updateCheckItemStateOnCard", &me, at, extra);
        echo(&shared, &db, at, action);
    }
    ok(reply)
}

// ---------- comments and actions ----------

pub(super) async fn add_comment(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let p = Params::new(q, &headers, &body)?;
    let text = p
        .get("text")
        .filter(|t| !t.trim().is_empty() && t.chars().count() <= 16384);
    let text = text
        .ok_or_else(|| bad("invalid value for text"))?
        .to_owned();
    let mut db = lock(&shared);
    let at = db.card_at(&id)?;
    let me = db.me();
    let action = db.act(
        "commentCard",
        &me,
        at,
        json!({ "text": text, "textData": { "emoji": {} } }),
    );
    echo(&shared, &db, at, action.clone());
    ok(action)
}

/// Newest first, 50 a page; `filter` is a comma list of types, where
/// `updateCard:idList` means moves (default `commentCard,updateCard:idList`).
pub(super) async fn card_actions(
    State(db): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Reply {
    let db = lock(&db);
    let card = db.cards[db.card_at(&id)?].id.clone();
    let filter = param(&q, "filter").unwrap_or("commentCard,updateCard:idList");
    let page: usize = match param(&q, "page") {
        None => 0,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| *p <= 19)
            .ok_or_else(|| bad("invalid value for page"))?,
    };
    let wanted = |a: &Value| {
        filter
            .split(',')
            .map(str::trim)
            .any(|f| match f.split_once(':') {
                _ if f == "all" => true,
                Some((kind, field)) => a["type"] == kind && !a["data"]["old"][field].is_null(),
                None => a["type"] == f,
            })
    };
    let actions: Vec<Value> = db
        .actions
        .iter()
        .rev()
        .filter(|(c, a)| *c == card && wanted(a))
        .skip(page * ACTIONS_PER_PAGE)
        .take(ACTIONS_PER_PAGE)
        .map(|(_, a)| a.clone())
        .collect();
    ok(json!(actions))
}

// ---------- attachments ----------

/// An upload (multipart `file`, with optional `name` and `mimeType`) or a
/// link (`url=`); answers one attachment object, as the live API does.
pub(super) async fn add_attachment(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    req: Request,
) -> Reply {
    let multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (fields, file) = if multipart {
        read_multipart(req).await?
    } else {
        let headers = req.headers().clone();
        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .map_err(|_| bad("invalid body"))?;
        (Params::new(Vec::new(), &headers, &body)?.0, None)
    };
    let p = Params(q.into_iter().chain(fields).collect());
    let mut db = lock(&shared);
    let at = db.card_at(&id)?;
    let attachment = new_attachment(&mut db, at, &p, file)?;
    let reply = attachment_json(&attachment, &db.members[0].id);
    db.attachments.push(attachment);
    let (me, extra) = (
        db.me(),
        json!({ "attachment": { "id": reply["id"], "name": reply["name"], "url": reply["url"] } }),
    );
    let action = db.act("addAttachmentToCard", &me, at, extra);
    echo(&shared, &db, at, action);
    ok(reply)
}

/// An uploaded file: (file name, content type, bytes).
type Upload = (Option<String>, Option<String>, Vec<u8>);

/// The text fields and the `file` part of a multipart body.
async fn read_multipart(
    req: Request,
) -> Result<(Vec<(String, String)>, Option<Upload>), TrelloError> {
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|_| bad("invalid multipart body"))?;
    let (mut fields, mut file) = (Vec::new(), None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| bad("invalid multipart body"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let (file_name, mime) = (
                field.file_name().map(str::to_owned),
                field.content_type().map(str::to_owned),
            );
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad("invalid multipart body"))?;
            file = Some((file_name, mime, bytes.to_vec()));
        } else {
            let text = field
                .text()
                .await
                .map_err(|_| bad("invalid multipart body"))?;
            fields.push((name, text));
        }
    }
    Ok((fields, file))
}

fn new_attachment(
    db: &mut Db,
    card: usize,
    p: &Params,
    file: Option<Upload>,
) -> Result<StoredAttachment, TrelloError> {
    let id = db.new_id();
    let card_id = db.cards[card].id.clone();
    let (default_name, mime, bytes, url) = match file {
        Some((file_name, mime, bytes)) => {
            let name = file_name.unwrap_or_else(|| "file".into());
            let url =
                format!("https://trello.com/1/cards/{card_id}/attachments/{id}/download/{name}");
            (
                name,
                mime.unwrap_or_else(|| "application/octet-stream".into()),
                Some(bytes),
                url,
            )
        }
        None => {
            let url = p
                .get("url")
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
            let url = url.ok_or_else(|| bad("invalid value for url"))?.to_owned();
            (url.clone(), String::new(), None, url)
        }
    };
    let name = p
        .get("name")
        .filter(|n| !n.is_empty())
        .map_or(default_name, str::to_owned);
    if name.chars().count() > 256 {
        return Err(bad("invalid value for name"));
    }
    let mime_type = p
        .get("mimeType")
        .filter(|m| !m.is_empty())
        .map_or(mime, str::to_owned);
    Ok(StoredAttachment {
        id,
        card: card_id,
        name,
        mime_type,
        url,
        bytes,
        date: now_iso(),
    })
}

fn attachment_json(a: &StoredAttachment, member: &str) -> Value {
    json!({
        "id": a.id, "bytes": a.bytes.as_ref().map(Vec::len), "date": a.date, "edgeColor": null,
        "idMember": member, "isUpload": a.bytes.is_some(), "mimeType": a.mime_type, "name": a.name,
        "previews": [], "url": a.url, "pos": 16384,
    })
}

pub(super) async fn card_attachments(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    let db = lock(&db);
    let card = db.cards[db.card_at(&id)?].id.clone();
    let member = db.members[0].id.clone();
    ok(json!(
        db.attachments
            .iter()
            .filter(|a| a.card == card)
            .map(|a| attachment_json(a, &member))
            .collect::<Vec<_>>()
    ))
}
