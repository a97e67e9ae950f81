//! Money for display. Amounts are integer minor units with an ISO currency,
//! as Stripe keeps them. (Hand-written: the money crates pull in decimal
//! arithmetic and locale tables, too heavy for the wasm bundle for one job.)

/// Currencies that Stripe treats as having no minor unit.
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
];

/// `format_amount(1999, "usd")` → `"$19.99"`; unknown symbols use the code.
pub fn format_amount(minor: i64, currency: &str) -> String {
    let currency = currency.to_ascii_lowercase();
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let number = if ZERO_DECIMAL.contains(&currency.as_str()) {
        group(minor)
    } else {
        format!("{}.{:02}", group(minor / 100), minor % 100)
    };
    match currency.as_str() {
        "usd" => format!("{sign}${number}"),
        "eur" => format!("{sign}€{number}"),
        "gbp" => format!("{sign}£{number}"),
        "jpy" => format!("{sign}¥{number}"),
        other => format!("{sign}{number} {}", other.to_ascii_uppercase()),
    }
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format_amount;

    #[test]
    fn formats_minor_units() {
        assert_eq!(format_amount(1999, "usd"), "$19.99");
        assert_eq!(format_amount(5, "EUR"), "€0.05");
        assert_eq!(format_amount(123_456_700, "gbp"), "£1,234,567.00");
        assert_eq!(format_amount(500, "jpy"), "¥500");
        assert_eq!(format_amount(1000, "chf"), "10.00 CHF");
        assert_eq!(format_amount(-250, "usd"), "-$2.50");
    }
}
