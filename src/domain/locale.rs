//! The languages a recipient can be addressed in. A link may carry one (set on create and
//! stored with it); pages of links without one follow the browser's `Accept-Language`;
//! everything else falls back to English. Every recipient-facing string comes from the
//! catalogue of one locale ([`super::catalogue`]), so a page never mixes languages.

use serde::{Deserialize, Serialize};

use super::UnixMillis;

/// A supported language. Stored by its tag (`"en"`, `"es"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "es")]
    Es,
}

impl Locale {
    /// Every supported locale, English (the fallback) first.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    /// The BCP 47 tag: the `lang` attribute of pages and the wire value of `Locale`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    /// The locale of a language tag, by its primary subtag, any case: `es`, `es-MX` and
    /// `ES_es` are Spanish. `None` for a language this service does not speak.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Locale::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    /// The best supported locale of an `Accept-Language` header (highest `q`, the first on
    /// a tie; `q=0` excluded), English when none is supported or the header is absent.
    pub fn negotiate(header: Option<&str>) -> Locale {
        let mut best: Option<(Locale, u16)> = None;
        for item in header.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, quality);
            let better = best.is_none_or(|(_, b)| q > b);
            if let Some(locale) = Locale::parse(tag).filter(|_| q > 0 && better) {
                best = Some((locale, q));
            }
        }
        best.map_or(Locale::En, |(l, _)| l)
    }

    /// An instant for people, in UTC, the way this language writes it:
    /// `2026-12-05 04:00 UTC`, `5 de diciembre de 2026, 04:00 UTC`.
    pub fn format_time(self, at: UnixMillis) -> String {
        let dt = at.to_datetime();
        let (y, d, h, m) = (dt.year(), dt.day(), dt.hour(), dt.minute());
        let month = u8::from(dt.month());
        match self {
            Locale::En => format!("{y:04}-{month:02}-{d:02} {h:02}:{m:02} UTC"),
            Locale::Es => {
                let name = SPANISH_MONTHS
                    .get(usize::from(month).saturating_sub(1))
                    .unwrap_or(&"");
                format!("{d} de {name} de {y}, {h:02}:{m:02} UTC")
            }
        }
    }
}

const SPANISH_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// A `q` value (`0.8`) in thousandths; malformed reads as 0 (not acceptable).
fn quality(text: &str) -> u16 {
    let value: f32 = text.trim().parse().unwrap_or(0.0);
    if !(0.0..=1.0).contains(&value) {
        return 0;
    }
    // In 0..=1000 by the check above.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "0..=1000"
    )]
    let thousandths = (value * 1000.0).round() as u16;
    thousandths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_by_primary_subtag() {
        assert_eq!(Locale::parse("es-MX"), Some(Locale::Es));
        assert_eq!(Locale::parse("EN"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn accept_language_picks_the_best_supported() {
        let n = |h| Locale::negotiate(Some(h));
        assert_eq!(n("fr-FR, es;q=0.8, en;q=0.5"), Locale::Es);
        assert_eq!(n("en-GB,en;q=0.9,es;q=0.8"), Locale::En);
        assert_eq!(n("es;q=0, en;q=0.1"), Locale::En);
        assert_eq!(n("de"), Locale::En);
        assert_eq!(Locale::negotiate(None), Locale::En);
    }

    #[test]
    fn times_are_written_per_language() {
        let at = UnixMillis::from_millis(1_796_445_600_000); // 2026-12-05 04:40 UTC
        assert_eq!(Locale::En.format_time(at), "2026-12-05 04:40 UTC");
        assert_eq!(
            Locale::Es.format_time(at),
            "5 de diciembre de 2026, 04:40 UTC"
        );
    }
}
