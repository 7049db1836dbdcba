//! Recipient addresses: a pragmatic email check and E.164 phone normalisation. Deliberately
//! strict where a typo would send a secret link to a stranger, lenient about formatting.

/// Checks the shape of an email address (local@domain.tld, no spaces, RFC 5321 lengths).
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && domain.contains('.')
        && labels_ok
        && !local.contains('@')
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\\\"".contains(c))
}

/// Normalises a phone number to E.164 (`+` and 8–15 digits, no leading zero).
/// Accepts spaces, dashes, dots and parentheses, and `00` as the international prefix.
/// Numbers without a country code are rejected: the service cannot guess the country.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let trimmed = phone.trim();
    let rest = if let Some(r) = trimmed.strip_prefix('+') {
        r
    } else {
        trimmed.strip_prefix("00")?
    };
    let mut digits = String::with_capacity(16);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let plausible = (8..=15).contains(&digits.len()) && !digits.starts_with('0');
    plausible.then(|| format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@example.co.uk",
            "x@sub-domain.example",
        ] {
            assert!(is_plausible_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b..co", "a@-b.co", "a@b.co ",
            "<a>@b.co",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalise_phone("+1 (555) 123-4567").as_deref(),
            Some("+15551234567")
        );
        assert_eq!(
            normalise_phone("0044 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            normalise_phone("+49.30.1234567").as_deref(),
            Some("+49301234567")
        );
        for bad in [
            "555-1234",
            "+12",
            "+1234567890123456",
            "+0123456789",
            "+1 555 CALL NOW",
            "",
            "+",
        ] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
    }
}
