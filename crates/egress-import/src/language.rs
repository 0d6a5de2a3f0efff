//! The phrases a page uses for clouds, version conditions and examples, one
//! small table per language. Matching is on lowercased text, by substring:
//! machine-translated pages vary their spacing ("Open bare Azure-Cloud"), so
//! each table lists the variants seen.

/// The cloud an endpoint belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cloud {
    Public,
    UsGov,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::UsGov => "usgov",
        }
    }
}

/// A version condition: "version 2107 or later" / "version 1810 and earlier".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Versions {
    pub since: Option<u32>,
    pub until: Option<u32>,
}

#[derive(Debug)]
pub struct Language {
    pub code: &'static str,
    /// Checked before `public`: "US Government cloud" must not read as a
    /// public one.
    usgov: &'static [&'static str],
    public: &'static [&'static str],
    /// Every cloud phrase contains one of these: a text with none of them
    /// is not searched further (most of a page names no cloud).
    cue: &'static [&'static str],
    /// The word before a version number.
    version: &'static [&'static str],
    later: &'static [&'static str],
    earlier: &'static [&'static str],
    /// After one of these in a sentence, code spans are examples.
    example: &'static [&'static str],
    /// Heading slugs in this language and the English key each stands for,
    /// for a translated page whose headings carry no English anchor.
    headings: &'static [(&'static str, &'static str)],
}

const ENGLISH: Language = Language {
    code: "en",
    usgov: &[
        "us government cloud",
        "azure us government",
        "us government",
    ],
    public: &["azure public cloud", "public cloud"],
    cue: &["cloud", "government"],
    version: &["version "],
    later: &["and later", "or later", "and newer", "or newer"],
    earlier: &["and earlier", "or earlier", "and older", "or older"],
    example: &["for example"],
    headings: &[],
};

const DUTCH: Language = Language {
    code: "nl",
    usgov: &[
        "azure-cloud voor de amerikaanse overheid",
        "amerikaanse overheid",
    ],
    public: &[
        "open bare azure-cloud",
        "openbare azure-cloud",
        "openbare cloud",
        "open bare cloud",
    ],
    cue: &["cloud", "overheid"],
    version: &["versie "],
    later: &[
        "en hoger",
        "of hoger",
        "en later",
        "of later",
        "en nieuwer",
        "of nieuwer",
    ],
    earlier: &[
        "en eerder",
        "of eerder",
        "en lager",
        "of lager",
        "en ouder",
        "of ouder",
    ],
    example: &["bijvoorbeeld"],
    headings: &[
        (
            "vereisten-voor-internettoegang",
            "internet-access-requirements",
        ),
        ("service-verbindings-punt", "service-connection-point"),
        ("serviceverbindingspunt", "service-connection-point"),
        ("updates-en-onderhoud", "updates-and-servicing"),
        ("onderhoud-van-windows-10", "windows-10-servicing"),
        ("onderhoud-van-windows", "windows-servicing"),
        ("co-beheer", "co-management"),
        (
            "microsoft-store-voor-bedrijven",
            "microsoft-store-for-business",
        ),
        ("cmg-verbindings-punt", "cmg-connection-point"),
        ("cmg-verbindingspunt", "cmg-connection-point"),
        ("office-365-beheren", "manage-office-365"),
        ("microsoft-365-apps-beheren", "manage-microsoft-365-apps"),
        ("feedback-in-de-console", "in-console-feedback"),
        ("community-werk-ruimte", "community-workspace"),
        ("community-werkruimte", "community-workspace"),
        ("documentatie-knooppunt", "documentation-node"),
        (
            "bewakings-werkruimte-knoop-punt-site-hiërarchie",
            "monitoring-workspace-site-hierarchy-node",
        ),
        ("tenantkoppeling", "tenant-attach"),
        ("eindpuntanalyse", "endpoint-analytics"),
        (
            "software-updatepunt-op-de-onderliggende-site",
            "software-update-point-on-the-child-site",
        ),
        (
            "open-bare-ip-adressen-van-micro-soft",
            "microsoft-public-ip-addresses",
        ),
        ("zie-ook", "see-also"),
    ],
};

/// For a language egress has no table for: endpoints still import, and
/// every annotation is reported as not understood.
const UNKNOWN: Language = Language {
    code: "",
    usgov: &[],
    public: &[],
    cue: &[],
    version: &[],
    later: &[],
    earlier: &[],
    example: &[],
    headings: &[],
};

/// The table for a locale such as `nl-NL` (by its language part); `None`
/// when there is none.
pub fn for_locale(locale: &str) -> Option<&'static Language> {
    let lang = locale
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [&ENGLISH, &DUTCH].into_iter().find(|l| l.code == lang)
}

pub fn unknown() -> &'static Language {
    &UNKNOWN
}

impl Language {
    /// The cloud a piece of text names, if any. `lower` is lowercased.
    pub fn cloud(&self, lower: &str) -> Option<Cloud> {
        if !self.cue.iter().any(|c| lower.contains(c)) {
            return None;
        }
        if self.usgov.iter().any(|p| lower.contains(p)) {
            Some(Cloud::UsGov)
        } else if self.public.iter().any(|p| lower.contains(p)) {
            Some(Cloud::Public)
        } else {
            None
        }
    }

    /// Version conditions stated in a piece of lowercased text.
    pub fn versions(&self, lower: &str) -> Versions {
        let mut out = Versions::default();
        if !lower.bytes().any(|b| b.is_ascii_digit()) {
            return out;
        }
        for word in self.version {
            let mut from = 0;
            while let Some(at) = lower[from..].find(word) {
                let start = from + at + word.len();
                from = start;
                let digits: String = lower[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if digits.len() != 4 {
                    continue;
                }
                let Ok(number) = digits.parse::<u32>() else {
                    continue;
                };
                let after = lower[start + 4..].trim_start_matches([' ', ',', ')']);
                if self.later.iter().any(|p| after.starts_with(p)) {
                    out.since = Some(number);
                } else if self.earlier.iter().any(|p| after.starts_with(p)) {
                    out.until = Some(number);
                }
            }
        }
        out
    }

    /// The English heading key a heading slug in this language stands for.
    pub fn heading(&self, slug: &str) -> Option<&'static str> {
        self.headings
            .iter()
            .find(|(s, _)| *s == slug)
            .map(|(_, en)| *en)
    }

    /// The byte offset in lowercased `lower` where an example phrase ends.
    pub fn example_at(&self, lower: &str) -> Option<usize> {
        self.example
            .iter()
            .filter_map(|p| lower.find(p).map(|i| i + p.len()))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(
        locale: &str,
        text: &str,
        cloud: Option<Cloud>,
        since: Option<u32>,
        until: Option<u32>,
    ) {
        let lang = for_locale(locale).unwrap_or(unknown());
        let lower = text.to_lowercase();
        assert_eq!(lang.cloud(&lower), cloud, "cloud of {text:?}");
        assert_eq!(
            lang.versions(&lower),
            Versions { since, until },
            "versions of {text:?}"
        );
    }

    #[test]
    fn phrases() {
        check(
            "en-US",
            "(Azure public cloud)",
            Some(Cloud::Public),
            None,
            None,
        );
        check(
            "en-US",
            "(Azure US Government cloud)",
            Some(Cloud::UsGov),
            None,
            None,
        );
        check(
            "en-US",
            "for US Government cloud customers on version 2107 or later",
            Some(Cloud::UsGov),
            Some(2107),
            None,
        );
        check(
            "en-US",
            "Version 1902 and later: Microsoft Graph endpoint",
            None,
            Some(1902),
            None,
        );
        check(
            "en-US",
            "Version 1810 and earlier: Azure AD Graph endpoint",
            None,
            None,
            Some(1810),
        );
        check("en-US", "version 21 or later", None, None, None);
        check(
            "nl-NL",
            "(Open bare Azure-Cloud)",
            Some(Cloud::Public),
            None,
            None,
        );
        check(
            "nl-NL",
            "(Azure-Cloud voor de Amerikaanse overheid)",
            Some(Cloud::UsGov),
            None,
            None,
        );
        check(
            "nl-NL",
            "Versie 1902 en hoger: Microsoft Graph eind punt",
            None,
            Some(1902),
            None,
        );
        check(
            "nl-NL",
            "Versie 1810 en eerder: Azure AD Graph-eind punt",
            None,
            None,
            Some(1810),
        );
        check(
            "de-DE",
            "(Öffentliche Azure-Cloud), Version 2107 oder höher",
            None,
            None,
            None,
        );
    }
}
