//! The conditions RepoPass alerts the creator about, and what a backup
//! became.

use super::text_enum;

text_enum! {
    /// A condition that puts access or money at risk. Each has its own
    /// check (`alert_checks`) and its own line in the creator's settings.
    pub enum AlertKind {
        /// A job used its attempts (or cannot succeed) and stopped.
        DeadJob = "dead_job",
        /// A paid purchase has had no invitation for 15 minutes, for a
        /// reason other than GitHub's published limits.
        NotInvited = "not_invited",
        /// No Stripe webhook for 24 hours while subscriptions are active.
        StripeSilent = "stripe_silent",
        /// Webhook deliveries failing their signature check (a rotated secret).
        WebhookSignatures = "webhook_signatures",
        /// The worker could not reach the database for over a minute.
        DatabaseUnreachable = "database_unreachable",
        /// Reconciliation found access that differs from what was paid for.
        Drift = "drift",
        /// RepoPass's GitHub connection lost access to a repository on sale.
        GithubAccessLost = "github_access_lost",
        /// Failed payments over three times the 30-day daily average.
        PaymentFailureSpike = "payment_failure_spike",
        /// Cancellations over three times the 30-day daily average.
        CancellationSpike = "cancellation_spike",
        /// The last verified backup is older than two days.
        BackupStale = "backup_stale",
    }
}

impl AlertKind {
    /// Its name in the settings and in an email's subject once resolved.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::DeadJob => "A job stopped retrying",
            AlertKind::NotInvited => "A paid purchase has no invitation",
            AlertKind::StripeSilent => "Stripe's webhooks stopped arriving",
            AlertKind::WebhookSignatures => "Webhook deliveries fail their signature check",
            AlertKind::DatabaseUnreachable => "The database was unreachable",
            AlertKind::Drift => "Access differs from what was paid for",
            AlertKind::GithubAccessLost => "GitHub access to a repository on sale was lost",
            AlertKind::PaymentFailureSpike => "Many failed payments",
            AlertKind::CancellationSpike => "Many cancellations",
            AlertKind::BackupStale => "No recent backup",
        }
    }

    /// Critical: access or money is at risk now (the rest are warnings).
    pub fn critical(self) -> bool {
        !matches!(self, AlertKind::PaymentFailureSpike | AlertKind::CancellationSpike | AlertKind::Drift)
    }
}

text_enum! {
    /// What became of one backup.
    pub enum BackupStatus {
        /// Written, opened, and SQLite's integrity check said ok.
        Verified = "verified",
        /// Not written, or the copy did not pass the check (`detail` says why).
        Failed = "failed",
        /// Deleted to keep only the last N.
        Pruned = "pruned",
    }
}
