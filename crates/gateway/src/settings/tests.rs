use super::*;

#[test]
fn production_requires_secrets_and_names_the_key() {
    let raw = RawSettings {
        upstream_url: Some("https://example.invalid".into()),
        ..RawSettings::default()
    };
    let err = Settings::from_raw(raw).unwrap_err();
    assert_eq!(err.key, "PNS_APP_KEY");
    let raw = RawSettings {
        upstream_url: Some("https://example.invalid".into()),
        app_key: Some("k".into()),
        app_secret: Some("s".into()),
        ..RawSettings::default()
    };
    assert_eq!(Settings::from_raw(raw).unwrap_err().key, "PNS_JWT_SECRET");
}

#[test]
fn defaults_are_a_sandbox_on_sqlite() {
    let settings = Settings::from_raw(RawSettings::default()).unwrap();
    assert!(settings.is_sandbox());
    assert!(settings.database_url.starts_with("sqlite:"));
    assert_eq!(settings.listen, "127.0.0.1:8080");
}

#[test]
fn operations_settings_have_safe_defaults_and_checks() {
    let settings = Settings::from_raw(RawSettings::default()).unwrap();
    assert_eq!(
        (settings.rate_limit_per_sec, settings.rate_limit_burst),
        (200, 400)
    );
    assert!(settings.metrics_token.is_none());
    assert_eq!(settings.shutdown_timeout, Duration::from_secs(30));
    let raw = RawSettings {
        metrics_token: Some("short".into()),
        ..RawSettings::default()
    };
    assert_eq!(
        Settings::from_raw(raw).unwrap_err().key,
        "PNS_METRICS_TOKEN"
    );
}

fn production(tweak: impl FnOnce(&mut RawSettings)) -> Result<Settings, SettingsError> {
    let mut raw = RawSettings {
        upstream_url: Some("https://rtcpns.cn-north-1.myhuaweicloud.com".into()),
        app_key: Some("k".into()),
        app_secret: Some("s".into()),
        jwt_secret: Some("j".repeat(32)),
        ..RawSettings::default()
    };
    tweak(&mut raw);
    Settings::from_raw(raw)
}

#[test]
fn production_refuses_unverified_callbacks_without_an_allowlist() {
    let err = production(|raw| raw.callback_verify = false).unwrap_err();
    assert_eq!(err.key, "PNS_CALLBACK_VERIFY");
    assert!(err.reason.contains("PNS_CALLBACK_ALLOW_IPS"), "{err}");
    let allowed = production(|raw| {
        raw.callback_verify = false;
        raw.callback_allow_ips = Some("198.51.100.7".into());
    });
    assert!(!allowed.unwrap().callback_verify);
    // The sandbox's own simulator signs; switching it off there stays a developer's choice.
    let sandbox = Settings::from_raw(RawSettings {
        callback_verify: false,
        ..RawSettings::default()
    });
    assert!(sandbox.is_ok());
}

#[test]
fn production_refuses_plain_http_upstream_unless_loopback() {
    let err = production(|raw| raw.upstream_url = Some("http://10.1.2.3:8443".into()));
    let err = err.unwrap_err();
    assert_eq!(err.key, "PNS_UPSTREAM_URL");
    assert!(err.reason.contains("https://"), "{err}");
    for loopback in [
        "http://127.0.0.1:9090",
        "http://localhost:9090",
        "http://[::1]:9090",
    ] {
        let ok = production(|raw| raw.upstream_url = Some(loopback.into()));
        assert!(ok.is_ok(), "{loopback}: {:?}", ok.err());
    }
}

#[test]
fn a_missing_database_ca_file_is_refused_by_name() {
    let err = production(|raw| raw.database_ca_file = Some("/nonexistent/ca.pem".into()));
    assert_eq!(err.unwrap_err().key, "PNS_DATABASE_CA_FILE");
}

#[test]
fn retention_keeps_idempotency_keys_a_day_and_the_rest_for_ever() {
    let r = Settings::from_raw(RawSettings::default())
        .unwrap()
        .retention;
    assert_eq!(r.idempotency_keys, Some(Duration::from_secs(24 * 3600)));
    assert_eq!(r.interval, Some(Duration::from_secs(3600)));
    assert_eq!((r.cdrs, r.call_events, r.raw_callbacks), (None, None, None));
    assert_eq!(
        (r.calls, r.sms, r.reconcile, r.number_status),
        (None, None, None, None)
    );
    let raw = RawSettings {
        retention_cdrs_days: 400,
        retention_idempotency_keys_hours: 0,
        ..RawSettings::default()
    };
    let r = Settings::from_raw(raw).unwrap().retention;
    assert_eq!(r.cdrs, Some(Duration::from_secs(400 * 86_400)));
    assert_eq!(r.idempotency_keys, None);
    let raw = RawSettings {
        retention_sms_days: u64::MAX,
        ..RawSettings::default()
    };
    assert_eq!(
        Settings::from_raw(raw).unwrap_err().key,
        "PNS_RETENTION_SMS_DAYS"
    );
}

#[test]
fn webhook_settings_default_to_public_targets_in_production_and_check_their_lists() {
    let production = RawSettings {
        upstream_url: Some("https://example.invalid".into()),
        app_key: Some("k".into()),
        app_secret: Some("s".into()),
        jwt_secret: Some("j".repeat(32)),
        ..RawSettings::default()
    };
    let settings = Settings::from_raw(production.clone()).unwrap();
    assert_eq!(settings.webhooks.allowed_networks, [AllowedNetwork::Public]);
    assert_eq!(settings.webhooks.retry_schedule.len(), 8);
    assert_eq!(settings.webhooks.timeout, Duration::from_secs(15));
    for (raw, key) in [
        (
            RawSettings {
                webhook_allowed_networks: Some("public,10.0.0.0/33".into()),
                ..production.clone()
            },
            "PNS_WEBHOOK_ALLOWED_NETWORKS",
        ),
        (
            RawSettings {
                webhook_retry_schedule_secs: "0,five".into(),
                ..production.clone()
            },
            "PNS_WEBHOOK_RETRY_SCHEDULE_SECS",
        ),
    ] {
        assert_eq!(Settings::from_raw(raw).unwrap_err().key, key);
    }
}

#[test]
fn bad_listen_is_refused() {
    let raw = RawSettings {
        listen: "nope".into(),
        ..RawSettings::default()
    };
    assert_eq!(Settings::from_raw(raw).unwrap_err().key, "PNS_LISTEN");
}
