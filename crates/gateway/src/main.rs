//! Thin binary: load settings, start tracing, run a subcommand.

use clap::{Parser, Subcommand};
use gateway::settings::Settings;
use gateway::startup::Application;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "gateway",
    version,
    about = "pns: binding gateway for Huawei PrivateNumber AXB"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Exit 0 when this instance's /readyz answers 200 (for container health checks).
    Healthcheck,
    /// Mint a JWT with the configured PNS_JWT_SECRET.
    Token {
        #[arg(long)]
        app: String,
        /// Space-separated: bindings:read bindings:write admin
        #[arg(long)]
        scope: String,
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", gateway::openapi::document());
        return Ok(());
    }
    let settings = Settings::load()?;
    gateway::telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "pns gateway listening");
            if let Some(token) = app.admin_token() {
                // Printed, not logged: a developer convenience of sandbox mode only.
                println!("\nSandbox admin token (24 h):\n\n  export TOKEN={token}\n");
                println!("Swagger UI: http://127.0.0.1:{}/swagger-ui/\n", app.port());
            }
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = gateway::db::connect(
                &settings.database_url,
                2,
                settings.database_ca_file.as_deref(),
            )
            .await?;
            gateway::db::migrate(&db).await?;
            println!("migrations applied");
        }
        Command::Token { app, scope, ttl } => {
            let secret = settings
                .jwt_secret
                .clone()
                .ok_or_else(|| anyhow::anyhow!("PNS_JWT_SECRET must be set to mint a token"))?;
            let rules = gateway::auth::ClaimRules::from_settings(&settings);
            let jwt = gateway::auth::JwtConfig::with_rules(&secret, rules);
            println!(
                "{}",
                jwt.mint(&app, &scope, ttl)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
            );
        }
        Command::Healthcheck => gateway::service::ops::probe::healthcheck(&settings.listen).await?,
        Command::Openapi => unreachable!("handled above"),
    }
    Ok(())
}
