//! Command line of the `pns-sim` binary; every flag can also come from a `PNS_SIM_*` variable.

use std::net::SocketAddr;

use clap::Parser;

use crate::config::{SimConfig, SimNumber};

#[derive(Parser, Debug)]
#[command(
    name = "pns-sim",
    version,
    about = "Simulator of Huawei Cloud PrivateNumber (AXB mode)"
)]
pub struct Cli {
    /// Address to serve on; port 0 picks a free one (the first line printed says which).
    #[arg(long, env = "PNS_SIM_LISTEN", default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,
    #[arg(long, env = "PNS_SIM_APP_KEY")]
    pub app_key: String,
    #[arg(long, env = "PNS_SIM_APP_SECRET", hide_env_values = true)]
    pub app_secret: String,
    /// X numbers owned by the app, comma separated: `+8617000000001` or `+8617000000001@0755`
    /// (default area 0755).
    #[arg(long, env = "PNS_SIM_NUMBERS", value_delimiter = ',', required = true)]
    pub numbers: Vec<SimNumber>,
    /// Where call events, CDRs, SMS and number status are pushed.
    #[arg(long, env = "PNS_SIM_CALLBACK_URL")]
    pub callback_url: Option<String>,
    #[arg(long, env = "PNS_SIM_CAPACITY_PER_NUMBER", default_value_t = 5_000)]
    pub capacity_per_number: usize,
}

impl Cli {
    pub fn into_config(self) -> SimConfig {
        let mut cfg = SimConfig::new(self.app_key, self.app_secret, self.numbers);
        cfg.callback_url = self.callback_url;
        cfg.capacity_per_number = self.capacity_per_number;
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_with_and_without_area() {
        let cli = Cli::try_parse_from([
            "pns-sim",
            "--listen",
            "127.0.0.1:0",
            "--app-key",
            "k",
            "--app-secret",
            "s",
            "--numbers",
            "+8617000000001,+8617000000002@010",
        ])
        .unwrap();
        let cfg = cli.into_config();
        assert_eq!(cfg.numbers[0].area_code, "0755");
        assert_eq!(cfg.numbers[1].area_code, "010");
        assert!(cfg.validate().is_ok());
    }
}
