//! What changed between two catalogs: endpoints added, removed and changed
//! per feature, and features added or removed, in the spirit of the
//! Microsoft 365 endpoint web service's change records.
//!
//! An endpoint's identity is its feature, its normalized host pattern and
//! its scheme: an endpoint in two features, or with two schemes, is two
//! identities. Everything else (ports, roles, cloud, paths, direction,
//! version conditions, validity, notes) is an attribute whose change is a
//! `change` record. IP ranges (`[[network]]`) are compared by feature and
//! address, their ports the attribute.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, Destination, Endpoint, PortRanges};

/// An endpoint's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub feature: String,
    pub host: String,
    pub scheme: String,
}

/// What one identity has, merged over the endpoints that share it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub ports: BTreeSet<u16>,
    pub roles: BTreeSet<String>,
    pub cloud: BTreeSet<String>,
    pub paths: BTreeSet<String>,
    pub direction: BTreeSet<String>,
    pub versions: BTreeSet<String>,
    pub validity: BTreeSet<String>,
    pub notes: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(Identity, Attributes),
    Removed(Identity, Attributes),
    /// The attributes that differ: name, old, new.
    Changed(Identity, Vec<(&'static str, String, String)>),
}

/// An attribute whose change a diff may compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribute {
    Ports,
    Roles,
    Cloud,
    Paths,
    Direction,
    Versions,
    Validity,
    Notes,
}

impl Attribute {
    pub const ALL: [Attribute; 8] = [
        Attribute::Ports,
        Attribute::Roles,
        Attribute::Cloud,
        Attribute::Paths,
        Attribute::Direction,
        Attribute::Versions,
        Attribute::Validity,
        Attribute::Notes,
    ];

    /// What a firewall needs: besides the host and scheme (identity), the
    /// port and the cloud.
    pub const FIREWALL: [Attribute; 2] = [Attribute::Ports, Attribute::Cloud];

    /// The attribute of this name (`ports`, `notes`, ...).
    pub fn named(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Attribute::Ports => "ports",
            Attribute::Roles => "roles",
            Attribute::Cloud => "cloud",
            Attribute::Paths => "paths",
            Attribute::Direction => "direction",
            Attribute::Versions => "versions",
            Attribute::Validity => "validity",
            Attribute::Notes => "notes",
        }
    }
}

/// What a diff compares beyond the catalogs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The attributes whose change is a change record; the others are
    /// ignored. Identity (feature, host, scheme) always counts.
    pub compared: Vec<Attribute>,
    /// Placeholder values (a site's profile): hosts are compared with them
    /// filled in.
    pub placeholders: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compared: Attribute::ALL.to_vec(),
            placeholders: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub features_added: Vec<String>,
    pub features_removed: Vec<String>,
    pub changes: Vec<Change>,
    /// IP ranges (`[[network]]`) added, removed, or on other ports, by
    /// feature and address.
    pub networks: Vec<NetworkChange>,
}

/// A change of an IP range: its identity is its feature and address; its
/// ports (`tcp 80,443; udp 3478-3481`) are its attribute (compared with
/// `ports`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkChange {
    pub action: NetworkAction,
    pub feature: String,
    pub address: String,
    /// The ports before (empty when added).
    pub old: String,
    /// The ports after (empty when removed).
    pub new: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetworkAction {
    Removed,
    Added,
    Changed,
}

/// A catalog's IP ranges by (feature, address): their ports, merged.
fn network_index(
    catalog: &Catalog,
    feature_selected: &dyn Fn(&str) -> bool,
) -> BTreeMap<(String, String), String> {
    let mut ports: BTreeMap<(String, String), (PortRanges, PortRanges)> = BTreeMap::new();
    for n in &catalog.networks {
        for f in n.features.iter().filter(|f| feature_selected(f)) {
            for a in &n.addresses {
                let entry = ports.entry((f.clone(), a.to_string())).or_default();
                entry.0 = entry.0.union(&n.tcp_ports);
                entry.1 = entry.1.union(&n.udp_ports);
            }
        }
    }
    ports
        .into_iter()
        .map(|(key, (tcp, udp))| {
            let mut shown = Vec::new();
            if !tcp.is_empty() {
                shown.push(format!("tcp {tcp}"));
            }
            if !udp.is_empty() {
                shown.push(format!("udp {udp}"));
            }
            (key, shown.join("; "))
        })
        .collect()
}

fn network_changes(
    old: &Catalog,
    new: &Catalog,
    feature_selected: &dyn Fn(&str) -> bool,
    ports_compared: bool,
) -> Vec<NetworkChange> {
    let (a, b) = (
        network_index(old, feature_selected),
        network_index(new, feature_selected),
    );
    let change =
        |action, (feature, address): &(String, String), old: &str, new: &str| NetworkChange {
            action,
            feature: feature.clone(),
            address: address.clone(),
            old: old.to_owned(),
            new: new.to_owned(),
        };
    let mut out = Vec::new();
    for (key, ports) in &a {
        match b.get(key) {
            None => out.push(change(NetworkAction::Removed, key, ports, "")),
            Some(other) if ports_compared && other != ports => {
                out.push(change(NetworkAction::Changed, key, ports, other));
            }
            Some(_) => {}
        }
    }
    for (key, ports) in &b {
        if !a.contains_key(key) {
            out.push(change(NetworkAction::Added, key, "", ports));
        }
    }
    out.sort_by(|x, y| (&x.feature, x.action, &x.address).cmp(&(&y.feature, y.action, &y.address)));
    out
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.features_added.is_empty()
            && self.features_removed.is_empty()
            && self.changes.is_empty()
            && self.networks.is_empty()
    }
}

fn index(
    catalog: &Catalog,
    keep: &dyn Fn(&Endpoint) -> bool,
    feature_selected: &dyn Fn(&str) -> bool,
    placeholders: &BTreeMap<String, String>,
) -> BTreeMap<Identity, Attributes> {
    let mut out: BTreeMap<Identity, Attributes> = BTreeMap::new();
    for e in catalog.endpoints.iter().filter(|e| keep(e)) {
        let template = e.destination.host();
        let host = template
            .resolve(|name| placeholders.get(name).map(String::as_str))
            .map_or_else(|_| template.as_str().to_owned(), |p| p.as_str().to_owned());
        for feature in e.features.iter().filter(|f| feature_selected(f)) {
            for scheme in &e.schemes.value {
                let a = out
                    .entry(Identity {
                        feature: feature.clone(),
                        host: host.clone(),
                        scheme: scheme.as_str().to_owned(),
                    })
                    .or_default();
                // The ports that go with this scheme.
                a.ports.extend(
                    crate::plan::pairs(&e.schemes.value, &e.ports.value)
                        .into_iter()
                        .filter(|(s, _)| s == scheme)
                        .map(|(_, p)| p),
                );
                a.roles.extend(e.roles.value.iter().cloned());
                a.cloud.insert(e.cloud.as_str().to_owned());
                if let Destination::Url(u) = &e.destination
                    && u.path != "/"
                {
                    a.paths.insert(u.path.clone());
                }
                a.direction.insert(e.direction.as_str().to_owned());
                if !e.versions.is_unbounded() {
                    a.versions.insert(e.versions.to_string());
                }
                if let Some(d) = e.valid.from {
                    a.validity.insert(format!("from {d}"));
                }
                if let Some(d) = e.valid.until {
                    a.validity.insert(format!("until {d}"));
                }
                if let Some(s) = &e.superseded {
                    a.validity.insert(match s.from {
                        Some(d) => format!("superseded from {d}"),
                        None => "superseded".to_owned(),
                    });
                }
                a.notes.extend(e.notes.iter().cloned());
            }
        }
    }
    out
}

impl Attributes {
    /// One attribute's values, comma-separated.
    pub fn shown(&self, attribute: Attribute) -> String {
        match attribute {
            Attribute::Ports => show(&self.ports),
            Attribute::Roles => show(&self.roles),
            Attribute::Cloud => show(&self.cloud),
            Attribute::Paths => show(&self.paths),
            Attribute::Direction => show(&self.direction),
            Attribute::Versions => show(&self.versions),
            Attribute::Validity => show(&self.validity),
            Attribute::Notes => show(&self.notes),
        }
    }
}

fn show<T: ToString>(set: &BTreeSet<T>) -> String {
    set.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compares two catalogs; `keep` restricts both to the endpoints of
/// interest (a site's plan), and `features` to its features.
pub fn diff(
    old: &Catalog,
    new: &Catalog,
    keep: &dyn Fn(&Endpoint) -> bool,
    feature_selected: &dyn Fn(&str) -> bool,
    options: &Options,
) -> Diff {
    let old_features: BTreeSet<&str> = old
        .features
        .iter()
        .map(|f| f.id.as_str())
        .filter(|f| feature_selected(f))
        .collect();
    let new_features: BTreeSet<&str> = new
        .features
        .iter()
        .map(|f| f.id.as_str())
        .filter(|f| feature_selected(f))
        .collect();
    let a = index(old, keep, feature_selected, &options.placeholders);
    let b = index(new, keep, feature_selected, &options.placeholders);
    let mut changes = Vec::new();
    for (id, attrs) in &a {
        match b.get(id) {
            None => changes.push(Change::Removed(id.clone(), attrs.clone())),
            Some(n) => {
                let what: Vec<(&'static str, String, String)> = options
                    .compared
                    .iter()
                    .map(|&attribute| {
                        let (x, y) = (attrs.shown(attribute), n.shown(attribute));
                        (attribute.name(), x, y)
                    })
                    .filter(|(_, x, y)| x != y)
                    .collect();
                if !what.is_empty() {
                    changes.push(Change::Changed(id.clone(), what));
                }
            }
        }
    }
    for (id, attrs) in &b {
        if !a.contains_key(id) {
            changes.push(Change::Added(id.clone(), attrs.clone()));
        }
    }
    let key = |c: &Change| -> (String, String, String, u8) {
        let (id, order) = match c {
            Change::Removed(id, _) => (id, 0),
            Change::Added(id, _) => (id, 1),
            Change::Changed(id, _) => (id, 2),
        };
        (
            id.feature.clone(),
            id.host.clone(),
            id.scheme.clone(),
            order,
        )
    };
    changes.sort_by_key(key);
    Diff {
        features_added: new_features
            .difference(&old_features)
            .map(|s| s.to_string())
            .collect(),
        features_removed: old_features
            .difference(&new_features)
            .map(|s| s.to_string())
            .collect(),
        changes,
        networks: network_changes(
            old,
            new,
            feature_selected,
            options.compared.contains(&Attribute::Ports),
        ),
    }
}
