//! Shell expressions, as PAC's `shExpMatch` and Windows proxy bypass lists
//! write them: `*` stands for any run of characters (dots included), `?`
//! for any one character, everything else for itself. This is not a host
//! pattern (`docs/host-patterns.md`): it matches text, whole.

/// Whether `text` matches the shell expression `pattern`, whole and
/// case-sensitively (callers that compare host names lowercase both).
/// Linear in `text` for each `*`, never exponential.
pub fn sh_exp_match(text: &str, pattern: &str) -> bool {
    let (text, pattern): (Vec<char>, Vec<char>) =
        (text.chars().collect(), pattern.chars().collect());
    let (mut t, mut p) = (0, 0);
    // The last `*` seen, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` take one more character.
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::sh_exp_match;

    #[track_caller]
    fn check(text: &str, pattern: &str, expected: bool) {
        assert_eq!(sh_exp_match(text, pattern), expected, "{text} ~ {pattern}");
    }

    #[test]
    fn stars_questions_and_literals() {
        check("www.contoso.com", "*.contoso.com", true);
        check("contoso.com", "*.contoso.com", false);
        check("a.b.contoso.com", "*.contoso.com", true);
        check("10.1.2.3", "10.*", true);
        check("110.1.2.3", "10.*", false);
        check("http://a/b", "http://*/*", true);
        check("abc", "a?c", true);
        check("ac", "a?c", false);
        check("abc", "*", true);
        check("", "*", true);
        check("", "", true);
        check("a", "", false);
        check("aXbXc", "*b*c", true);
        check("Contoso.com", "contoso.com", false);
        check(
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
            "*a*a*a*a*a*a*a*a*c",
            false,
        );
    }
}
