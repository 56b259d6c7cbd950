//! Sandbox mode: the pns-sim engine runs in-process on a loopback port with a generated key and
//! secret, and posts its callbacks to this gateway. One command gives a working service.

use std::net::TcpListener;

use pns_sim::{RunningSim, SimConfig, SimNumber};
use rand::distr::{Alphanumeric, SampleString};

pub struct Sandbox {
    pub sim: RunningSim,
    pub app_key: String,
    pub app_secret: String,
}

pub fn random_secret(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

pub async fn start(numbers: &[(String, String)], callback_url: String) -> anyhow::Result<Sandbox> {
    let app_key = format!("sandbox-{}", random_secret(8));
    let app_secret = random_secret(32);
    let numbers = numbers
        .iter()
        .map(|(number, area)| SimNumber::new(number, area))
        .collect();
    let mut config = SimConfig::new(&app_key, &app_secret, numbers);
    config.callback_url = Some(callback_url);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let sim = pns_sim::start(config, listener).await?;
    tracing::warn!(
        upstream = %sim.base_url(),
        "SANDBOX MODE: bindings go to an in-process simulator, not to Huawei. Set PNS_UPSTREAM_URL for production."
    );
    Ok(Sandbox {
        sim,
        app_key,
        app_secret,
    })
}
