//! The message catalogues: one per locale, every recipient-facing string looked up by key
//! (pages, passcode messages, the words a mail template needs). A page or message takes all
//! of its strings from the catalogue of one locale, so languages never mix. Each catalogue is
//! a sorted constant table (no file read at run time); the tests below keep every catalogue's
//! keys identical to English's, so a lookup that works in one language works in all.
//! Adding text: add the key to every catalogue (`en.rs`, `es.rs`, …), sorted.

mod en;
mod es;

pub use en::EN;
pub use es::ES;

use super::locale::Locale;

/// The catalogue of a locale.
pub fn of(locale: Locale) -> &'static [(&'static str, &'static str)] {
    match locale {
        Locale::En => EN,
        Locale::Es => ES,
    }
}

/// The text of `key` in `locale`; the key itself when missing (a bug the tests catch, never a
/// panic and never another language's text).
pub fn text(locale: Locale, key: &'static str) -> &'static str {
    let table = of(locale);
    table
        .binary_search_by(|(k, _)| k.cmp(&key))
        .ok()
        .and_then(|i| table.get(i))
        .map_or(key, |(_, v)| v)
}

/// The text of `key` with each `{name}` replaced by its value (values are plain text; the
/// caller escapes for HTML).
pub fn fill(locale: Locale, key: &'static str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(text(locale, key).to_owned(), |out, (name, value)| {
            out.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_is_sorted_and_has_exactly_the_english_keys() {
        fn keys(t: &[(&'static str, &'static str)]) -> Vec<&'static str> {
            t.iter().map(|(k, _)| *k).collect()
        }
        for locale in Locale::ALL {
            let table = of(locale);
            assert!(
                table.windows(2).all(|w| w[0].0 < w[1].0),
                "{locale:?} sorted"
            );
            assert_eq!(keys(table), keys(EN), "{locale:?} keys");
        }
    }

    #[test]
    fn placeholders_match_across_languages() {
        let names = |text: &str| {
            let mut found: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
                .collect();
            found.sort();
            found.dedup();
            found
        };
        for (key, english) in EN {
            let spanish = text(Locale::Es, key);
            let (en, es) = (names(english), names(spanish));
            // English alone needs the article `{a}`.
            let en: Vec<_> = en.into_iter().filter(|n| n != "a").collect();
            assert_eq!(en, es, "{key}");
        }
    }

    #[test]
    fn lookups_fill_values() {
        let s = fill(Locale::Es, "otp.subject", &[("tenant", "Acme")]);
        assert_eq!(s, "Acme: su código de verificación");
        assert_eq!(text(Locale::En, "no.such.key"), "no.such.key");
    }
}
