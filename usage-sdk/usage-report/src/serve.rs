//! `usage-report serve`: a Prometheus exporter. Every `--refresh` (the first at start) it
//! syncs each organization's store (`sync::sync`, concurrently, each with its own client),
//! then reads the figures from the stores into the metrics; `/metrics` answers in the
//! OpenMetrics text format (prometheus-client's encoder, which escapes label values) and
//! `/healthz` says the server is up.
//!
//! A failed sync leaves the store as its last commit left it, so the figures stay the last
//! good ones; `usage_report_sync_errors_total` and
//! `usage_report_last_sync_success_timestamp_seconds` say so. SIGTERM (or Ctrl-C) drops a
//! sync under way, which the store checkpoints by design (windows are whole transactions,
//! submitted jobs are recorded for the next sync), and exits 0.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use tokio::task::JoinSet;

use crate::allowance::{self, Allowance, Forecast};
use crate::cli::{ServeArgs, SyncArgs};
use crate::exit::Exit;
use crate::logging::RateLimited;
use crate::profiles::Selection;
use crate::row::Row;
use crate::setup::{self, Origin};
use crate::store::{self, Store};
use crate::sync;
use crate::text::terminal_safe_lines;

/// The label value of the part of the endpoints beyond `--top-endpoints`.
pub const OTHER: &str = "other";

/// One organization the exporter watches.
#[derive(Clone, Debug)]
pub struct Org {
    pub name: String,
    pub origin: Origin,
    pub store: PathBuf,
    pub allowance: Option<Allowance>,
}

/// The organizations of `selection`, each with its store.
pub fn organizations(args: &ServeArgs, selection: &Selection) -> Result<Vec<Org>, Exit> {
    let profiles = match selection {
        Selection::Environment => {
            let origin = setup::origin(args.demo, false, None)?;
            let (name, store) = match origin {
                Origin::Demo(_) => (
                    "demo",
                    match &args.store {
                        Some(path) => path.clone(),
                        None => store::default_path()?.with_file_name("demo.sqlite3"),
                    },
                ),
                _ => (
                    "default",
                    match &args.store {
                        Some(path) => path.clone(),
                        None => store::default_path()?,
                    },
                ),
            };
            return Ok(vec![Org {
                name: name.to_string(),
                origin,
                store,
                allowance: None,
            }]);
        }
        Selection::One(profile) => std::slice::from_ref(profile),
        Selection::All(profiles) => {
            if args.store.is_some() {
                return Err(Exit::usage(
                    "--store with --all-profiles: each organization has its own store (`store` \
                     in its profile); drop --store",
                ));
            }
            profiles.as_slice()
        }
    };
    profiles
        .iter()
        .map(|profile| {
            Ok(Org {
                name: profile.name.clone(),
                origin: setup::origin(args.demo, false, Some(profile))?,
                store: match &args.store {
                    Some(path) => path.clone(),
                    None => profile.store()?,
                },
                allowance: profile.allowance().cloned(),
            })
        })
        .collect()
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabels {
    organization: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClientLabels {
    organization: String,
    client_id: String,
    client_name: String,
    status_class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    organization: String,
    http_method: String,
    template_uri: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The exporter's metrics (names and labels: README, "Watching it").
pub struct Metrics {
    registry: Registry,
    yesterday: Family<ClientLabels, Gauge>,
    month: Family<ClientLabels, Gauge>,
    endpoints: Family<EndpointLabels, Gauge>,
    allowance: Family<OrgLabels, Gauge>,
    used_ratio: Family<OrgLabels, FloatGauge>,
    projected: Family<OrgLabels, Gauge>,
    overage: Family<OrgLabels, Gauge>,
    last_success: Family<OrgLabels, FloatGauge>,
    duration: Family<OrgLabels, FloatGauge>,
    sync_ok: Family<OrgLabels, Gauge>,
    errors: Family<OrgLabels, Counter>,
    rate_limited: Counter,
    /// What of `RateLimited` the counter holds already.
    rate_limited_seen: AtomicU64,
}

impl Metrics {
    pub fn new(demo: bool) -> Self {
        let mut registry = Registry::default();
        let metrics = Self {
            yesterday: Family::default(),
            month: Family::default(),
            endpoints: Family::default(),
            allowance: Family::default(),
            used_ratio: Family::default(),
            projected: Family::default(),
            overage: Family::default(),
            last_success: Family::default(),
            duration: Family::default(),
            sync_ok: Family::default(),
            errors: Family::default(),
            rate_limited: Counter::default(),
            rate_limited_seen: AtomicU64::new(0),
            registry: Registry::default(),
        };
        registry.register(
            "usage_report_build",
            "The exporter; demo=\"true\" when it serves the demo stand-in's made-up data",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION").to_string()),
                ("demo", demo.to_string()),
            ]),
        );
        registry.register(
            "usage_report_requests_yesterday",
            "Requests of yesterday (UTC) per OAuth client by status class (4xx excludes 429), from the store",
            metrics.yesterday.clone(),
        );
        registry.register(
            "usage_report_requests_month_to_date",
            "Requests of the month to date (full UTC days) per OAuth client by status class (4xx excludes 429), from the store",
            metrics.month.clone(),
        );
        registry.register(
            "usage_report_endpoint_requests_month_to_date",
            "Requests of the month to date of the top endpoints (--top-endpoints); the rest as template_uri=\"other\"",
            metrics.endpoints.clone(),
        );
        registry.register(
            "usage_report_allowance_requests",
            "The month's request allowance of the organization's profile",
            metrics.allowance.clone(),
        );
        registry.register(
            "usage_report_allowance_used_ratio",
            "The share of the month's allowance used so far (1 = all of it)",
            metrics.used_ratio.clone(),
        );
        registry.register(
            "usage_report_projected_month_end_requests",
            "The month's requests projected at the mean of the last 7 full days",
            metrics.projected.clone(),
        );
        registry.register(
            "usage_report_projected_overage_requests",
            "Requests projected beyond the allowance at the month's end (0 within it); not a price",
            metrics.overage.clone(),
        );
        registry.register(
            "usage_report_last_sync_success_timestamp_seconds",
            "When the organization's last successful sync ended (Unix time)",
            metrics.last_success.clone(),
        );
        registry.register(
            "usage_report_sync_duration_seconds",
            "How long the organization's last sync took, successful or not",
            metrics.duration.clone(),
        );
        registry.register(
            "usage_report_last_sync_ok",
            "1 when the organization's last sync succeeded, 0 when it failed (the figures are then the last good ones)",
            metrics.sync_ok.clone(),
        );
        registry.register(
            "usage_report_sync_errors",
            "Syncs that failed",
            metrics.errors.clone(),
        );
        registry.register(
            "usage_report_rate_limited_responses",
            "429 responses the exporter's own API requests received (all organizations)",
            metrics.rate_limited.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self, rate_limited: &RateLimited) -> String {
        let now = rate_limited.count();
        let seen = self.rate_limited_seen.swap(now, Ordering::Relaxed);
        self.rate_limited.inc_by(now.saturating_sub(seen));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// Replaces the figures read from the stores by `figures`.
    fn set_figures(&self, figures: &[(String, Figures)]) {
        for family_clear in [&self.yesterday, &self.month] {
            family_clear.clear();
        }
        self.endpoints.clear();
        for family in [&self.allowance, &self.projected, &self.overage] {
            family.clear();
        }
        self.used_ratio.clear();
        for (organization, f) in figures {
            for (family, clients) in [(&self.yesterday, &f.yesterday), (&self.month, &f.month)] {
                for client in clients {
                    for (class, n) in client.classes.labelled() {
                        family
                            .get_or_create(&ClientLabels {
                                organization: organization.clone(),
                                client_id: client.client_id.clone(),
                                client_name: client.client_name.clone(),
                                status_class: class.to_string(),
                            })
                            .set(n);
                    }
                }
            }
            let endpoint = |http_method: &str, template_uri: &str, n: i64| {
                self.endpoints
                    .get_or_create(&EndpointLabels {
                        organization: organization.clone(),
                        http_method: http_method.to_string(),
                        template_uri: template_uri.to_string(),
                    })
                    .set(n);
            };
            for e in &f.endpoints {
                endpoint(&e.http_method, &e.template_uri, e.requests);
            }
            if f.other_endpoints > 0 {
                endpoint(OTHER, OTHER, f.other_endpoints);
            }
            if let Some(forecast) = &f.forecast {
                let org = OrgLabels {
                    organization: organization.clone(),
                };
                let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
                self.allowance
                    .get_or_create(&org)
                    .set(count(forecast.allowance.requests_per_month));
                self.used_ratio
                    .get_or_create(&org)
                    .set(forecast.share_used_percent / 100.0);
                self.projected
                    .get_or_create(&org)
                    .set(count(forecast.projected_month_end));
                self.overage
                    .get_or_create(&org)
                    .set(count(forecast.projected_overage));
            }
        }
    }
}

/// What one organization's store says.
#[derive(Debug, Default)]
struct Figures {
    yesterday: Vec<store::ClientFigures>,
    month: Vec<store::ClientFigures>,
    endpoints: Vec<store::EndpointFigures>,
    other_endpoints: i64,
    forecast: Option<Forecast>,
}

/// Reads `org`'s figures as of `today` from its store.
fn figures(org: &Org, today: NaiveDate, top: usize) -> Result<Figures, Exit> {
    let store = Store::open(&org.store, false)?;
    let yesterday = today.pred_opt().unwrap_or(today);
    let (first, end) = allowance::month_to_date(today);
    let (endpoints, other_endpoints) = store.endpoint_figures(first, end, top)?;
    let forecast = match &org.allowance {
        Some(allowance) => {
            let rows: Vec<Row> = store
                .daily_requests(first, end)?
                .into_iter()
                .map(|(day, requests)| Row {
                    date: Some(store::day_text(day)),
                    requests: Some(requests),
                    ..Row::default()
                })
                .collect();
            Some(Forecast::from_rows(&rows, allowance.clone(), today))
        }
        None => None,
    };
    Ok(Figures {
        yesterday: store.client_figures(yesterday, today)?,
        month: store.client_figures(first, end)?,
        endpoints,
        other_endpoints,
        forecast,
    })
}

/// The exporter's shared state: the metrics, and a lock that lets a scrape see one
/// refresh's figures whole.
pub struct Exporter {
    pub metrics: Metrics,
    gate: RwLock<()>,
    rate_limited: RateLimited,
}

impl Exporter {
    pub fn new(demo: bool, rate_limited: RateLimited) -> Self {
        Self {
            metrics: Metrics::new(demo),
            gate: RwLock::new(()),
            rate_limited,
        }
    }

    pub fn scrape(&self) -> String {
        let _reading = self.gate.read().unwrap_or_else(|e| e.into_inner());
        self.metrics.encode(&self.rate_limited)
    }

    fn set_figures(&self, figures: &[(String, Figures)]) {
        let _writing = self.gate.write().unwrap_or_else(|e| e.into_inner());
        self.metrics.set_figures(figures);
    }
}

/// One refresh: every organization's sync concurrently (local tasks: a sync holds a
/// store transaction, which is not `Send`), then every store's figures.
async fn refresh(orgs: &[Org], args: &ServeArgs, exporter: &Exporter) {
    let mut syncs = JoinSet::new();
    for org in orgs {
        let org = org.clone();
        // The store's per-user setting is kept: a sync never changes it.
        let per_user = Store::open(&org.store, false)
            .ok()
            .and_then(|s| s.info().ok().flatten())
            .is_some_and(|info| info.per_user);
        let sync_args = SyncArgs {
            store: Some(org.store.clone()),
            since: None,
            per_user,
            page_size: None,
            timeout: args.timeout,
            demo: false,
        };
        syncs.spawn_local(async move {
            let started = Instant::now();
            let done = sync::sync(&sync_args, &org.origin, &org.store).await;
            (org.name, started.elapsed(), done)
        });
    }
    let metrics = &exporter.metrics;
    while let Some(joined) = syncs.join_next().await {
        let Ok((name, took, done)) = joined else {
            continue;
        };
        let org = OrgLabels { organization: name };
        metrics.duration.get_or_create(&org).set(took.as_secs_f64());
        match done {
            Ok(_) => {
                metrics.sync_ok.get_or_create(&org).set(1);
                metrics
                    .last_success
                    .get_or_create(&org)
                    .set(Utc::now().timestamp_millis() as f64 / 1000.0);
            }
            Err(exit) => {
                metrics.sync_ok.get_or_create(&org).set(0);
                metrics.errors.get_or_create(&org).inc();
                eprintln!(
                    "usage-report: serve: the sync of {} failed (the metrics keep its last \
                     good figures): {}",
                    org.organization,
                    terminal_safe_lines(&exit.message)
                );
            }
        }
    }
    let today = Utc::now().date_naive();
    let mut all = Vec::new();
    for org in orgs {
        match figures(org, today, args.top_endpoints) {
            Ok(f) => all.push((org.name.clone(), f)),
            Err(exit) => eprintln!(
                "usage-report: serve: the store of {}: {}",
                org.name,
                terminal_safe_lines(&exit.message)
            ),
        }
    }
    exporter.set_figures(&all);
}

/// The OpenMetrics text as the Prometheus text format 0.0.4, for scrapers that do not ask
/// for OpenMetrics (promtool, curl; Prometheus itself asks for OpenMetrics). Only the
/// metadata differs: a counter family is named with its `_total` (OpenMetrics names it
/// without), an info family becomes a gauge named `_info`, and `# UNIT` and `# EOF` go.
/// Samples, and so the escaping of label values, are the encoder's as they are.
pub fn prometheus_text(openmetrics: &str) -> String {
    let mut kinds = std::collections::HashMap::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ")
            && let Some((name, kind)) = rest.split_once(' ')
        {
            kinds.insert(name, kind);
        }
    }
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|tag| Some((tag, line.strip_prefix(tag)?)));
        match meta {
            Some((tag, rest)) => {
                let (name, after) = rest.split_once(' ').unwrap_or((rest, ""));
                let (name, after) = match (kinds.get(name).copied(), tag) {
                    (Some("counter"), _) => (format!("{name}_total"), after),
                    (Some("info"), "# TYPE ") => (format!("{name}_info"), "gauge"),
                    (Some("info"), _) => (format!("{name}_info"), after),
                    _ => (name.to_string(), after),
                };
                text.push_str(tag);
                text.push_str(&name);
                text.push(' ');
                text.push_str(after);
            }
            None if line.starts_with("# UNIT ") || line == "# EOF" => continue,
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

/// Answers `/metrics` and `/healthz`.
async fn answer(
    request: Request<hyper::body::Incoming>,
    exporter: Arc<Exporter>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = |status: StatusCode, kind: &'static str, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(kind),
        );
        response
    };
    let get = request.method() == hyper::Method::GET || request.method() == hyper::Method::HEAD;
    let openmetrics = request
        .headers()
        .get_all(hyper::header::ACCEPT)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.contains("application/openmetrics-text"))
        });
    Ok(match (get, request.uri().path()) {
        (true, "/metrics") if openmetrics => response(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            exporter.scrape(),
        ),
        (true, "/metrics") => response(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            prometheus_text(&exporter.scrape()),
        ),
        (true, "/healthz") => response(StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        (false, _) => response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET /metrics or /healthz\n".into(),
        ),
        _ => response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "GET /metrics or /healthz\n".into(),
        ),
    })
}

/// Serves HTTP/1.1 on `listener` until the task is dropped.
async fn listen(listener: tokio::net::TcpListener, exporter: Arc<Exporter>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let exporter = exporter.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| answer(request, exporter.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Waits for SIGTERM or Ctrl-C; says which.
async fn stopped() -> &'static str {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "Ctrl-C"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Runs `serve`.
pub async fn run(
    args: &ServeArgs,
    selection: &Selection,
    rate_limited: RateLimited,
) -> Result<(), Exit> {
    let orgs = organizations(args, selection)?;
    let demo = orgs.iter().any(|o| o.origin.demo().is_some());
    let exporter = Arc::new(Exporter::new(demo, rate_limited));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Exit::failed(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Exit::failed(format!("cannot listen on {}: {e}", args.listen)))?;
    eprintln!(
        "usage-report: serve: listening on http://{address}/metrics for {} organization(s): {}{}",
        orgs.len(),
        orgs.iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if demo {
            " (DEMO DATA from the local stand-in, not your organization)"
        } else {
            ""
        }
    );
    let server = tokio::spawn(listen(listener, exporter.clone()));
    let stop = stopped();
    tokio::pin!(stop);
    let local = tokio::task::LocalSet::new();
    let why = local
        .run_until(async {
            loop {
                tokio::select! {
                    _ = refresh(&orgs, args, &exporter) => {}
                    why = &mut stop => return why,
                }
                tokio::select! {
                    _ = tokio::time::sleep(args.refresh) => {}
                    why = &mut stop => return why,
                }
            }
        })
        .await;
    server.abort();
    eprintln!(
        "usage-report: serve: {why}: stopped; a sync under way keeps what it committed (whole \
         windows, and its submitted jobs for the next sync)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::{ClientFigures, EndpointFigures};

    #[test]
    fn label_values_from_the_api_are_escaped_and_the_rest_of_the_endpoints_is_one_series() {
        let metrics = Metrics::new(false);
        let hostile = "evil\"} 1\nusage_report_projected_overage_requests{organization=\"x\"} 9 \\";
        let mut client = ClientFigures {
            client_id: "c1".into(),
            client_name: hostile.into(),
            classes: Default::default(),
        };
        client.classes.status2xx = 7;
        let figures = Figures {
            month: vec![client],
            endpoints: vec![EndpointFigures {
                http_method: "GET".into(),
                template_uri: "/api/v2/\"x\"".into(),
                requests: 5,
            }],
            other_endpoints: 3,
            ..Default::default()
        };
        metrics.set_figures(&[("acme".to_string(), figures)]);
        let text = metrics.encode(&RateLimited::default());
        // One line per series: the newline and quotes of the name are escaped.
        let line = text
            .lines()
            .find(|l| l.starts_with("usage_report_requests_month_to_date{") && l.contains("2xx"))
            .expect(&text);
        assert!(
            line.contains(r#"client_name="evil\"} 1\nusage_report_projected_overage_requests{organization=\"x\"} 9 \\""#),
            "{line}"
        );
        assert!(line.ends_with(" 7"), "{line}");
        assert!(!text.contains("organization=\"x\"} 9\n"), "{text}");
        assert!(text.contains(
            r#"usage_report_endpoint_requests_month_to_date{organization="acme",http_method="other",template_uri="other"} 3"#
        ), "{text}");
        assert!(
            text.contains(r#"template_uri="/api/v2/\"x\""} 5"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn refresh_durations_parse() {
        use crate::cli::parse_refresh;
        assert_eq!(parse_refresh("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_refresh("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_refresh("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_refresh("2"), Ok(Duration::from_secs(2)));
        for bad in ["0s", "1w", "h", "8d", "-1s"] {
            assert!(parse_refresh(bad).is_err(), "{bad}");
        }
    }
}
