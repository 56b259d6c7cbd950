use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

const KEY: &str = "a1b2c3d4e5";
const SECRET: &str = "cfc8f0e1d2c3b4a5968778695a4b3c2d";
const NONCE: &str = "0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f50";

fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2019, 1, 23, 9, 15, 14).unwrap()
}

fn verifier() -> Verifier {
    verifier_with(Credentials::new(KEY, SECRET))
}

fn verifier_with(credentials: Credentials) -> Verifier {
    let window = DEFAULT_SKEW_WINDOW;
    Verifier::new(
        credentials,
        window,
        Arc::new(InMemoryReplayGuard::new(window, 1024)),
    )
}

fn x_aksk(username: &str, digest: &str, nonce: &str, created: &str) -> String {
    format!(
        r#"UsernameToken Username="{username}",PasswordDigest="{digest}",Nonce="{nonce}",Created="{created}""#
    )
}

// Expected values computed once with python3, using the body of the samples' `buildAKSKHeader` verbatim
// (hmac.new(appSecret.encode(), (nonce + now).encode(), digestmod=sha256), base64.b64encode, the same
// format string) with the nonce and `now` passed in instead of generated.
#[test]
fn matches_the_python_sample_byte_for_byte() {
    let signed = Credentials::new(KEY, SECRET).sign_with(NONCE, created());
    assert_eq!(
        signed.x_aksk,
        r#"UsernameToken Username="a1b2c3d4e5",PasswordDigest="yLGZ7/qJ4LAIjMEWZ0nQbiJySWkvc8P7la3Fso5x5tE=",Nonce="0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f50",Created="2019-01-23T09:15:14Z""#
    );
    assert_eq!(
        signed.authorization,
        r#"AKSK realm="SDP",profile="UsernameToken",type="Appkey""#
    );
    // Non-ASCII secret: the sample encodes it as UTF-8 before keying the HMAC.
    assert_eq!(
        password_digest("密钥-secret", "Nonce123", "2024-02-29T23:59:59Z"),
        "mWNcIW6QWMD3edcbjBSBRVMld7EbEvJZetC8J6UrrNo="
    );
}

#[test]
fn nonces_look_like_the_samples_and_do_not_repeat() {
    let a = new_nonce();
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_ne!(a, new_nonce());
}

#[test]
fn debug_never_shows_the_secret() {
    let creds = Credentials::new(KEY, SECRET);
    let shown = format!("{creds:?} {:?}", verifier());
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains(KEY));
}

#[test]
fn parses_a_signed_header_in_any_attribute_order() {
    let signed = Credentials::new(KEY, SECRET).sign_with(NONCE, created());
    let h = XAksk::parse(&signed.x_aksk).unwrap();
    assert_eq!(
        (h.username, h.nonce, h.created),
        (KEY, NONCE, "2019-01-23T09:15:14Z")
    );
    let reordered = format!(
        r#"UsernameToken Created="2019-01-23T09:15:14Z",Nonce="{NONCE}",PasswordDigest="{}",Username="{KEY}""#,
        h.password_digest
    );
    assert_eq!(XAksk::parse(&reordered).unwrap(), h);
}

#[test]
fn rejects_every_malformed_shape() {
    let d = "yLGZ7/qJ4LAIjMEWZ0nQbiJySWkvc8P7la3Fso5x5tE=";
    let c = "2019-01-23T09:15:14Z";
    let long_nonce = "a".repeat(129);
    let cases: Vec<String> = vec![
        String::new(),
        "UsernameToken".into(),
        "UsernameToken ".into(),
        x_aksk(KEY, d, NONCE, c).replacen("UsernameToken ", "usernametoken ", 1),
        x_aksk(KEY, d, NONCE, c).replacen("UsernameToken ", "UsernameToken  ", 1),
        x_aksk(KEY, d, NONCE, c).replacen("UsernameToken ", "WSSE ", 1),
        format!("{},", x_aksk(KEY, d, NONCE, c)),
        format!(r#"{},Extra="1""#, x_aksk(KEY, d, NONCE, c)),
        format!(r#"{},Nonce="abc""#, x_aksk(KEY, d, NONCE, c)),
        x_aksk(KEY, d, NONCE, c).replace(r#",Created="2019-01-23T09:15:14Z""#, ""),
        x_aksk(KEY, d, NONCE, c).replace(r#"Username="a1b2c3d4e5","#, ""),
        x_aksk(KEY, d, NONCE, c).replace(&format!(r#""{NONCE}""#), NONCE),
        x_aksk(KEY, d, NONCE, c).replace('"', "'"),
        x_aksk(KEY, d, NONCE, c).replace(",Nonce", ", Nonce"),
        format!("{} ", x_aksk(KEY, d, NONCE, c)),
        x_aksk(KEY, d, NONCE, c).replace("Nonce=", "Nonce ="),
        x_aksk(KEY, d, NONCE, c).replace("Nonce=", "nonce="),
        x_aksk("", d, NONCE, c),
        x_aksk("a b", d, NONCE, c),
        x_aksk(KEY, "", NONCE, c),
        x_aksk(KEY, "not base64!", NONCE, c),
        x_aksk(KEY, d, "", c),
        x_aksk(KEY, d, &long_nonce, c),
        x_aksk(KEY, d, "0d1e2f3a-4b5c", c),
        x_aksk(KEY, d, "nonce_1", c),
        x_aksk(KEY, d, "ñonce", c),
        x_aksk(KEY, d, NONCE, ""),
        x_aksk(KEY, d, NONCE, "2019-01-23T09:15:14.000Z"),
        x_aksk(KEY, d, NONCE, "2019-01-23 09:15:14Z"),
        x_aksk(KEY, d, NONCE, "2019-01-23T09:15:14"),
        x_aksk(KEY, d, NONCE, "2019-01-23T09:15:14+08:00"),
        x_aksk(KEY, d, NONCE, "2019-1-23T09:15:14Z"),
        x_aksk(KEY, d, NONCE, "2019-02-30T09:15:14Z"),
        x_aksk(KEY, d, NONCE, "2019-01-23T24:15:14Z"),
        x_aksk(KEY, d, NONCE, "+019-01-23T09:15:14Z"),
        x_aksk(KEY, d, NONCE, "２019-01-23T09:15:14Z"),
    ];
    for case in &cases {
        assert!(
            matches!(XAksk::parse(case), Err(AkskError::Malformed(_))),
            "should be malformed: {case:?}"
        );
    }
    // Exactly 128 characters is still fine.
    assert!(XAksk::parse(&x_aksk(KEY, d, &"a".repeat(128), c)).is_ok());
}

#[test]
fn created_parsing_is_exact() {
    assert_eq!(parse_created("2019-01-23T09:15:14Z"), Some(created()));
    assert_eq!(format_created(created()), "2019-01-23T09:15:14Z");
    assert_eq!(parse_created("2019-01-23T09:15:14z"), None);
}

#[test]
fn verifies_a_fresh_signature_once() {
    let v = verifier();
    let signed = Credentials::new(KEY, SECRET).sign_with(NONCE, created());
    let auth = Some(signed.authorization);
    assert_eq!(v.verify(auth, Some(&signed.x_aksk), created()), Ok(()));
    assert_eq!(
        v.verify(auth, Some(&signed.x_aksk), created()),
        Err(AkskError::Replayed)
    );
}

#[test]
fn reports_each_failure_precisely() {
    let v = verifier();
    let now = created();
    let good = Credentials::new(KEY, SECRET).sign_with(NONCE, now);
    let x = Some(good.x_aksk.as_str());
    assert_eq!(v.verify(None, x, now), Err(AkskError::MissingAuthorization));
    assert_eq!(
        v.verify(Some("Basic abc"), x, now),
        Err(AkskError::InvalidAuthorization)
    );
    let wsse = r#"WSSE realm="SDP",profile="UsernameToken",type="Appkey""#;
    assert_eq!(
        v.verify(Some(wsse), x, now),
        Err(AkskError::InvalidAuthorization)
    );
    assert_eq!(
        v.verify(Some(AUTHORIZATION), None, now),
        Err(AkskError::MissingXAksk)
    );
    assert!(matches!(
        v.verify(Some(AUTHORIZATION), Some("garbage"), now),
        Err(AkskError::Malformed(_))
    ));

    let other_key = Credentials::new("someone-else", SECRET).sign_with(NONCE, now);
    assert_eq!(
        v.verify(Some(AUTHORIZATION), Some(&other_key.x_aksk), now),
        Err(AkskError::UnknownAppKey)
    );
    let other_secret = Credentials::new(KEY, "wrong").sign_with(NONCE, now);
    assert_eq!(
        v.verify(Some(AUTHORIZATION), Some(&other_secret.x_aksk), now),
        Err(AkskError::BadDigest)
    );
    // A forged attempt must not burn the nonce of the genuine request.
    assert_eq!(v.verify(Some(AUTHORIZATION), x, now), Ok(()));
}

#[test]
fn clock_skew_window_applies_both_ways() {
    let creds = Credentials::new(KEY, SECRET);
    let v = verifier();
    let now = created();
    for (i, (offset, ok)) in [(-300, true), (300, true), (-301, false), (301, false)]
        .into_iter()
        .enumerate()
    {
        let signed = creds.sign_with(&format!("n{i}"), now + TimeDelta::seconds(offset));
        let got = v.verify(Some(AUTHORIZATION), Some(&signed.x_aksk), now);
        let want = if ok {
            Ok(())
        } else {
            Err(AkskError::CreatedOutsideWindow)
        };
        assert_eq!(got, want, "offset {offset}");
    }
}

#[test]
fn errors_map_to_the_platforms_codes() {
    use crate::result_code::ResultCode as R;
    assert_eq!(
        AkskError::MissingAuthorization.result_code(),
        R::AuthHeaderInvalid(1_023_006)
    );
    assert_eq!(AkskError::MissingXAksk.result_code().code(), "1023033");
    assert_eq!(AkskError::CreatedOutsideWindow.result_code(), R::ClockSkew);
    assert_eq!(AkskError::UnknownAppKey.result_code(), R::InvalidAppKey);
    let malformed_nonce =
        XAksk::parse(&x_aksk(KEY, "abc=", "bad-nonce", "2019-01-23T09:15:14Z")).unwrap_err();
    assert_eq!(malformed_nonce.result_code().code(), "1023035");
    for e in [
        AkskError::InvalidAuthorization,
        AkskError::BadDigest,
        AkskError::Replayed,
        malformed_nonce,
    ] {
        assert!(
            !e.result_code().is_retryable() && !e.result_code().is_success(),
            "{e}"
        );
    }
}

proptest! {
    #[test]
    fn any_nonce_and_secret_round_trip(
        nonce in "[A-Za-z0-9]{1,128}",
        secret in any::<String>(),
        key in "[!-~&&[^\"]]{1,64}",
        offset in -300i64..=300,
    ) {
        let creds = Credentials::new(key, secret);
        let v = verifier_with(creds.clone());
        let signed = creds.sign_with(&nonce, created() + TimeDelta::seconds(offset));
        prop_assert_eq!(v.verify(Some(signed.authorization), Some(&signed.x_aksk), created()), Ok(()));
    }

    #[test]
    fn any_single_byte_change_of_the_digest_fails(
        nonce in "[A-Za-z0-9]{1,128}",
        secret in any::<String>(),
        index in any::<prop::sample::Index>(),
        replacement in 0x20u8..0x7f,
    ) {
        let creds = Credentials::new(KEY, secret);
        let signed = creds.sign_with(&nonce, created());
        let digest = XAksk::parse(&signed.x_aksk).unwrap().password_digest.to_owned();
        let mut bytes = digest.clone().into_bytes();
        let i = index.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let tampered = String::from_utf8(bytes).unwrap();
        let header = signed.x_aksk.replacen(&digest, &tampered, 1);
        prop_assert!(verifier_with(creds).verify(Some(AUTHORIZATION), Some(&header), created()).is_err());
    }

    #[test]
    fn parsing_and_verifying_never_panic(header in any::<String>(), auth in any::<String>()) {
        let _ = XAksk::parse(&header);
        let _ = verifier().verify(Some(&auth), Some(&header), created());
        let _ = verifier().verify(Some(AUTHORIZATION), Some(&header), created());
    }

    #[test]
    fn near_miss_headers_never_panic(
        suffix in r#"[A-Za-z"=, ]{0,80}"#,
    ) {
        let _ = XAksk::parse(&format!("UsernameToken {suffix}"));
    }
}
