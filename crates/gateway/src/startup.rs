//! Builds the application: database, upstream (real or sandbox), HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use pns_core::aksk::Credentials;
use pns_upstream::{ClientConfig, HuaweiClient, Upstream};
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Authenticator, ClaimRules, Jwks, JwtConfig, Refresher};
use crate::middleware::body_guard::{self, BodyReadTimeout};
use crate::middleware::json_errors::json_errors;
use crate::middleware::rate_limit::{self, RateLimit};
use crate::routes;
#[cfg(feature = "sandbox")]
use crate::sandbox::{self, Sandbox};
use crate::service::callbacks::verify::CallbackGuard;
use crate::service::jobs::Jobs;
use crate::service::ops::probe::{DatabaseProbe, UpstreamProbe};
use crate::settings::{Settings, UpstreamMode};
use crate::state::AppState;
use crate::telemetry::{self, RequestSpan, request_id};

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    #[cfg(feature = "sandbox")]
    sandbox: Option<Sandbox>,
    admin_token: Option<String>,
    jobs: Jobs,
    /// Keeps the identity provider's keys fresh; stops with the application.
    _jwks_refresher: Option<Refresher>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::telemetry::metrics::install();
        let listener = TcpListener::bind(&settings.listen)?;
        let port = listener.local_addr()?.port();
        let db = crate::db::connect(
            &settings.database_url,
            settings.db_max_connections,
            settings.database_ca_file.as_deref(),
        )
        .await?;
        crate::db::migrate(&db).await?;
        crate::service::deployment::ensure_mode(&db, settings.is_sandbox()).await?;
        #[cfg(feature = "sandbox")]
        if let UpstreamMode::Sandbox { numbers } = &settings.upstream {
            // The simulator's numbers are the pool, so allocation works out of the box.
            crate::service::pool::admin::seed(&db, numbers).await?;
        }

        let platform = platform(&settings, port).await?;
        let (auth, admin_token, jwks_refresher) = authenticator(&settings).await?;
        let callbacks = Arc::new(CallbackGuard::new(platform.callback_credentials, &settings));
        let state = AppState {
            group_commit: crate::repo::GroupCommit::start(&db),
            db,
            upstream: platform.upstream,
            settings: Arc::new(settings),
            #[cfg(feature = "sandbox")]
            sandbox: platform.sandbox.as_ref().map(|s| s.sim.control()),
            callbacks,
            jobs: crate::state::JobsHealth::default(),
        };
        let server = server(listener, state.clone(), auth)?;
        let jobs = Jobs::start(&state);
        Ok(Self {
            port,
            server,
            state,
            #[cfg(feature = "sandbox")]
            sandbox: platform.sandbox,
            admin_token,
            jobs,
            _jwks_refresher: jwks_refresher,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Sandbox only: a token minted with the generated JWT secret (admin scope, 24 h).
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        tracing::info!("HTTP server stopped; stopping background jobs");
        // A round in progress finishes, but a stop stays bounded: past the timeout the round is
        // abandoned (the lease expires and reconciliation picks up whatever it left half done).
        let grace = self.state.settings.shutdown_timeout;
        if tokio::time::timeout(grace, self.jobs.stop()).await.is_err() {
            tracing::warn!(
                ?grace,
                "background jobs did not stop in time; abandoning them"
            );
        }
        #[cfg(feature = "sandbox")]
        if let Some(sandbox) = self.sandbox {
            sandbox.sim.stop().await;
        }
        tracing::info!("stopped");
        result
    }
}

/// Who may call: HS256 tokens (the configured secret; in sandbox mode a generated one, with an admin
/// token minted from it) and/or the identity provider's tokens, whose keys are fetched here.
async fn authenticator(
    settings: &Settings,
) -> anyhow::Result<(Authenticator, Option<String>, Option<Refresher>)> {
    let rules = ClaimRules::from_settings(settings);
    let secret = match (&settings.jwt_secret, settings.is_sandbox()) {
        (Some(secret), _) => Some(secret.clone()),
        #[cfg(feature = "sandbox")]
        (None, true) => Some(secrecy::SecretString::from(sandbox::random_secret(48))),
        _ => None,
    };
    let minter = secret.map(|secret| JwtConfig::with_rules(&secret, rules.clone()));
    let admin_token = match (&minter, &settings.jwt_secret) {
        (Some(minter), None) => Some(minter.mint(
            "sandbox-admin",
            "admin bindings:read bindings:write",
            24 * 3600,
        )?),
        _ => None,
    };
    let (jwks, refresher) = match &settings.jwt_jwks {
        Some(provider) => {
            let (jwks, refresher) = Jwks::start(provider).await?;
            (Some(jwks), Some(refresher))
        }
        None => (None, None),
    };
    let auth = Authenticator::new(rules, minter.as_ref(), jwks);
    Ok((auth, admin_token, refresher))
}

/// The platform this instance talks to, and the credentials its callbacks are signed with.
struct Platform {
    upstream: Arc<dyn Upstream>,
    callback_credentials: Credentials,
    #[cfg(feature = "sandbox")]
    sandbox: Option<Sandbox>,
}

async fn platform(settings: &Settings, port: u16) -> anyhow::Result<Platform> {
    let config = |url: url::Url, credentials: Credentials, ca: Option<Vec<u8>>| ClientConfig {
        base_url: url,
        credentials,
        connect_timeout: settings.upstream_connect_timeout,
        timeout: settings.upstream_timeout,
        extra_root_ca_pem: ca,
        max_retries: settings.upstream_max_retries,
        retry_base_delay: std::time::Duration::from_millis(100),
    };
    match &settings.upstream {
        UpstreamMode::Production {
            url,
            app_key,
            app_secret,
            ca_file,
        } => {
            let ca = ca_file.as_ref().map(std::fs::read).transpose()?;
            let credentials = Credentials::new(app_key.clone(), app_secret.expose_secret());
            let client = HuaweiClient::new(config(url.clone(), credentials.clone(), ca))?;
            Ok(Platform {
                upstream: Arc::new(client),
                callback_credentials: credentials,
                #[cfg(feature = "sandbox")]
                sandbox: None,
            })
        }
        #[cfg(feature = "sandbox")]
        UpstreamMode::Sandbox { numbers } => {
            let callback_url = match &settings.public_url {
                Some(public) => format!("{}/callbacks/huawei", public.trim_end_matches('/')),
                None => format!("http://127.0.0.1:{port}/callbacks/huawei"),
            };
            let sandbox = sandbox::start(numbers, callback_url).await?;
            let url = url::Url::parse(&sandbox.sim.base_url())?;
            let credentials = Credentials::new(sandbox.app_key.clone(), sandbox.app_secret.clone());
            let client = HuaweiClient::new(config(url, credentials.clone(), None))?;
            Ok(Platform {
                upstream: Arc::new(client),
                callback_credentials: credentials,
                sandbox: Some(sandbox),
            })
        }
        #[cfg(not(feature = "sandbox"))]
        UpstreamMode::Sandbox { .. } => {
            let _ = port;
            anyhow::bail!("PNS_UPSTREAM_URL: required, this build has no sandbox")
        }
    }
}

fn server(listener: TcpListener, state: AppState, auth: Authenticator) -> anyhow::Result<Server> {
    let body_limit = state.settings.body_limit_bytes;
    let shutdown_timeout = state.settings.shutdown_timeout.as_secs();
    let rate_limit = web::Data::new(RateLimit::new(
        state.settings.rate_limit_per_sec,
        state.settings.rate_limit_burst,
    ));
    let probe = web::Data::new(match &state.settings.upstream {
        UpstreamMode::Production { url, .. } => UpstreamProbe::new(Some(url)),
        UpstreamMode::Sandbox { .. } => UpstreamProbe::sandbox(),
    });
    let database_probe = web::Data::new(DatabaseProbe::default());
    let body_timeout = web::Data::new(BodyReadTimeout(state.settings.body_read_timeout));
    let state = web::Data::new(state);
    let auth = web::Data::new(auth);
    let server = HttpServer::new(move || {
        // The last `wrap` runs first: request id, then the span, metrics, rate limit, body guard,
        // JSON errors.
        App::new()
            .wrap(json_errors())
            .wrap(from_fn(body_guard::middleware))
            .wrap(from_fn(rate_limit::middleware))
            .wrap(from_fn(telemetry::metrics::http_middleware))
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(from_fn(request_id::middleware))
            .app_data(state.clone())
            .app_data(auth.clone())
            .app_data(rate_limit.clone())
            .app_data(probe.clone())
            .app_data(database_probe.clone())
            .app_data(body_timeout.clone())
            .app_data(routes::json_config(body_limit))
            .app_data(routes::path_config())
            .app_data(routes::query_config())
            .configure(routes::configure)
            .service(
                SwaggerUi::new("/swagger-ui/{_:.*}")
                    .url("/api-docs/openapi.json", crate::openapi::api_doc()),
            )
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(shutdown_timeout)
    .run();
    Ok(server)
}
