//! The time dated decisions are taken at (a period's start and end, the
//! warnings before it): the system clock, moved by the sandbox's clock in
//! zero-config mode, so that moving the sandbox a year ahead is seen here
//! as it is by its Stripe and GitHub.

use crate::{clock, AppState, Result};

pub async fn now(state: &AppState) -> Result<i64> {
    if !state.config.sandbox {
        return Ok(clock::now());
    }
    let offset: Option<String> = sqlx::query_scalar("SELECT value FROM sandbox_state WHERE key = $1")
        .bind("clock_offset")
        .fetch_optional(state.db.pool())
        .await?;
    Ok(clock::now() + offset.and_then(|o| o.parse::<i64>().ok()).unwrap_or(0))
}

/// The sandbox clock's moves, oldest first: (system time, offset from
/// then on). Empty outside the sandbox, where the two clocks are one.
pub async fn moves(state: &AppState) -> Result<Vec<(i64, i64)>> {
    if !state.config.sandbox {
        return Ok(Vec::new());
    }
    let raw: Option<String> = sqlx::query_scalar("SELECT value FROM sandbox_state WHERE key = $1")
        .bind("clock_moves")
        .fetch_optional(state.db.pool())
        .await?;
    Ok(raw
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|m| m.split_once(':'))
        .filter_map(|(at, offset)| Some((at.parse().ok()?, offset.parse().ok()?)))
        .collect())
}

/// A time recorded on the system clock (`clock::now`), read as the dated
/// clock showed it then: moved by the offset in force at that moment. Times
/// are whole seconds: what was recorded in the second of a move counts as
/// before it (a move is made after what it follows is seen).
pub fn at(system: i64, moves: &[(i64, i64)]) -> i64 {
    system + moves.iter().rev().find(|(at, _)| *at < system).map_or(0, |(_, offset)| *offset)
}

#[cfg(test)]
mod tests {
    use super::at;

    #[test]
    fn a_system_time_reads_with_the_offset_of_its_moment() {
        let moves = [(1000, 86_400), (2000, 2 * 86_400)];
        assert_eq!(at(500, &moves), 500, "before any move");
        assert_eq!(at(1000, &moves), 1000, "in the second of a move: before it");
        assert_eq!(at(1500, &moves), 1500 + 86_400);
        assert_eq!(at(2500, &moves), 2500 + 2 * 86_400);
        assert_eq!(at(700, &[]), 700, "outside the sandbox");
    }
}
