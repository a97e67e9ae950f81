//! What a stuck scenario is waiting for. Each scenario runs with a
//! subscriber of its own that keeps every span still open (requests being
//! served, jobs being run, GitHub and Stripe calls under way); when the
//! scenario overruns its limit, those spans — oldest first, nested as they
//! were opened — are the futures that never finished. A second guard, on a
//! thread of its own, catches a test thread that stopped yielding at all
//! (a blocking call inside async code), which no async timeout can see.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use tracing::{
    field::{Field, Visit},
    span, Subscriber,
};
use tracing_subscriber::{layer::Context, prelude::*, registry::LookupSpan, Layer};

/// The spans of one scenario that have opened and not yet closed.
#[derive(Clone, Default)]
pub struct OpenSpans(Arc<Mutex<BTreeMap<u64, Open>>>);

struct Open {
    name: &'static str,
    target: &'static str,
    fields: String,
    since: Instant,
    parent: Option<u64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for OpenSpans {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut fields = String::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.id().into_u64());
        let open = Open {
            name: attrs.metadata().name(),
            target: attrs.metadata().target(),
            fields,
            since: Instant::now(),
            parent,
        };
        self.0.lock().unwrap().insert(id.into_u64(), open);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, _: Context<'_, S>) {
        if let Some(open) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut open.fields));
        }
    }

    fn on_close(&self, id: span::Id, _: Context<'_, S>) {
        self.0.lock().unwrap().remove(&id.into_u64());
    }
}

impl OpenSpans {
    /// A subscriber that records spans, and prints warnings and errors
    /// through the test's captured output (shown when the test fails, or
    /// with `--nocapture`). The session layer's spans wrap every request and
    /// say nothing of their own: left out.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync {
        let spans = self.clone().with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.is_span() && !meta.target().starts_with("tower_sessions")
        }));
        let warnings = tracing_subscriber::fmt::layer().with_test_writer().with_filter(
            tracing_subscriber::filter::filter_fn(|meta| meta.is_event() && *meta.level() <= tracing::Level::WARN),
        );
        tracing_subscriber::registry().with(spans).with(warnings)
    }

    /// The open spans as a tree, oldest first, each with how long it has been open.
    pub fn report(&self) -> String {
        let spans = self.0.lock().unwrap();
        if spans.is_empty() {
            return "  (no span open: the wait is in the test's own code, outside any request or job)\n".into();
        }
        let now = Instant::now();
        let mut children: BTreeMap<Option<u64>, Vec<(u64, &Open)>> = BTreeMap::new();
        for (id, open) in spans.iter() {
            // A parent that already closed: show the child at the top.
            let parent = open.parent.filter(|p| spans.contains_key(p));
            children.entry(parent).or_default().push((*id, open));
        }
        for list in children.values_mut() {
            list.sort_by_key(|(_, open)| open.since);
        }
        let mut out = String::new();
        let mut stack: Vec<(u64, usize)> =
            children.get(&None).into_iter().flatten().rev().map(|(id, _)| (*id, 1)).collect();
        while let Some((id, depth)) = stack.pop() {
            let open = &spans[&id];
            let age = now.duration_since(open.since).as_secs_f64();
            let _ =
                writeln!(out, "{}{} ({}){} — open {age:.1} s", "  ".repeat(depth), open.name, open.target, open.fields);
            stack.extend(children.get(&Some(id)).into_iter().flatten().rev().map(|(child, _)| (*child, depth + 1)));
        }
        out
    }
}

/// Guards a test thread that stops yielding: if `disarm` is not called
/// within `limit`, prints the test's name and its open spans and ends the
/// whole test process (a blocked thread cannot be unwound from outside).
pub struct Watchdog(Option<mpsc::Sender<()>>);

impl Watchdog {
    pub fn arm(name: String, limit: Duration, spans: OpenSpans) -> Self {
        let (disarm, disarmed) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = disarmed.recv_timeout(limit) {
                eprintln!(
                    "\n{name}: its thread has not yielded for {limit:?}: a blocking call inside async code holds it.\nOpen spans:\n{}",
                    spans.report()
                );
                std::process::abort();
            }
        });
        Watchdog(Some(disarm))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Dropping the sender wakes the guard thread, which then ends.
        self.0.take();
    }
}

/// The guard itself: a scenario stuck on a GitHub call that hangs fails
/// within its limit, naming itself and the request it was waiting on — the
/// buyer's username check, and the GitHub call under it.
#[tokio::test]
async fn a_stuck_scenario_fails_with_its_name_and_what_it_waits_for() {
    use crate::{checkout::on_sale, helpers};
    let spans = OpenSpans::default();
    let _subscriber = tracing::subscriber::set_default(spans.subscriber());
    let app = helpers::spawn_app(helpers::Backend::Sqlite).await.unwrap();
    let (_, price_id) = on_sale(&app).await;
    app.control("/github/faults", serde_json::json!({ "fault": "timeout", "count": 1 })).await;

    let started = Instant::now();
    let check = app
        .client
        .post(app.url("/api/buy/check-username"))
        .form(&[("price_id", price_id.to_string().as_str()), ("github_username", "alice")])
        .send();
    let stuck =
        helpers::bounded("watch::hung_on_github", Duration::from_secs(2), &spans, Some(app.pool().clone()), async {
            let _ = check.await;
        })
        .await
        .expect_err("the username check waits on a GitHub call that hangs for a minute");
    assert!(started.elapsed() < Duration::from_secs(10), "reported after {:?}", started.elapsed());
    let message = stuck.to_string();
    eprintln!("{message}");
    assert!(message.starts_with("watch::hung_on_github did not finish"), "{message}");
    assert!(message.contains("path=/api/buy/check-username"), "the request being served is named:\n{message}");
    assert!(
        message.contains("path=/sandbox/github/api/users/alice"),
        "the GitHub call it waits on is named:\n{message}"
    );
    assert!(message.contains("Database pool:"), "{message}");
}
