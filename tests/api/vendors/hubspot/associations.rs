//! Associations v4 between contacts and deals: default associations are made
//! in both directions, each with its HubSpot-defined type id.

use super::*;

/// HubSpot-defined association type ids: deal→contact 3, contact→deal 4.
pub(super) fn type_id(from: Kind, to: Kind) -> Option<u64> {
    match (from, to) {
        (Kind::Deal, Kind::Contact) => Some(3),
        (Kind::Contact, Kind::Deal) => Some(4),
        _ => None,
    }
}

impl Db {
    /// Links both ways; linking again changes nothing.
    pub(super) fn link(&mut self, from: Kind, id: u64, to: Kind, to_id: u64) {
        for (f, fid, t, tid) in [(from, id, to, to_id), (to, to_id, from, id)] {
            let Some(kind) = type_id(f, t) else { continue };
            if !self.associations.contains(&(f, fid, t, tid, kind)) {
                self.associations.push((f, fid, t, tid, kind));
            }
        }
    }

    /// Both objects of a v4 path, or 404 naming the missing one.
    fn pair(
        &self,
        from: &str,
        id: &str,
        to: &str,
        to_id: &str,
    ) -> Result<(Kind, u64, Kind, u64), HsError> {
        let (from, to) = (Kind::parse(from)?, Kind::parse(to)?);
        let find = |kind: Kind, id: &str| {
            id.parse::<u64>()
                .ok()
                .filter(|n| self.object(kind, *n).is_some())
                .ok_or_else(|| not_found(format!("No {} with ID {id} exists", kind.name())))
        };
        let (id, to_id) = (find(from, id)?, find(to, to_id)?);
        if type_id(from, to).is_none() {
            return Err(validation(format!(
                "{} cannot be associated with {}",
                from.name(),
                to.name()
            )));
        }
        Ok((from, id, to, to_id))
    }
}

pub(super) async fn associate_default(
    State(db): State<Shared>,
    Path((from, id, to, to_id)): Path<(String, String, String, String)>,
) -> Reply {
    let started = now_iso();
    let mut db = lock(&db);
    let (from, id, to, to_id) = db.pair(&from, &id, &to, &to_id)?;
    db.link(from, id, to, to_id);
    let spec = |f: Kind, fid: u64, t: Kind, tid: u64| {
        json!({
            "from": { "id": fid.to_string() }, "to": { "id": tid.to_string() },
            "associationSpec": { "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id(f, t) },
        })
    };
    let results = [spec(from, id, to, to_id), spec(to, to_id, from, id)];
    let reply = json!({ "status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now_iso() });
    Ok(Json(reply).into_response())
}

pub(super) async fn list_associations(
    State(db): State<Shared>,
    Path((from, id, to)): Path<(String, String, String)>,
) -> Reply {
    let (from, to) = (Kind::parse(&from)?, Kind::parse(&to)?);
    let db = lock(&db);
    let id = id
        .parse::<u64>()
        .ok()
        .filter(|n| db.object(from, *n).is_some());
    let id = id.ok_or_else(|| not_found(format!("No {} with that ID exists", from.name())))?;
    let results: Vec<Value> = db
        .associations
        .iter()
        .filter(|(f, fid, t, _, _)| *f == from && *fid == id && *t == to)
        .map(|(_, _, _, tid, kind)| {
            json!({ "toObjectId": tid, "associationTypes": [{ "category": "HUBSPOT_DEFINED", "typeId": kind, "label": null }] })
        })
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}

/// Removes every association between the two objects, both ways.
pub(super) async fn remove_association(
    State(db): State<Shared>,
    Path((from, id, to, to_id)): Path<(String, String, String, String)>,
) -> Reply {
    let mut db = lock(&db);
    let (from, id, to, to_id) = db.pair(&from, &id, &to, &to_id)?;
    db.associations.retain(|(f, fid, t, tid, _)| {
        !((*f, *fid, *t, *tid) == (from, id, to, to_id)
            || (*f, *fid, *t, *tid) == (to, to_id, from, id))
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}
