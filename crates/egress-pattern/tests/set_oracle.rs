//! `HostSet` against the obvious oracle: every pattern's own `matches`,
//! one by one, on generated patterns and hosts, near misses included.

use egress_pattern::{Host, HostPattern, HostSet, PatternId};
use proptest::prelude::*;

/// A small alphabet, so that generated hosts and patterns collide often.
const LABELS: &[&str] = &[
    "a",
    "b",
    "ab",
    "x-y",
    "manage",
    "microsoft",
    "com",
    "evil",
    "test",
    "umwatsonc",
    "eu-umwatsonc",
    "bücher",
    "xn--bcher-kva",
    "9",
];

fn label() -> impl Strategy<Value = String> {
    prop::sample::select(LABELS).prop_map(str::to_owned)
}

fn name(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..=max).prop_map(|l| l.join("."))
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        name(4),
        // Deeper than the matcher keeps on its stack (15 dots).
        name(19),
        name(3).prop_map(|s| format!("*.{s}")),
        (
            prop::sample::select(&["", "a", "eu-", "x"][..]),
            prop::sample::select(&["", "-umwatsonc", "b", "c"][..]),
            name(3)
        )
            .prop_map(|(pre, post, parent)| format!("{pre}*{post}.{parent}")),
        Just("127.0.0.1".to_owned()),
    ]
}

/// Hosts near the patterns: instances, apexes, and near misses.
fn host(patterns: Vec<String>) -> impl Strategy<Value = String> {
    // Many labels before an instance: more dots than the matcher keeps on
    // its stack.
    let deep = (
        prop::collection::vec(label(), 12..20),
        prop::sample::select(patterns.clone()),
        label(),
    )
        .prop_map(|(labels, p, l)| format!("{}.{}", labels.join("."), p.replace('*', &l)));
    let from_pattern =
        (prop::sample::select(patterns), label(), 0..7usize).prop_map(|(p, l, how)| {
            let star = p.replace('*', &l);
            match how {
                0 => star,
                1 => p
                    .trim_start_matches("*.")
                    .trim_start_matches('*')
                    .to_owned(),
                2 => format!("{star}.evil.test"),
                3 => format!("evil{}", p.trim_start_matches('*')),
                4 => star.to_uppercase(),
                5 => format!("{star}."),
                _ => format!("{l}.{star}"),
            }
        });
    prop_oneof![
        name(5),
        name(22),
        deep,
        from_pattern,
        Just("127.0.0.1".to_owned()),
        Just("::1".to_owned())
    ]
}

fn case() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    prop::collection::vec(pattern(), 1..40).prop_flat_map(|patterns| {
        let hosts = prop::collection::vec(host(patterns.clone()), 1..40);
        (Just(patterns), hosts)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn host_set_agrees_with_the_oracle((patterns, hosts) in case()) {
        let parsed: Vec<HostPattern> = patterns.iter().filter_map(|p| HostPattern::parse(p).ok()).collect();
        let set = HostSet::new(&parsed);
        for raw in &hosts {
            let Ok(host) = Host::parse(raw) else { continue };
            let oracle: Vec<PatternId> = parsed
                .iter()
                .enumerate()
                .filter(|(_, p)| p.matches(&host))
                .map(|(i, _)| PatternId(i as u32))
                .collect();
            prop_assert_eq!(set.matches(&host), oracle.clone(), "host {} patterns {:?}", raw, patterns);
            prop_assert_eq!(set.is_match(&host), !oracle.is_empty());
        }
    }
}
