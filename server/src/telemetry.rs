//! Logging (`tracing`, `LOG_FORMAT=pretty|json`, `RUST_LOG`) and Prometheus metrics.

use std::sync::OnceLock;

use backend::config::{ConfigError, LogFormat};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

/// Installs the global tracing subscriber. Every log line written while a request is being
/// handled carries that request's span, and with it the request id. The server logs to
/// standard output; the operator commands log to standard error, so that their output
/// (`to_stderr`) is theirs alone.
pub fn init_logging(filter: &str, format: LogFormat, to_stderr: bool) -> Result<(), ConfigError> {
    let writer = || {
        if to_stderr {
            fmt::writer::BoxMakeWriter::new(std::io::stderr)
        } else {
            fmt::writer::BoxMakeWriter::new(std::io::stdout)
        }
    };
    let filter = EnvFilter::try_new(filter).map_err(|e| {
        ConfigError::new(
            "RUST_LOG",
            format!("'{filter}' is not a valid log filter ({e})"),
        )
    })?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_target(true).with_writer(writer()))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .with_writer(writer())
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    // Already installed (tests start several servers in one process): keep the first.
    let _ = result;
    Ok(())
}

/// The process-wide Prometheus recorder. The `metrics` facade is global by design, so the
/// recorder is installed once and every server in the process shares it.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("static buckets are valid")
                // Provider calls take seconds to minutes.
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "avatar_provider_call_seconds".into(),
                    ),
                    &[
                        0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
                    ],
                )
                .expect("static buckets are valid")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            metrics::describe_counter!(
                "http_requests_total",
                "HTTP requests answered, by method, route and status"
            );
            metrics::describe_histogram!(
                "http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer HTTP requests, by method and route"
            );
            metrics::describe_gauge!("avatar_jobs", "Generation jobs by provider and status");
            metrics::describe_gauge!(
                "avatar_job_failures_recent",
                "Jobs that failed for good in the last 24 hours, by provider and reason"
            );
            metrics::describe_gauge!(
                "avatar_storage_objects",
                "Objects in storage as the database records them, by kind (image, trash, variant)"
            );
            metrics::describe_gauge!(
                "avatar_storage_bytes",
                metrics::Unit::Bytes,
                "Bytes in storage as the database records them, by kind (image, trash, variant)"
            );
            metrics::describe_gauge!(
                "avatar_variant_cache_limit_bytes",
                metrics::Unit::Bytes,
                "VARIANT_CACHE_MAX_BYTES: the cleanup keeps the variants under it"
            );
            metrics::describe_gauge!(
                "avatar_images_missing",
                "Images whose object the cleanup found missing from storage"
            );
            metrics::describe_gauge!("avatar_accounts", "Accounts, by state (active, disabled)");
            metrics::describe_gauge!(
                "avatar_cleanup_last_run_timestamp_seconds",
                metrics::Unit::Seconds,
                "When the last cleanup (not a dry run) finished, as a Unix time"
            );
            metrics::describe_gauge!(
                "avatar_cleanup_last_run_duration_seconds",
                metrics::Unit::Seconds,
                "How long the last cleanup (not a dry run) took"
            );
            metrics::describe_gauge!(
                "avatar_cleanup_last_run_failed",
                "1 when the last cleanup (not a dry run) failed, 0 when it succeeded"
            );
            metrics::describe_histogram!(
                "avatar_provider_call_seconds",
                metrics::Unit::Seconds,
                "Time of provider calls, by provider and outcome (ok or the failure's code)"
            );
            metrics::describe_counter!(
                "avatar_jobs_finished_total",
                "Jobs that ended, by provider and status"
            );
            metrics::describe_counter!(
                "avatar_job_retries_total",
                "Attempts that failed and were retried, by provider and reason"
            );
            metrics::describe_counter!(
                "avatar_job_failures_total",
                "Jobs that failed for good, by provider and reason"
            );
            metrics::gauge!("avatar_studio_build_info", "version" => env!("CARGO_PKG_VERSION"))
                .set(1.0);
            handle
        })
        .clone()
}
