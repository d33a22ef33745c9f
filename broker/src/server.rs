//! Serving: the routes ([`app`]), and [`run`], which serves until the shutdown signal,
//! with the background tasks the broker keeps (open sessions loaded at start, the
//! sign-ins watched, the security log written, invitations counted, finished sessions
//! forgotten).

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::net::TcpListener;

use crate::hub::now_ms;
use crate::{
    admin, api, auth, console_ws, db, guard, ops, record, serve, static_files, ws, AppState,
};

/// Largest HTTP request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// The broker's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/api/config", get(api::config))
        .route("/api/catalog/{lang}", get(api::catalog))
        .route("/api/setup", get(auth::setup_status).post(auth::setup))
        .route("/api/auth/sign-in", post(auth::sign_in))
        .route("/api/auth/sign-out", post(auth::sign_out))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/oidc/start", get(crate::oidc::start))
        .route("/api/auth/oidc/callback", get(crate::oidc::callback))
        .route("/api/auth/password", post(admin::change_password))
        .route("/api/auth/sign-out-others", post(admin::sign_out_others))
        .route(
            "/api/auth/accept-invitation",
            post(admin::accept_invitation),
        )
        .route(
            "/api/admin/accounts",
            get(admin::accounts).post(admin::create_account),
        )
        .route(
            "/api/admin/accounts/{username}",
            axum::routing::patch(admin::update_account),
        )
        .route(
            "/api/admin/accounts/{username}/reset",
            post(admin::reset_password),
        )
        .route(
            "/api/admin/accounts/{username}/sign-out",
            post(admin::sign_out_everywhere),
        )
        .route(
            "/api/admin/teams",
            get(admin::teams).post(admin::create_team),
        )
        .route(
            "/api/admin/tokens",
            get(crate::integrations::list_tokens).post(crate::integrations::issue_token),
        )
        .route(
            "/api/admin/tokens/{id}",
            axum::routing::delete(crate::integrations::revoke_token),
        )
        .route(
            "/api/admin/webhooks",
            get(crate::integrations::list_webhooks).post(crate::integrations::create_webhook),
        )
        .route(
            "/api/admin/webhooks/{id}",
            axum::routing::delete(crate::integrations::remove_webhook),
        )
        .route(
            "/api/admin/webhooks/{id}/deliveries",
            get(crate::integrations::deliveries),
        )
        .route(
            "/api/admin/teams/{slug}/members/{username}",
            put(admin::add_member).delete(admin::remove_member),
        )
        .route(
            "/api/sessions",
            get(api::list_sessions).post(api::create_session),
        )
        .route("/api/pin", post(api::verify_pin))
        .route("/api/join", post(api::join_link))
        .route("/api/survey", post(api::survey))
        .route("/api/record", post(record::customer_record))
        .route("/api/record-key", get(record::public_key))
        .route("/api/sessions/{id}/record", get(record::technician_record))
        .route("/api/sessions/{id}", get(crate::integrations::session))
        .route("/api/sessions/{id}/pick-up", post(api::pick_up))
        .route("/api/sessions/{id}/email", post(api::send_email))
        .route("/api/sessions/{id}/hand-over", post(api::hand_over))
        .route("/api/sessions/{id}/invite", post(api::invite))
        .route("/api/sessions/{id}/join", post(api::join_session))
        .route("/api/sessions/{id}/leave", post(api::leave_session))
        .route("/api/colleagues", get(api::colleagues))
        .route("/api/history", get(crate::history::history))
        .route("/api/history.csv", get(crate::history::history_csv))
        .route("/api/reports", get(crate::history::reports))
        .route("/api/sessions/{id}/details", put(api::set_details))
        .route(
            "/api/sessions/{id}/notes",
            get(api::notes).post(api::add_note),
        )
        .route("/api/replies", get(api::replies).post(api::add_reply))
        .route(
            "/api/replies/{id}",
            put(api::update_reply).delete(api::delete_reply),
        )
        .route("/api/teams/{slug}", get(api::team_page))
        .route("/api/teams/{slug}/join", post(api::team_join))
        .route("/api/audit", get(auth::audit_log))
        .route("/api/ws", get(ws::session_socket))
        .route("/api/cluster/call", post(crate::hub::remote::serve_call))
        .route("/api/console/ws", get(console_ws::console_socket))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            static_files::security_headers,
        ))
        .with_state(state)
}

/// Serves until `shutdown` completes, then tells every socket and returns.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let loader = {
        // Every open session's timers run from the start, also those set before a
        // restart (a PIN that expired meanwhile ends now).
        let state = state.clone();
        tokio::spawn(async move {
            match state.hub.load_open().await {
                Ok(n) => tracing::info!(sessions = n, "open sessions loaded"),
                Err(e) => tracing::error!(error = %e, "could not load the open sessions"),
            }
        })
    };
    let sweeper = tokio::spawn(sweep(state.clone()));
    // `/metrics` on its own address, never on the public listener.
    let metrics = match state.config.metrics_address() {
        Some(address) => {
            let listener = TcpListener::bind(address).await?;
            let bound = listener.local_addr()?;
            let _ = state.metrics_addr.set(bound);
            tracing::info!(address = %bound, "metrics served");
            Some(tokio::spawn(ops::serve_metrics(listener, state.clone())))
        }
        None => None,
    };
    let watcher = tokio::spawn(auth::watch_sign_ins(state.clone()));
    let deliveries = tokio::spawn(crate::integrations::run_deliveries(state.clone()));
    let auditor = {
        let (audit, stop) = (state.audit.clone(), state.shutdown.clone());
        tokio::spawn(async move { audit.keep(stop).await })
    };
    let hub_tasks = state
        .hub_tasks
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let keeper =
        hub_tasks.map(|tasks| tokio::spawn(keep_invitations(state.clone(), tasks.refresh)));
    let cluster = state.hub.cluster().cloned();
    let cluster_tasks = cluster.as_ref().map(|c| {
        [
            tokio::spawn(c.clone().listen()),
            tokio::spawn(keep_cluster(state.clone(), c.clone())),
            tokio::spawn(hear_cluster(state.clone(), c.events())),
        ]
    });
    let stop = state.shutdown.clone();
    let sockets = state.shutdown.clone();
    let (tls, connections, audit) = (
        state.tls.clone(),
        state.connections.clone(),
        state.audit.clone(),
    );
    let router = app(state);
    let signal = async move {
        shutdown.await;
        if let Some(cluster) = &cluster {
            // The leases go first: the pages told to reconnect find their sessions
            // free, and the brokers they reach take them at once.
            match cluster.leave().await {
                Ok(()) => tracing::info!("left the cluster: sessions handed back"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not hand the sessions back; their leases run out instead")
                }
            }
        }
        stop.trigger();
    };
    let result = serve::serve(listener, router, tls, connections, audit, signal).await;
    // Upgraded sockets outlive the HTTP server: let them send their close frames and
    // store their last entries before the process goes.
    sockets.sockets_closed(Duration::from_secs(5)).await;
    loader.abort();
    sweeper.abort();
    if let Some(metrics) = metrics {
        let _ = tokio::time::timeout(Duration::from_secs(2), metrics).await;
    }
    watcher.abort();
    deliveries.abort();
    if let Some(keeper) = keeper {
        keeper.abort();
    }
    for task in cluster_tasks.into_iter().flatten() {
        task.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), auditor).await;
    result
}

/// Renews this broker's presence and leases every [`crate::cluster::RENEW_EVERY`];
/// sessions whose leases it lost close their sockets here (they reconnect to the
/// broker that has them). Every [`ORPHANS_EVERY`], takes the open sessions nobody runs
/// (their broker went down with no socket to bring them back), so that their timers
/// run.
async fn keep_cluster(state: AppState, cluster: std::sync::Arc<crate::cluster::Cluster>) {
    let mut tick = tokio::time::interval(crate::cluster::RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_renewed = tokio::time::Instant::now();
    // At once on the first tick: a broker joining learns the queues and the sessions
    // nobody runs.
    let mut orphans = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        if state.shutdown.stopping() {
            return;
        }
        match cluster.renew().await {
            Ok(lost) => {
                last_renewed = tokio::time::Instant::now();
                state.hub.lost(&lost);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not renew this broker's leases");
                if last_renewed.elapsed() > Duration::from_millis(crate::cluster::LEASE_MS / 2) {
                    // Others may take them soon: stop serving them from here.
                    let ids = state.hub.loaded_ids();
                    cluster.forget(&ids);
                    state.hub.lost(&ids);
                }
            }
        }
        if tokio::time::Instant::now() >= orphans {
            orphans = tokio::time::Instant::now() + ORPHANS_EVERY;
            if let Err(e) = state.hub.load_open().await {
                tracing::warn!(error = %e, "could not look for sessions nobody runs");
            }
            // The teams' queues as storage has them, in case news was missed.
            match state
                .db
                .call(|conn| crate::db::waiting_in_queues(conn))
                .await
            {
                Ok(waiting) => state.hub.queues().replace_waiting(&waiting),
                Err(e) => tracing::warn!(error = %e, "could not read the teams' queues"),
            }
        }
    }
}

/// How often a broker of a cluster looks for open sessions no broker runs.
const ORPHANS_EVERY: Duration = Duration::from_secs(5);

/// What the other brokers tell: summaries for this broker's consoles.
async fn hear_cluster(
    state: AppState,
    mut events: tokio::sync::broadcast::Receiver<crate::cluster::Event>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(event) => match event.body {
                crate::cluster::EventBody::Summary(update) => state.hub.relay_summary(*update),
                crate::cluster::EventBody::QueueJoined {
                    team,
                    since,
                    session,
                } => state.hub.queues().join(team, since, &session),
                crate::cluster::EventBody::QueueLeft {
                    team,
                    since,
                    session,
                    picked_at,
                } => state.hub.queues().leave(team, since, &session, picked_at),
            },
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "missed events from the other brokers")
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Sends again the summaries of the sessions of a PIN or link that several people used,
/// whenever one of them starts or stops waiting (their rows say how many wait).
async fn keep_invitations(
    state: AppState,
    mut refresh: tokio::sync::mpsc::UnboundedReceiver<connectit_protocol::SessionId>,
) {
    while let Some(invitation) = refresh.recv().await {
        state.hub.refresh_invitation(&invitation).await;
    }
}

/// Ends the sessions still waiting in the queues that closed (their hours ended, or
/// a team was closed by hand): they are told so (`queue_closed`) rather than left to
/// wait for nobody. Customers already picked up go on.
async fn close_queues(state: &AppState, now: u64) {
    for team_id in state.hub.queues().teams_waiting() {
        let team = match state
            .db
            .call(move |conn| db::team_by_id(conn, team_id))
            .await
        {
            Ok(Some(team)) => team,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a team");
                continue;
            }
        };
        if crate::hours::team_is_open(&team, &state.config.time_zone, now) {
            continue;
        }
        for id in state.hub.queues().waiting_in(team_id) {
            let reason = connectit_protocol::EndReason::QueueClosed;
            let kind = connectit_protocol::EntryKind::SessionEnded { reason };
            let ended = match state.hub.get(&id).await {
                Ok(Some(live)) => live
                    .append(connectit_protocol::Author::System, kind)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}")),
                Ok(None) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            match ended {
                Ok(()) => tracing::info!(session = %id, team = %team.slug, "the queue closed"),
                Err(e) => {
                    tracing::warn!(session = %id, error = %e, "could not end a session in a closed queue")
                }
            }
        }
    }
}

/// Deletes or anonymises the sessions past their retention, and says so in the
/// security log.
async fn apply_retention(state: &AppState) {
    let (days, action) = (state.config.retention_days, state.config.retention_action);
    let cutoff = now_ms().saturating_sub(days * 24 * 3600 * 1000);
    match state
        .db
        .call(move |conn| crate::retention::apply(conn, cutoff, action))
        .await
    {
        Ok(applied) => {
            let (kind, detail) = crate::retention::describe(applied, action, days);
            state.audit.event(kind, None, None, &detail).await;
        }
        Err(e) => tracing::error!(error = %e, "the retention could not be applied"),
    }
}

/// Forgets finished sessions nobody watches (every second), and expired sign-ins
/// (every minute). Nothing here decides what time does to a session: each session's
/// own task does ([`crate::hub::actor`]).
async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // The retention runs a minute after the start, then daily.
    let mut retention_due = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        tick.tick().await;
        if state.config.retention_days > 0 && tokio::time::Instant::now() >= retention_due {
            retention_due += Duration::from_secs(24 * 3600);
            apply_retention(&state).await;
        }
        state.hub.evict_idle();
        let now = now_ms();
        if now % 2_000 < 1_000 {
            close_queues(&state, now).await;
        }
        if now % 60_000 < 1_000 {
            if let Err(e) = state
                .db
                .call(move |conn| db::delete_expired_sign_ins(conn, now))
                .await
            {
                tracing::warn!(error = %e, "could not forget expired sign-ins");
            }
        }
    }
}
