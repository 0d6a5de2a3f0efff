//! Whether an endpoint's path covers a request's (docs/host-patterns.md,
//! "Paths").

use egress_pattern::{normalize_path, path_covers};

#[track_caller]
fn check(rule: &str, request: &str, covered: bool) {
    assert_eq!(path_covers(rule, request), covered, "{rule} / {request}");
}

#[test]
fn whole_segments_after_decoding_and_dot_segments() {
    // Every path under `/`.
    check("/", "/", true);
    check("/", "/anything/at/all?q=1", true);
    check("", "/x", true);
    // A prefix by whole segments.
    check("/feed/", "/feed/", true);
    check("/feed/", "/feed/x.cab", true);
    check("/feed", "/feed", true);
    check("/feed", "/feed/x", true);
    check("/feed", "/feeds", false);
    check("/feed/", "/feed", false);
    check("/feed/", "/other/", false);
    check("/feed/", "/", false);
    // Case-sensitive.
    check("/feed/", "/Feed/x", false);
    // Percent-decoding, dot segments.
    check("/feed/", "/%66eed/x", true);
    check("/feed/", "/feed/../admin", false);
    check("/feed/", "/feed/%2e%2e/admin", false);
    check("/feed/", "/feed/%2E%2E/%2e%2e/feed/x", true);
    check("/feed/", "/other/../feed/x", true);
    check("/feed/", "/feed/./x", true);
    check("/feed/", "/feed/x/..", true);
    check("/feed/", "/feed/..", false);
    // Queries: the request's does not matter unless the rule names one.
    check("/feed/", "/feed/x?a=1", true);
    check("/fwlink/?LinkID=619849", "/fwlink/?LinkID=619849", true);
    check("/fwlink/?LinkID=619849", "/fwlink/?LinkID=1", false);
    check("/fwlink/?LinkID=619849", "/fwlink/", false);
    check("/feed/", "/feed/x#frag", true);
}

#[test]
fn normalized_paths() {
    for (path, normal) in [
        ("", "/"),
        ("/", "/"),
        ("/a/b/../c", "/a/c"),
        ("/a/./b/", "/a/b/"),
        ("/../../a", "/a"),
        ("/a/..", "/"),
        ("/a/b/..", "/a/"),
        ("/a%2Fb", "/a/b"),
        ("/%e2%82%ac", "/€"),
        ("/%ff", "/\u{fffd}"),
        ("a/b", "/a/b"),
    ] {
        assert_eq!(normalize_path(path), normal, "{path}");
    }
}

proptest::proptest! {
    /// A path covers itself, and what `/feed/` covers reads as under it.
    #[test]
    fn covered_paths_are_under_the_rule(path in "[/a-zA-Z.%2eEfF]{0,24}") {
        proptest::prop_assert!(path_covers(&path, &path));
        if path_covers("/feed/", &path) {
            proptest::prop_assert!(normalize_path(&path).starts_with("/feed/"));
        }
    }
}
