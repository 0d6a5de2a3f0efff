//! The small catalog the audit tests hold logs and allowlists against:
//! an exact host for the `scp` role, a wildcard, a plain-HTTP feed.

use std::collections::BTreeMap;

use egress_catalog::catalog::Cloud;
use egress_catalog::plan::{self, Request};
use egress_catalog::{Catalog, Plan};

pub fn catalog() -> Catalog {
    let text = egress_test_support::catalog_head("audit")
        + r#"
[[role]]
id = "scp"
title = "Service connection point"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "U"

[[feature]]
id = "content"
title = "Content"
page = "p"
section = "C"

[[endpoint]]
id = "needed"
url = "https://needed.egress.test/"
features = ["updates"]
roles = ["scp"]

[[endpoint]]
id = "wild"
url = "https://*.wild.egress.test/"
features = ["content"]

[[endpoint]]
id = "feed"
url = "http://feed.egress.test/feed/"
features = ["content"]
"#;
    egress_catalog::catalog::load(&egress_catalog::SourceFile::new("audit.toml", text)).unwrap()
}

/// Every feature and role of `catalog`, public cloud, on a fixed day.
pub fn plan(catalog: &Catalog) -> Plan {
    plan::resolve(
        catalog,
        &Request {
            cloud: Cloud::Public,
            version: None,
            as_of: jiff::civil::date(2026, 1, 15),
            features: None,
            roles: Vec::new(),
            placeholders: BTreeMap::new(),
            exclude: Default::default(),
        },
    )
}
