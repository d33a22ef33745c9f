//! Single sign-on through the organisation's OpenID provider: the authorization code
//! flow with PKCE (S256), and the ID token checked by the `openidconnect` crate (issuer,
//! audience, signature against the provider's published keys, nonce, expiry).
//!
//! Nothing is kept between the start and the callback but a cookie: a random seed, its
//! expiry and a MAC under the broker's key. The state, the nonce and the PKCE verifier
//! are derived from the seed with the key, so the cookie alone tells an onlooker none
//! of them, any broker of the installation can finish what another started, and no
//! number of started sign-ins fills the broker's memory. The cookie is `SameSite=Lax`
//! (the provider's redirect back is a cross-site navigation) and only sent to
//! `/api/auth/oidc`.
//!
//! A verified sign-in maps a claim (`oidc_username_claim`) to the account, which is
//! bound to the provider's subject at first use so that a name later given to someone
//! else at the provider does not open the account; claims the ID token lacks are read
//! from the provider's userinfo endpoint (its `sub` must match). With
//! `oidc_groups_claim`, a group named as a team's slug makes the person a member, and
//! `oidc_admin_group` decides who is an admin.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use connectit_protocol::api::{AccountRole, AuditKind};
use connectit_protocol::ErrorCode;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::client::ClientIp;
use crate::db::{self, TechnicianRow};
use crate::error::AppError;
use crate::hub::now_ms;
use crate::outbound::{error_chain as chain, Outbound, OutboundError};
use crate::secrets::PinKey;
use crate::AppState;

/// The cookie that carries a sign-in from its start to its callback.
pub const COOKIE: &str = "connectit_sso";
/// How long a person has at the provider before the started sign-in lapses.
const FLOW_SECS: u64 = 600;
/// How long the provider's metadata and keys are used before they are fetched again.
const METADATA_FOR: Duration = Duration::from_secs(600);
const CALLBACK_PATH: &str = "/api/auth/oidc/callback";

/// The provider, as configured, with its metadata once fetched.
pub struct Sso {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect: String,
    scopes: Vec<String>,
    http: Outbound,
    metadata: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

/// Why a sign-in through the provider failed: said in the security log, while the
/// person reads [`ErrorCode::SingleSignOnFailed`].
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

impl Sso {
    /// The provider the configuration names, if any.
    pub fn from_config(config: &crate::config::Config, http: Outbound) -> Option<Arc<Sso>> {
        if config.oidc_issuer.is_empty() {
            return None;
        }
        Some(Arc::new(Sso {
            issuer: config.oidc_issuer.clone(),
            client_id: config.oidc_client_id.clone(),
            client_secret: config.oidc_client_secret.clone(),
            redirect: format!("{}{CALLBACK_PATH}", config.base_url()),
            scopes: config.oidc_scopes.clone(),
            http,
            metadata: Mutex::new(None),
        }))
    }

    /// Calls out, through the broker's own client.
    async fn call(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<axum::http::Response<Vec<u8>>, OutboundError> {
        self.http.send(request).await
    }

    /// The provider's metadata (with its keys), fetched again when older than
    /// [`METADATA_FOR`] or when `refresh`.
    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, Failure> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, metadata)) = cached.as_ref() {
            if !refresh && at.elapsed() < METADATA_FOR {
                return Ok(metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.issuer.clone())?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &Http(&self.http))
            .await
            .map_err(|e| Failure(format!("discovery at {}: {}", self.issuer, chain(&e))))?;
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Failure,
    > {
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(self.redirect.clone())?))
    }
}

/// The crate's calls out, through the broker's own client.
struct Http<'a>(&'a Outbound);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http<'_> {
    type Error = OutboundError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, OutboundError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.0.send(request))
    }
}

/// What a flow's seed yields: the state, the nonce and the PKCE verifier.
struct Secrets {
    state: String,
    nonce: String,
    verifier: String,
}

fn derive(key: &PinKey, seed: &[u8]) -> Secrets {
    let part = |label: &str| URL_SAFE_NO_PAD.encode(key.mac(label, seed));
    Secrets {
        state: part("oidc state"),
        nonce: part("oidc nonce"),
        // 43 characters of the unreserved set: what RFC 7636 asks of a verifier.
        verifier: part("oidc pkce"),
    }
}

/// The cookie's value: seed, expiry and MAC.
fn flow_cookie(key: &PinKey, seed: &[u8; 32], expires: u64) -> String {
    let mut payload = seed.to_vec();
    payload.extend(expires.to_be_bytes());
    let mac = key.mac("oidc flow", &payload);
    payload.extend(&mac[..16]);
    URL_SAFE_NO_PAD.encode(payload)
}

/// The seed in a genuine, unexpired flow cookie.
fn flow_seed(key: &PinKey, value: &str, now: u64) -> Option<[u8; 32]> {
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    if bytes.len() != 32 + 8 + 16 {
        return None;
    }
    let (payload, mac) = bytes.split_at(40);
    let expected = key.mac("oidc flow", payload);
    if !crate::secrets::constant_time_eq(mac, &expected[..16]) {
        return None;
    }
    let expires = u64::from_be_bytes(payload[32..40].try_into().ok()?);
    (now < expires).then(|| payload[..32].try_into().ok())?
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn cookie_header(state: &AppState, value: &str, max_age: u64) -> String {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE}={value}; Path=/api/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    )
}

/// `GET /api/auth/oidc/start`: to the provider's sign-in page.
pub async fn start(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
) -> Result<Response, AppError> {
    let Some(sso) = state.sso.clone() else {
        return Err(AppError(ErrorCode::NotFound));
    };
    let metadata = match sso.metadata(false).await {
        Ok(metadata) => metadata,
        Err(Failure(reason)) => {
            return Ok(refused(&state, client, ErrorCode::SingleSignOnFailed, &reason).await);
        }
    };
    let client_ = sso
        .client(metadata)
        .map_err(|_| AppError(ErrorCode::Internal))?;
    let seed: [u8; 32] = rand::random();
    let secrets = derive(&state.pin_key, &seed);
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(secrets.verifier));
    let mut request = client_.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        move || CsrfToken::new(secrets.state),
        move || Nonce::new(secrets.nonce),
    );
    for scope in &sso.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, _, _) = request.set_pkce_challenge(challenge).url();
    let mut response = redirect(url.as_str());
    let value = flow_cookie(&state.pin_key, &seed, now_ms() + FLOW_SECS * 1000);
    if let Ok(v) = HeaderValue::from_str(&cookie_header(&state, &value, FLOW_SECS)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// What the provider sends back.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// The issuer, from providers that say it (RFC 9207): it must be ours.
    iss: Option<String>,
}

/// A sign-on that failed: its reason in the security log, and to the console with the
/// typed error.
async fn refused(
    state: &AppState,
    client: std::net::IpAddr,
    code: ErrorCode,
    reason: &str,
) -> Response {
    state
        .audit
        .event(
            AuditKind::SignInFailed,
            Some(client),
            None,
            &format!("single sign-on: {reason}"),
        )
        .await;
    to_console(code)
}

/// To the console, which says `code` in the person's language: the typed error as
/// JSON, base64url, in the fragment (`/console/#sign-in-error=…`), which never reaches
/// a server.
fn to_console(code: ErrorCode) -> Response {
    let json = serde_json::to_vec(&code).unwrap_or_default();
    redirect(&format!(
        "/console/#sign-in-error={}",
        URL_SAFE_NO_PAD.encode(json)
    ))
}

/// `GET /api/auth/oidc/callback`: checks what the provider sent, signs the person in,
/// and sends them to the console.
pub async fn callback(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Result<Response, AppError> {
    let Some(sso) = state.sso.clone() else {
        return Err(AppError(ErrorCode::NotFound));
    };
    let outcome = finish(&state, &sso, client, &headers, callback).await;
    let mut response = match outcome {
        Ok(technician) => {
            let mut response = redirect("/console/");
            for cookie in crate::auth::sign_in_cookies(&state, &technician, None).await? {
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Err((code, reason)) => refused(&state, client, code, &reason).await,
    };
    // The flow is used up, whatever came of it.
    if let Ok(v) = HeaderValue::from_str(&cookie_header(&state, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

type Refused = (ErrorCode, String);

fn failed(reason: impl Into<String>) -> Refused {
    (ErrorCode::SingleSignOnFailed, reason.into())
}

async fn finish(
    state: &AppState,
    sso: &Sso,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    callback: Callback,
) -> Result<TechnicianRow, Refused> {
    if let Err(refusal) = state.sso_throttle.attempt(client).await {
        state.audit.count(
            AuditKind::SignInThrottled,
            Some(client),
            None,
            "single sign-on",
        );
        return Err((
            ErrorCode::TooManyAttempts {
                retry_after_secs: refusal.wait_secs,
            },
            "too many sign-ins from this address".into(),
        ));
    }
    let seed = crate::auth::cookie(headers, COOKIE)
        .and_then(|value| flow_seed(&state.pin_key, &value, now_ms()))
        .ok_or_else(|| failed("no sign-in started in this browser, or it lapsed"))?;
    let secrets = derive(&state.pin_key, &seed);
    let given_state = callback.state.unwrap_or_default();
    if !crate::secrets::constant_time_eq(given_state.as_bytes(), secrets.state.as_bytes()) {
        return Err(failed(
            "the state does not match the sign-in this browser started",
        ));
    }
    if callback.iss.as_ref().is_some_and(|iss| *iss != sso.issuer) {
        return Err(failed("the answer names another issuer"));
    }
    if let Some(error) = callback.error {
        let said = callback.error_description.unwrap_or_default();
        return Err(failed(format!(
            "the provider refused: {} {}",
            clean(&error),
            clean(&said)
        )));
    }
    let code = callback
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| failed("no authorization code"))?;
    let metadata = sso.metadata(false).await.map_err(|f| failed(f.0))?;
    let oidc_client = sso.client(metadata.clone()).map_err(|f| failed(f.0))?;
    let tokens = oidc_client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| failed(format!("the provider has no token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(secrets.verifier))
        .request_async(&Http(&sso.http))
        .await
        .map_err(|e| failed(format!("the code exchange failed: {}", chain(&e))))?;
    let id_token = openidconnect::TokenResponse::id_token(&tokens)
        .ok_or_else(|| failed("the provider sent no ID token"))?;
    let nonce = Nonce::new(secrets.nonce);
    let mut claims = match verify(id_token, &sso.verifier(&metadata), &nonce) {
        Ok(claims) => claims,
        Err(_) => {
            // The provider may have rolled its keys since they were fetched.
            let fresh = sso.metadata(true).await.map_err(|f| failed(f.0))?;
            verify(id_token, &sso.verifier(&fresh), &nonce)
                .map_err(|f| failed(format!("the ID token was refused: {}", f.0)))?
        }
    };
    let config = &state.config;
    let wanted = [
        config.oidc_username_claim.as_str(),
        config.oidc_name_claim.as_str(),
        config.oidc_groups_claim.as_str(),
    ];
    if wanted
        .iter()
        .any(|c| !c.is_empty() && !claims.contains_key(*c))
    {
        if let Some(url) = metadata.userinfo_endpoint() {
            let more = userinfo(sso, url.as_str(), tokens.access_token().secret())
                .await
                .map_err(|f| failed(format!("userinfo: {}", f.0)))?;
            merge_userinfo(&mut claims, more).map_err(|f| failed(f.0))?;
        }
    }
    let mapped = map_claims(config, &sso.issuer, &claims).map_err(|f| failed(f.0))?;
    let create = config.oidc_create_accounts;
    let for_db = mapped.clone();
    let result = state
        .db
        .call(move |conn| Ok(provision(conn, &for_db, create)))
        .await
        .map_err(|e| failed(format!("storage: {e:?}")))?;
    match result {
        Ok((technician, changes)) => {
            // Only refusals use up the address's allowance.
            state.sso_throttle.succeed(client).await;
            let mut said = format!("single sign-on ({})", mapped.subject);
            if !changes.is_empty() {
                said.push_str("; ");
                said.push_str(&changes.join("; "));
            }
            state
                .audit
                .event(
                    AuditKind::SignInSucceeded,
                    Some(client),
                    Some(&technician.username),
                    &said,
                )
                .await;
            Ok(technician)
        }
        Err(refused) => Err(refused),
    }
}

impl Sso {
    fn verifier(&self, metadata: &CoreProviderMetadata) -> CoreIdTokenVerifier<'static> {
        let algs = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|a| **a != CoreJwsSigningAlgorithm::None)
            .cloned()
            .collect();
        verifier(
            &self.client_id,
            &self.client_secret,
            metadata.issuer().clone(),
            metadata.jwks().clone(),
            algs,
        )
    }
}

/// The checks an ID token must pass: issued by `issuer` for `client_id`, signed with
/// one of `algs` by a key in `jwks` (or, for HS*, with the client secret), unexpired.
pub fn verifier(
    client_id: &str,
    client_secret: &str,
    issuer: IssuerUrl,
    jwks: CoreJsonWebKeySet,
    algs: Vec<CoreJwsSigningAlgorithm>,
) -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.into()),
        ClientSecret::new(client_secret.into()),
        issuer,
        jwks,
    )
    .set_allowed_algs(algs)
}

/// The ID token's claims, once the verifier and the nonce accept it.
pub fn verify(
    token: &CoreIdToken,
    verifier: &CoreIdTokenVerifier<'_>,
    nonce: &Nonce,
) -> Result<Map<String, Value>, Failure> {
    token
        .claims(verifier, nonce)
        .map_err(|e| Failure(chain(&e)))?;
    // Verified: its payload is read as it stands, for claims of any name.
    let compact = token.to_string();
    let payload = compact
        .split('.')
        .nth(1)
        .ok_or_else(|| Failure("not a compact JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))?;
    match serde_json::from_slice(&bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(Failure("the payload is not an object".into())),
    }
}

/// The userinfo endpoint's claims (JSON).
async fn userinfo(sso: &Sso, url: &str, access_token: &str) -> Result<Value, Failure> {
    let request = Request::get(url)
        .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
        .header(header::ACCEPT, "application/json")
        .body(Vec::new())?;
    let response = sso.call(request).await?;
    if !response.status().is_success() {
        return Err(Failure(format!("answered {}", response.status())));
    }
    Ok(serde_json::from_slice(response.body())?)
}

/// Adds userinfo's claims the ID token lacks; its `sub` must be the token's.
pub fn merge_userinfo(claims: &mut Map<String, Value>, more: Value) -> Result<(), Failure> {
    let Value::Object(more) = more else {
        return Err(Failure("userinfo is not a JSON object".into()));
    };
    if more.get("sub") != claims.get("sub") {
        return Err(Failure("userinfo names another subject".into()));
    }
    for (key, value) in more {
        claims.entry(key).or_insert(value);
    }
    Ok(())
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// `issuer sub`: the identity the account is bound to.
    pub subject: String,
    pub username: String,
    pub display_name: Option<String>,
    /// `None`: teams are not taken from the provider.
    pub teams: Option<Vec<String>>,
    /// `None`: the role is not taken from the provider.
    pub admin: Option<bool>,
}

/// Reads the configured claims.
pub fn map_claims(
    config: &crate::config::Config,
    issuer: &str,
    claims: &Map<String, Value>,
) -> Result<Mapped, Failure> {
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Failure("no sub claim".into()))?;
    let username = claims
        .get(&config.oidc_username_claim)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let username_ok = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if !username_ok {
        return Err(Failure(format!(
            "claim {} is missing or not a user name ({:?})",
            config.oidc_username_claim,
            clean(&username)
        )));
    }
    let display_name = claims
        .get(&config.oidc_name_claim)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| {
            connectit_protocol::check_name(s, connectit_protocol::limits::NAME_MAX_CHARS).is_ok()
        });
    let groups: Option<Vec<String>> = (!config.oidc_groups_claim.is_empty()).then(|| match claims
        .get(&config.oidc_groups_claim)
    {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    });
    let admin = match (&groups, config.oidc_admin_group.is_empty()) {
        (Some(groups), false) => Some(groups.contains(&config.oidc_admin_group)),
        _ => None,
    };
    Ok(Mapped {
        subject: format!("{issuer} {sub}"),
        username,
        display_name,
        teams: groups,
        admin,
    })
}

/// Finds (or creates) and updates the account for `mapped`; what changed, for the log.
pub fn provision(
    conn: &mut crate::sql::Connection,
    mapped: &Mapped,
    create: bool,
) -> Result<(TechnicianRow, Vec<String>), Refused> {
    let storage = |e: db::DbError| failed(format!("storage: {e:?}"));
    let tx = conn
        .transaction()
        .map_err(|e| failed(format!("storage: {e}")))?;
    let mut changes = Vec::new();
    let found = db::sso_account(&tx, &mapped.username, &mapped.subject).map_err(storage)?;
    let (mut technician, role) = match found {
        Some(account) => {
            if account.technician.username != mapped.username {
                return Err(failed(format!(
                    "{} is bound to account {}, not {}",
                    mapped.subject, account.technician.username, mapped.username
                )));
            }
            match &account.subject {
                Some(bound) if *bound != mapped.subject => {
                    return Err(failed(format!(
                        "account {} is bound to another identity",
                        mapped.username
                    )))
                }
                Some(_) => {}
                None => {
                    db::bind_sso_subject(&tx, account.technician.id, &mapped.subject)
                        .map_err(storage)?;
                    changes.push("account bound to this identity".to_string());
                }
            }
            if account.disabled {
                return Err((
                    ErrorCode::AccountDisabled,
                    format!("account {} is disabled", mapped.username),
                ));
            }
            (account.technician, account.role)
        }
        None if create => {
            let name = mapped
                .display_name
                .clone()
                .unwrap_or_else(|| mapped.username.clone());
            // No password: this account signs in through the provider (an admin may
            // still reset one).
            let id = db::create_technician(&tx, &mapped.username, &name, "", now_ms())
                .map_err(storage)?
                .ok_or_else(|| failed("the user name was taken meanwhile"))?;
            db::bind_sso_subject(&tx, id, &mapped.subject).map_err(storage)?;
            changes.push("account created".to_string());
            (
                TechnicianRow {
                    id,
                    username: mapped.username.clone(),
                    display_name: name,
                    password_hash: String::new(),
                },
                AccountRole::Technician,
            )
        }
        None => {
            return Err((
                ErrorCode::NoAccount,
                format!(
                    "no account {} and accounts are not created",
                    mapped.username
                ),
            ))
        }
    };
    if let Some(name) = &mapped.display_name {
        if *name != technician.display_name {
            db::set_display_name(&tx, technician.id, name).map_err(storage)?;
            technician.display_name = name.clone();
            changes.push("name updated".to_string());
        }
    }
    if let Some(groups) = &mapped.teams {
        for (team, members) in db::teams(&tx).map_err(storage)? {
            let want = groups.contains(&team.slug);
            let is = members.contains(&technician.username);
            if want != is {
                db::set_member(&tx, team.id, technician.id, want).map_err(storage)?;
                changes.push(format!(
                    "{} team {}",
                    if want { "joined" } else { "left" },
                    team.slug
                ));
            }
        }
    }
    match mapped.admin {
        Some(true) if role != AccountRole::Admin => {
            db::set_role(&tx, &technician.username, AccountRole::Admin).map_err(storage)?;
            changes.push("made an admin".to_string());
        }
        Some(false) if role == AccountRole::Admin => {
            if db::other_active_admins(&tx, &technician.username).map_err(storage)? > 0 {
                db::set_role(&tx, &technician.username, AccountRole::Technician)
                    .map_err(storage)?;
                changes.push("no longer an admin".to_string());
            } else {
                changes.push("kept as the last admin although not in the admin group".into());
            }
        }
        _ => {}
    }
    tx.commit().map_err(|e| failed(format!("storage: {e}")))?;
    Ok((technician, changes))
}

/// Text from outside, made safe for one log line.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::core::{
        CoreEdDsaPrivateSigningKey, CoreGenderClaim, CoreIdTokenClaims, CoreJsonWebKey,
    };
    use openidconnect::{
        Audience, EmptyAdditionalClaims, EndUserName, EndUserUsername, JsonWebKeyId,
        LocalizedClaim, PrivateSigningKey, StandardClaims, SubjectIdentifier,
    };

    const ISSUER: &str = "https://id.example.org";
    const CLIENT: &str = "connectit";

    fn key(kid: &str) -> CoreEdDsaPrivateSigningKey {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let text = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
        let lines: Vec<&str> = text
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let body = lines.join("\n");
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
        CoreEdDsaPrivateSigningKey::from_ed25519_pem(&pem, Some(JsonWebKeyId::new(kid.into())))
            .unwrap()
    }

    struct Made {
        issuer: &'static str,
        audience: &'static str,
        nonce: &'static str,
        expires_in: i64,
    }

    const GOOD: Made = Made {
        issuer: ISSUER,
        audience: CLIENT,
        nonce: "the nonce",
        expires_in: 300,
    };

    fn token(signer: &CoreEdDsaPrivateSigningKey, made: Made) -> CoreIdToken {
        let now = chrono::Utc::now();
        let mut name = LocalizedClaim::new();
        name.insert(None, EndUserName::new("Nora North".into()));
        let claims = CoreIdTokenClaims::new(
            IssuerUrl::new(made.issuer.into()).unwrap(),
            vec![Audience::new(made.audience.into())],
            now + chrono::Duration::seconds(made.expires_in),
            now,
            StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new("u-1".into()))
                .set_preferred_username(Some(EndUserUsername::new("Nora".into())))
                .set_name(Some(name)),
            EmptyAdditionalClaims {},
        )
        .set_nonce(Some(Nonce::new(made.nonce.into())));
        CoreIdToken::new(claims, signer, CoreJwsSigningAlgorithm::EdDsa, None, None).unwrap()
    }

    fn checks(
        keys: Vec<CoreJsonWebKey>,
        algs: Vec<CoreJwsSigningAlgorithm>,
    ) -> CoreIdTokenVerifier<'static> {
        verifier(
            CLIENT,
            "secret",
            IssuerUrl::new(ISSUER.into()).unwrap(),
            CoreJsonWebKeySet::new(keys),
            algs,
        )
    }

    #[test]
    fn an_id_token_passes_only_every_check() {
        let signer = key("k1");
        let published = vec![signer.as_verification_key()];
        let eddsa = vec![CoreJwsSigningAlgorithm::EdDsa];
        let v = checks(published.clone(), eddsa.clone());
        let nonce = Nonce::new("the nonce".into());

        let claims = verify(&token(&signer, GOOD), &v, &nonce).expect("a good token");
        assert_eq!(claims["preferred_username"], "Nora");
        assert_eq!(claims["sub"], "u-1");

        let refused = |t: CoreIdToken, v: &CoreIdTokenVerifier<'_>, n: &Nonce| {
            verify(&t, v, n).expect_err("refused").0
        };
        let other_nonce = Nonce::new("another".into());
        assert!(!refused(token(&signer, GOOD), &v, &other_nonce).is_empty());
        let wrong = |made| refused(token(&signer, made), &v, &nonce);
        wrong(Made {
            audience: "another-client",
            ..GOOD
        });
        wrong(Made {
            issuer: "https://evil.example.org",
            ..GOOD
        });
        wrong(Made {
            expires_in: -600,
            ..GOOD
        });
        // Signed with a key the provider does not publish.
        refused(token(&key("k1"), GOOD), &v, &nonce);
        // An algorithm the provider does not use.
        let rs256_only = checks(
            published,
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
        );
        refused(token(&signer, GOOD), &rs256_only, &nonce);
    }

    #[test]
    fn a_flow_cookie_is_good_only_unaltered_and_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let key = PinKey::load_or_create(dir.path()).unwrap();
        let seed = [7u8; 32];
        let value = flow_cookie(&key, &seed, 2_000);
        assert_eq!(flow_seed(&key, &value, 1_000), Some(seed));
        assert_eq!(flow_seed(&key, &value, 2_000), None, "expired");
        let mut bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
        bytes[0] ^= 1;
        assert_eq!(
            flow_seed(&key, &URL_SAFE_NO_PAD.encode(&bytes), 1_000),
            None
        );
        let other_dir = tempfile::tempdir().unwrap();
        let other = PinKey::load_or_create(other_dir.path()).unwrap();
        assert_eq!(flow_seed(&other, &value, 1_000), None, "another broker key");
        // State, nonce and verifier differ, and none is in the cookie.
        let s = derive(&key, &seed);
        assert_ne!(s.state, s.nonce);
        assert_eq!(s.verifier.len(), 43);
        for secret in [&s.state, &s.nonce, &s.verifier] {
            assert!(!value.contains(secret.as_str()));
        }
    }

    fn config() -> crate::config::Config {
        crate::config::Config {
            oidc_groups_claim: "groups".into(),
            oidc_admin_group: "admins".into(),
            ..Default::default()
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn claims_map_to_a_user_name_a_name_teams_and_the_admin_role() {
        let mapped = map_claims(
            &config(),
            ISSUER,
            &claims(serde_json::json!({
                "sub": "u-1", "preferred_username": " Nora ", "name": "Nora North",
                "groups": ["helpdesk", "admins"]
            })),
        )
        .unwrap();
        assert_eq!(mapped.subject, format!("{ISSUER} u-1"));
        assert_eq!(mapped.username, "nora");
        assert_eq!(mapped.display_name.as_deref(), Some("Nora North"));
        assert_eq!(mapped.admin, Some(true));
        let no_name = map_claims(
            &config(),
            ISSUER,
            &claims(serde_json::json!({ "sub": "u-2", "preferred_username": "a b" })),
        );
        assert!(no_name.is_err(), "a space is not in a user name");
        assert!(map_claims(&config(), ISSUER, &claims(serde_json::json!({}))).is_err());
        let without_groups = crate::config::Config {
            oidc_admin_group: "admins".into(),
            ..Default::default()
        };
        let m = map_claims(
            &without_groups,
            ISSUER,
            &claims(
                serde_json::json!({ "sub": "u", "preferred_username": "u", "groups": ["admins"] }),
            ),
        )
        .unwrap();
        assert_eq!(
            (m.teams, m.admin),
            (None, None),
            "groups are not read unless configured"
        );
    }

    #[test]
    fn userinfo_adds_only_for_the_same_subject() {
        let mut c = claims(serde_json::json!({ "sub": "u-1", "name": "From the token" }));
        merge_userinfo(
            &mut c,
            serde_json::json!({ "sub": "u-1", "name": "Other", "groups": ["g"] }),
        )
        .unwrap();
        assert_eq!(c["name"], "From the token");
        assert_eq!(c["groups"], serde_json::json!(["g"]));
        assert!(merge_userinfo(&mut c, serde_json::json!({ "sub": "u-2" })).is_err());
    }

    #[test]
    fn accounts_are_found_bound_created_and_refused() {
        let db = db::Db::in_memory().unwrap();
        let mapped = |username: &str, sub: &str, groups: &[&str], admin: Option<bool>| Mapped {
            subject: format!("{ISSUER} {sub}"),
            username: username.into(),
            display_name: None,
            teams: Some(groups.iter().map(|g| g.to_string()).collect()),
            admin,
        };
        db.blocking(|conn| {
            db::create_technician(conn, "admin", "The Admin", "x", 1)?;
            db::set_role(conn, "admin", AccountRole::Admin)?;
            db::create_team(conn, "helpdesk", "Help desk", 1)?;
            db::create_team(conn, "lab", "Lab", 1)?;

            // Created, with the team its groups name.
            let (nora, changes) =
                provision(conn, &mapped("nora", "n", &["helpdesk"], Some(false)), true).unwrap();
            assert!(
                changes.contains(&"account created".to_string()),
                "{changes:?}"
            );
            assert_eq!(db::team_refs_of(conn, nora.id)?.len(), 1);
            // Groups change: the teams follow.
            let (_, changes) =
                provision(conn, &mapped("nora", "n", &["lab"], Some(true)), true).unwrap();
            assert!(
                changes.contains(&"joined team lab".to_string()),
                "{changes:?}"
            );
            assert!(
                changes.contains(&"left team helpdesk".to_string()),
                "{changes:?}"
            );
            assert!(
                changes.contains(&"made an admin".to_string()),
                "{changes:?}"
            );
            // Another identity with the same user name: refused.
            let (code, _) =
                provision(conn, &mapped("nora", "someone-else", &[], None), true).unwrap_err();
            assert_eq!(code, ErrorCode::SingleSignOnFailed);
            // No account and none created.
            let (code, _) = provision(conn, &mapped("zed", "z", &[], None), false).unwrap_err();
            assert_eq!(code, ErrorCode::NoAccount);
            // Disabled.
            db::set_disabled(conn, "nora", true)?;
            let (code, _) = provision(conn, &mapped("nora", "n", &[], None), true).unwrap_err();
            assert_eq!(code, ErrorCode::AccountDisabled);
            // An existing local account is bound at its first sign-on; the last admin
            // stays one although the provider says otherwise.
            let (_, changes) =
                provision(conn, &mapped("admin", "a", &[], Some(false)), true).unwrap();
            assert!(
                changes.contains(&"account bound to this identity".to_string()),
                "{changes:?}"
            );
            assert_eq!(db::role_of(conn, 1)?, AccountRole::Admin, "{changes:?}");
            Ok(())
        })
        .unwrap();
    }
}
