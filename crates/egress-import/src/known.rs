//! What egress knows of the ConfigMgr page: which headings are which
//! features and roles, and what its placeholders are called.
//!
//! A heading is known by its keys: every `<a name="...">` anchor in it and
//! the slug of its text. Localized Microsoft Learn pages carry the English
//! slug as an anchor (`## <a name="azure-services"></a>Azure-services`), so
//! one table of English keys serves every language; a heading with neither a
//! known anchor nor a known text is unknown, becomes a feature of its own and
//! is reported.

/// What a known heading means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meaning {
    /// The catalog feature for the endpoints under the heading, or `None`
    /// when the heading only groups features or names a role.
    pub feature: Option<&'static str>,
    /// The role the endpoints under the heading belong to.
    pub role: Option<&'static str>,
    /// Endpoints under the heading are between site systems.
    pub intranet: bool,
}

#[derive(Debug)]
struct Entry {
    keys: &'static [&'static str],
    /// When set, the entry applies only under a heading with one of these
    /// keys ("Service connection point" under "Cloud services" is a role,
    /// not the feature of that name).
    within: &'static [&'static str],
    meaning: Meaning,
}

const fn feature(id: &'static str, role: Option<&'static str>) -> Meaning {
    Meaning {
        feature: Some(id),
        role,
        intranet: false,
    }
}

const fn role(id: &'static str) -> Meaning {
    Meaning {
        feature: None,
        role: Some(id),
        intranet: false,
    }
}

const GROUP: Meaning = Meaning {
    feature: None,
    role: None,
    intranet: false,
};

const SCP: Option<&str> = Some("service-connection-point");
const CLOUD: &[&str] = &["bkmk_cloud", "cloud-services"];

const TABLE: &[Entry] = &[
    Entry {
        keys: &["internet-access-requirements"],
        within: &[],
        meaning: feature("url-forwarding", None),
    },
    Entry {
        keys: &[
            "service-connection-point",
            "service-connection-point-for-cloud-services",
        ],
        within: CLOUD,
        meaning: role("service-connection-point"),
    },
    Entry {
        keys: &[
            "cmg-connection-point",
            "cmg-connection-point-for-cloud-services",
        ],
        within: CLOUD,
        meaning: role("cmg-connection-point"),
    },
    Entry {
        keys: &[
            "configuration-manager-client",
            "configuration-manager-client-for-cloud-services",
        ],
        within: CLOUD,
        meaning: role("client"),
    },
    Entry {
        keys: &[
            "configuration-manager-console",
            "configuration-manager-console-for-cloud-services",
        ],
        within: CLOUD,
        meaning: role("console"),
    },
    Entry {
        keys: &["bkmk_scp", "service-connection-point"],
        within: &[],
        meaning: feature("service-connection-point", SCP),
    },
    Entry {
        keys: &["bkmk_scp-updates", "updates-and-servicing"],
        within: &[],
        meaning: feature("updates-and-servicing", SCP),
    },
    Entry {
        keys: &["windows-10-servicing", "windows-servicing"],
        within: &[],
        meaning: feature("windows-servicing", SCP),
    },
    Entry {
        keys: &["azure-services"],
        within: &[],
        meaning: feature("azure-services", SCP),
    },
    Entry {
        keys: &["co-management"],
        within: &[],
        meaning: feature("co-management", None),
    },
    Entry {
        keys: &["microsoft-store-for-business"],
        within: &[],
        meaning: feature("store-for-business", None),
    },
    Entry {
        keys: &["delivery-optimization"],
        within: &[],
        meaning: feature("delivery-optimization", None),
    },
    Entry {
        keys: &["bkmk_cloud", "cloud-services"],
        within: &[],
        meaning: feature("cloud-services", None),
    },
    Entry {
        keys: &["bkmk_sum", "software-updates"],
        within: &[],
        meaning: feature("software-updates", Some("software-update-point")),
    },
    Entry {
        keys: &["intranet-firewall"],
        within: &[],
        meaning: Meaning {
            feature: Some("software-updates-intranet"),
            role: Some("software-update-point"),
            intranet: true,
        },
    },
    Entry {
        keys: &["software-update-point-on-the-child-site"],
        within: &[],
        meaning: GROUP,
    },
    Entry {
        keys: &["manage-office-365", "manage-microsoft-365-apps"],
        within: &[],
        meaning: feature("microsoft-365-apps", None),
    },
    Entry {
        keys: &["configuration-manager-console"],
        within: &[],
        meaning: role("console"),
    },
    Entry {
        keys: &["in-console-feedback"],
        within: &[],
        meaning: feature("console-feedback", None),
    },
    Entry {
        keys: &["community-workspace"],
        within: &[],
        meaning: GROUP,
    },
    Entry {
        keys: &["documentation-node"],
        within: &[],
        meaning: feature("console-documentation", None),
    },
    Entry {
        keys: &["community-hub"],
        within: &[],
        meaning: feature("community-hub", None),
    },
    Entry {
        keys: &["monitoring-workspace-site-hierarchy-node"],
        within: &[],
        meaning: feature("geographical-view", None),
    },
    Entry {
        keys: &["desktop-analytics"],
        within: &[],
        meaning: feature("desktop-analytics", None),
    },
    Entry {
        keys: &["tenant-attach"],
        within: &[],
        meaning: feature("tenant-attach", SCP),
    },
    Entry {
        keys: &["endpoint-analytics"],
        within: &[],
        meaning: feature("endpoint-analytics", None),
    },
    Entry {
        keys: &["endpoints-required-for-configuration-manager-managed-devices"],
        within: &[],
        meaning: role("service-connection-point"),
    },
    Entry {
        keys: &["endpoints-required-for-intune-managed-devices"],
        within: &[],
        meaning: role("intune-managed-device"),
    },
    Entry {
        keys: &["asset-intelligence"],
        within: &[],
        meaning: feature("asset-intelligence", Some("asset-intelligence-sync-point")),
    },
    Entry {
        keys: &["deploy-microsoft-edge"],
        within: &[],
        meaning: feature("deploy-edge", Some("console")),
    },
    Entry {
        keys: &["external-notifications"],
        within: &[],
        meaning: feature("external-notifications", SCP),
    },
    Entry {
        keys: &["microsoft-public-ip-addresses", "see-also", "next-steps"],
        within: &[],
        meaning: GROUP,
    },
];

/// The meaning of a heading with `keys`, under headings whose keys are
/// `ancestors`.
pub fn heading(keys: &[String], ancestors: &[&[String]]) -> Option<Meaning> {
    let has = |wanted: &[&str], keys: &[String]| keys.iter().any(|k| wanted.contains(&k.as_str()));
    let under = |within: &[&str]| ancestors.iter().any(|a| has(within, a));
    TABLE
        .iter()
        .filter(|e| !e.within.is_empty())
        .find(|e| has(e.keys, keys) && under(e.within))
        .or_else(|| {
            TABLE
                .iter()
                .filter(|e| e.within.is_empty())
                .find(|e| has(e.keys, keys))
        })
        .map(|e| e.meaning)
}

/// A role's title, for the catalog's `[[role]]` table.
pub fn role_title(id: &str) -> String {
    match id {
        "service-connection-point" => "Service connection point",
        "cmg-connection-point" => "CMG connection point",
        "client" => "Configuration Manager client",
        "console" => "Configuration Manager console",
        "software-update-point" => "Software update point",
        "intune-managed-device" => "Intune-managed or co-managed device",
        "asset-intelligence-sync-point" => "Asset Intelligence synchronization point",
        other => other,
    }
    .to_owned()
}

/// A placeholder as the page writes it (`<prefix>`): its catalog name,
/// title and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownPlaceholder {
    pub name: &'static str,
    pub title: &'static str,
    /// A whole host (`host`) or one label (`label`).
    pub kind: &'static str,
}

pub fn placeholder(as_written: &str) -> Option<KnownPlaceholder> {
    let (name, title, kind) = match as_written.to_ascii_lowercase().as_str() {
        "<name>" => ("cmg-name", "Cloud service name of the CMG or CDP", "label"),
        "<prefix>" => (
            "cmg-name",
            "CMG prefix: the first part of the CMG service name",
            "label",
        ),
        "<region>" => ("cmg-region", "Azure region of the CMG deployment", "label"),
        "<regionname>" => (
            "logic-app-region",
            "Azure region of the Logic App that receives external notifications",
            "label",
        ),
        "<fqdn for software update point on child site>" => (
            "child-sup-fqdn",
            "FQDN of the software update point on the child site",
            "host",
        ),
        "<fqdn for software update point on parent site>" => (
            "parent-sup-fqdn",
            "FQDN of the software update point on the parent site",
            "host",
        ),
        _ => return None,
    };
    Some(KnownPlaceholder { name, title, kind })
}

/// An id the catalog accepts: lowercase ASCII letters, digits and single
/// hyphens; everything else between them becomes one hyphen.
pub fn kebab(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The slug Microsoft Learn derives from a heading's text: lowercase,
/// letters and digits kept, spaces and hyphens as `-`, the rest dropped.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let text = text.trim();
    let lower;
    let chars = if text.is_ascii() {
        text
    } else {
        lower = text.to_lowercase();
        lower.as_str()
    };
    for c in chars.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
        } else if (c == ' ' || c == '-') && !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn context_decides() {
        let scp = keys(&["service-connection-point"]);
        let cloud = keys(&["bkmk_cloud", "cloud-services"]);
        assert_eq!(
            heading(&scp, &[]).and_then(|m| m.feature),
            Some("service-connection-point")
        );
        let under_cloud = heading(&scp, &[&cloud]).unwrap();
        assert_eq!(
            (under_cloud.feature, under_cloud.role),
            (None, Some("service-connection-point"))
        );
        assert_eq!(heading(&keys(&["brand-new"]), &[]), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Monitoring workspace, Site Hierarchy node"),
            "monitoring-workspace-site-hierarchy-node"
        );
        assert_eq!(slug(" Windows 10 servicing "), "windows-10-servicing");
        assert_eq!(
            slug("Manage Microsoft 365 Apps"),
            "manage-microsoft-365-apps"
        );
    }
}
