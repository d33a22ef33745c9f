//! For the operator and the load balancer: `/healthz` (the process answers),
//! `/readyz` (it can take work: not stopping, and the database takes a write) and, on
//! the separate `metrics_listen` address only, `/metrics` ([`crate::metrics`]).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use connectit_protocol::ErrorCode;
use serde_json::json;
use tokio::net::TcpListener;

use crate::error::AppError;
use crate::hub::now_ms;
use crate::{db, metrics, AppState};

/// `GET /healthz`: 200 while the process serves requests.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "live"}))
}

/// `GET /readyz`: 200 when new work may come here; 503 `stopping` while the broker
/// stops, 503 `storage_unavailable` when the database takes no write (full, read-only,
/// gone) or, in the scale-out mode, Redis does not answer.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    if state.shutdown.stopping() {
        return Err(AppError(ErrorCode::Stopping));
    }
    if let Some(cluster) = state.hub.cluster() {
        if let Err(e) = cluster.ping().await {
            tracing::warn!(error = %e, "not ready: Redis does not answer");
            return Err(AppError(ErrorCode::StorageUnavailable));
        }
    }
    let now = now_ms();
    match state.db.call(move |conn| db::ready_check(conn, now)).await {
        Ok(true) => Ok(Json(json!({"status": "ready"}))),
        Ok(false) => {
            tracing::warn!("not ready: the database is at its size cap");
            Err(AppError(ErrorCode::StorageUnavailable))
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database takes no write");
            Err(AppError(ErrorCode::StorageUnavailable))
        }
    }
}

/// `GET /metrics`, Prometheus text format.
async fn metrics_text(State(state): State<AppState>) -> Response {
    match metrics::render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database did not answer");
            AppError(ErrorCode::StorageUnavailable).into_response()
        }
    }
}

/// Serves `/metrics` (and the health checks) on `listener` until the broker stops.
pub async fn serve_metrics(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let stop = state.shutdown.clone();
    let router = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}
