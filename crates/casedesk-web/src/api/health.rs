//! Liveness and readiness probes (outside `/api/v1`, no authentication).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// Answers as long as the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Answers 200 when the database is reachable, 503 otherwise, so a load balancer stops
/// sending requests to an instance that cannot serve them.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable" })))
        }
    }
}
