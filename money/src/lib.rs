//! Money for display, the same in the browser and on the server. Amounts are
//! integer minor units with an ISO currency, as Stripe keeps them.
//! (Hand-written: the money crates pull in decimal arithmetic and locale
//! tables, too heavy for the wasm bundle for one job.)

/// Currencies that Stripe treats as having no minor unit.
const ZERO_DECIMAL: [&str; 16] =
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

/// `format_price(900, "usd", "monthly")` → `"$9.00 / month"`; `kind` as
/// prices store it (one_time, monthly, yearly).
pub fn format_price(minor: i64, currency: &str, kind: &str) -> String {
    let per = match kind {
        "monthly" => " / month",
        "yearly" => " / year",
        _ => "",
    };
    format!("{}{per}", format_amount(minor, currency))
}

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

/// The creator's "49" or "49.90" in `currency` → minor units (4900, 4990).
/// Refuses what would be rounded: "49.999" in USD, "49.5" in JPY.
pub fn parse_amount(input: &str, currency: &str) -> Result<i64, String> {
    let input = input.trim().trim_start_matches(['$', '€', '£', '¥']).replace(',', "");
    let decimals = if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) { 0 } else { 2 };
    let (whole, frac) = input.split_once('.').unwrap_or((&input, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || input.ends_with('.') {
        return Err(format!("'{}' is not an amount; write it like 49 or 49.90", input));
    }
    if frac.len() > decimals {
        return Err(match decimals {
            0 => format!("{} has no cents; write a whole amount", currency.to_ascii_uppercase()),
            _ => "use at most two decimals".to_owned(),
        });
    }
    let whole: i64 = whole.parse().map_err(|_| "the amount is too large".to_owned())?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<width$}", width = decimals).parse().unwrap_or(0) };
    whole
        .checked_mul(10_i64.pow(decimals as u32))
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| "the amount is too large".to_owned())
}

/// Minor units back to what the creator types: 4990 → "49.90".
pub fn amount_input(minor: i64, currency: &str) -> String {
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        minor.to_string()
    } else {
        format!("{}.{:02}", minor / 100, minor % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::{amount_input, format_amount, format_price, parse_amount};

    #[test]
    fn parses_what_creators_type() {
        assert_eq!(parse_amount("49", "usd"), Ok(4900));
        assert_eq!(parse_amount(" $49.9 ", "usd"), Ok(4990));
        assert_eq!(parse_amount("1,000.05", "eur"), Ok(100_005));
        assert_eq!(parse_amount("500", "jpy"), Ok(500));
        assert!(parse_amount("49.999", "usd").is_err());
        assert!(parse_amount("49.5", "jpy").is_err());
        for bad in ["", "abc", "4 9", "-5", "49.", ".5", "99999999999999999999"] {
            assert!(parse_amount(bad, "usd").is_err(), "{bad}");
        }
        assert_eq!(amount_input(4990, "usd"), "49.90");
        assert_eq!(amount_input(500, "jpy"), "500");
    }

    #[test]
    fn prices_say_how_often() {
        assert_eq!(format_price(900, "usd", "monthly"), "$9.00 / month");
        assert_eq!(format_price(9000, "usd", "yearly"), "$90.00 / year");
        assert_eq!(format_price(4900, "usd", "one_time"), "$49.00");
    }

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
