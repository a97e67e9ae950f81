//! The creator's dashboard: the numbers, the funnel, the revenue chart and
//! the latest activity (which `/admin/activity/stream` pushes as it happens).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Each amount formatted ("$1,234.00"), one per currency; empty: nothing yet.
    pub revenue_month: Vec<String>,
    pub revenue_30d: Vec<String>,
    pub mrr: Vec<String>,
    pub active_customers: i64,
    /// Seats of team purchases in force, and how many are held.
    pub seats_sold: i64,
    pub seats_in_use: i64,
    pub new_purchases: i64,
    pub churned: i64,
    pub refunds: i64,
    pub funnel: Vec<FunnelRow>,
    /// One per currency, the largest first; empty: no payments yet.
    pub charts: Vec<Chart>,
    pub activity: Vec<ActivityItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelRow {
    pub title: String,
    pub views: i64,
    pub checkouts: i64,
    pub paid: i64,
    /// Paid per view, in words ("4.2%", or "—" without views).
    pub conversion: String,
}

/// Net revenue per day over the last 30 days, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub currency: String,
    pub days: Vec<ChartDay>,
    pub max: i64,
    pub total_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartDay {
    pub label: String,
    pub amount: i64,
    pub amount_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityItem {
    pub id: i64,
    pub at: String,
    pub words: String,
    pub action: String,
    pub github_user_id: i64,
}

#[server(endpoint = "admin/dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::dashboard(&state).await
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use std::collections::BTreeMap;

    use server::{activity, dashboard};

    use super::*;
    use crate::{money::format_amount, time::format_utc};

    fn amounts(per_currency: &BTreeMap<String, i64>) -> Vec<String> {
        per_currency.iter().map(|(c, a)| format_amount(*a, c)).collect()
    }

    pub fn activity_item(a: &activity::Activity) -> ActivityItem {
        ActivityItem {
            id: a.id,
            at: format_utc(a.created_at),
            words: activity::words(a),
            action: a.action.to_string(),
            github_user_id: a.github_user_id,
        }
    }

    pub async fn dashboard(state: &server::AppState) -> Result<Dashboard, AppError> {
        let (summary, funnel, activity) = dashboard::at_a_glance(&state.db, 30, 20).await?;
        let activity = activity.iter().map(activity_item).collect();
        let funnel = funnel
            .into_iter()
            .map(|f| FunnelRow {
                conversion: if f.views > 0 {
                    format!("{:.1}%", f.paid as f64 * 100.0 / f.views as f64)
                } else {
                    "—".to_owned()
                },
                title: f.title,
                views: f.views,
                checkouts: f.checkouts,
                paid: f.paid,
            })
            .collect();
        let mut charts = Vec::new();
        for currency in dashboard::chart_currencies(&summary) {
            let days: Vec<ChartDay> = dashboard::revenue_by_day(&state.db, &currency, 30)
                .await?
                .into_iter()
                .map(|(day, amount)| ChartDay {
                    label: server::clock::day(day),
                    amount,
                    amount_text: format_amount(amount, &currency),
                })
                .collect();
            let max = days.iter().map(|d| d.amount).max().unwrap_or(0).max(1);
            let total_text = format_amount(days.iter().map(|d| d.amount).sum(), &currency);
            charts.push(Chart { currency, days, max, total_text });
        }
        Ok(Dashboard {
            revenue_month: amounts(&summary.revenue_this_month),
            revenue_30d: amounts(&summary.revenue_30d),
            mrr: amounts(&summary.mrr),
            active_customers: summary.active_customers,
            seats_sold: summary.seats_sold,
            seats_in_use: summary.seats_in_use,
            new_purchases: summary.new_purchases_30d,
            churned: summary.churned_30d,
            refunds: summary.refunds_30d,
            funnel,
            charts,
            activity,
        })
    }
}
