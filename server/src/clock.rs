//! Time as the database stores it (UTC unix seconds), and a day as people
//! read it in RepoPass's pages and emails.

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// `1799712000` → `"2027-01-12T00:00:00+00:00"`: times as creators' tools
/// read them (webhook payloads, exports).
pub fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.to_rfc3339())
}

/// `1799712000` → `"12 Jan 2027"` (UTC).
pub fn day(unix: i64) -> String {
    use chrono::TimeZone;
    chrono::Utc.timestamp_opt(unix, 0).single().map(|t| t.format("%-d %b %Y").to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_read_like_a_person_writes_them() {
        assert_eq!(super::day(1_799_712_000), "12 Jan 2027");
        assert_eq!(super::day(1_709_164_800), "29 Feb 2024");
    }
}
