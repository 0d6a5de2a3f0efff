//! Several catalogs as one (`--catalog configmgr --catalog m365.toml`):
//! the first is the base (its `[catalog]` table, with the others in
//! `composed`); each later one adds its pages, features,
//! roles, placeholders, endpoints and networks. An id that is already taken gets
//! the adding catalog's id as a prefix (`m365:common`); a role or
//! placeholder of the same name is the same one. A feature's external
//! list that names a feature of a loaded catalog (`feature =
//! "m365:mem"`) is expanded: that feature's endpoints serve it too, and
//! the link is no longer an external list (docs/catalog-format.md).

use std::collections::BTreeMap;

use crate::catalog::Catalog;

/// `catalogs` as one catalog, the first one's `[catalog]` table kept
/// (naming the others in `composed`). `None` for an empty list.
pub fn compose(catalogs: Vec<Catalog>) -> Option<Catalog> {
    let mut all = catalogs.into_iter();
    let mut out = all.next()?;
    // (catalog id, feature id as written) → its id in `out`.
    let mut feature_ids: BTreeMap<(String, String), String> = out
        .features
        .iter()
        .map(|f| ((out.meta.id.clone(), f.id.clone()), f.id.clone()))
        .collect();
    for c in all {
        let cid = c.meta.id.clone();
        let at = out.meta.composed.len();
        out.meta.composed.push(crate::catalog::Composed {
            id: cid.clone(),
            revision: c.meta.revision.clone(),
            describes: c.meta.describes,
            features: BTreeMap::new(),
        });
        let prefixed = |taken: bool, id: &str| {
            if taken {
                format!("{cid}:{id}")
            } else {
                id.to_owned()
            }
        };
        let mut pages = BTreeMap::new();
        for mut p in c.pages {
            let id = prefixed(out.pages.iter().any(|q| q.id == p.id), &p.id);
            pages.insert(p.id.clone(), id.clone());
            p.id = id;
            out.pages.push(p);
        }
        let mut features = BTreeMap::new();
        for mut f in c.features {
            let id = prefixed(out.feature(&f.id).is_some(), &f.id);
            features.insert(f.id.clone(), id.clone());
            feature_ids.insert((cid.clone(), f.id.clone()), id.clone());
            out.meta.composed[at]
                .features
                .insert(f.id.clone(), id.clone());
            f.id = id;
            f.page = pages.get(&f.page).cloned().unwrap_or(f.page);
            out.features.push(f);
        }
        for r in c.roles {
            if out.role(&r.id).is_none() {
                out.roles.push(r);
            }
        }
        for p in c.placeholders {
            if !out.placeholders.iter().any(|q| q.name == p.name) {
                out.placeholders.push(p);
            }
        }
        let mut endpoints = BTreeMap::new();
        for e in &c.endpoints {
            let taken = out.endpoints.iter().any(|x| x.id == e.id);
            endpoints.insert(e.id.clone(), prefixed(taken, &e.id));
        }
        for mut e in c.endpoints {
            e.id = endpoints[&e.id].clone();
            for f in &mut e.features {
                if let Some(id) = features.get(f) {
                    f.clone_from(id);
                }
            }
            if let Some(s) = &mut e.superseded
                && let Some(id) = endpoints.get(&s.by)
            {
                s.by.clone_from(id);
            }
            if let Some(group) = &mut e.alternatives {
                *group = format!("{cid}:{group}");
            }
            if let Some(source) = &mut e.source
                && let Some(id) = pages.get(&source.page)
            {
                source.page.clone_from(id);
            }
            out.endpoints.push(e);
        }
        for mut n in c.networks {
            let taken = out.endpoints.iter().any(|x| x.id == n.id)
                || out.networks.iter().any(|x| x.id == n.id);
            n.id = prefixed(taken, &n.id);
            for f in &mut n.features {
                if let Some(id) = features.get(f) {
                    f.clone_from(id);
                }
            }
            if let Some(source) = &mut n.source
                && let Some(id) = pages.get(&source.page)
            {
                source.page.clone_from(id);
            }
            out.networks.push(n);
        }
    }
    expand_links(&mut out, &feature_ids);
    Some(out)
}

/// Every external list that names a loaded feature (`catalog:feature`, or
/// a feature id of the composed catalog) becomes that feature's
/// endpoints, which then serve the linking feature too.
fn expand_links(out: &mut Catalog, ids: &BTreeMap<(String, String), String>) {
    let mut serve: Vec<(String, String)> = Vec::new();
    for f in &mut out.features {
        f.external.retain(|x| {
            let Some(link) = &x.feature else {
                return true;
            };
            let target = match link.split_once(':') {
                Some((cid, fid)) => ids.get(&(cid.to_owned(), fid.to_owned())),
                None => ids.values().find(|id| *id == link),
            };
            match target {
                Some(target) if *target != f.id => {
                    f.notes.push(format!(
                        "{}: expanded from feature `{target}` of a loaded catalog.",
                        x.title
                    ));
                    serve.push((target.clone(), f.id.clone()));
                    false
                }
                _ => true,
            }
        });
    }
    for (target, linking) in serve {
        let features = out
            .endpoints
            .iter_mut()
            .map(|e| &mut e.features)
            .chain(out.networks.iter_mut().map(|n| &mut n.features));
        for f in features {
            if f.contains(&target) && !f.contains(&linking) {
                f.push(linking.clone());
            }
        }
    }
}
