//! PostgreSQL over TLS with `sslmode=verify-full`: a TLS-terminating proxy (certificate from a test CA)
//! in front of the real PostgreSQL. The gateway connects through it when told to trust the CA
//! (`PNS_DATABASE_CA_FILE`), and refuses to when it is not.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

use crate::helpers::{Backend, TestDatabase, Upstream, fresh_database, spawn_on};

/// A CA (PEM) and a server configuration whose certificate it signed, for 127.0.0.1.
fn test_pki() -> (String, rustls::ServerConfig) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pns test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (ca_cert.pem(), config)
}

/// Speaks PostgreSQL's `SSLRequest` handshake, terminates TLS, and pipes to the plain server.
async fn tls_proxy(upstream: SocketAddr, config: rustls::ServerConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8];
                client.read_exact(&mut request).await?;
                // Length 8, code 80877103: the client asks for TLS; anything else is not for us.
                if request != [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f] {
                    return Ok::<_, std::io::Error>(());
                }
                client.write_all(b"S").await?;
                let mut tls = acceptor.accept(client).await?;
                let mut server = TcpStream::connect(upstream).await?;
                tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
                Ok(())
            });
        }
    });
    address
}

/// A fresh PostgreSQL database behind a TLS proxy: its `sslmode=verify-full` URL and the CA's PEM
/// file (in `dir`).
async fn tls_database(
    dir: &tempfile::TempDir,
) -> Option<(TestDatabase, url::Url, std::path::PathBuf)> {
    let database = fresh_database(Backend::Postgres, dir).await?;
    let url = url::Url::parse(&database.url).unwrap();
    let server: SocketAddr =
        tokio::net::lookup_host((url.host_str().unwrap(), url.port().unwrap_or(5432)))
            .await
            .unwrap()
            .next()
            .unwrap();
    let (ca_pem, config) = test_pki();
    let proxy = tls_proxy(server, config).await;
    let mut tls_url = url.clone();
    tls_url.set_host(Some("127.0.0.1")).unwrap();
    tls_url.set_port(Some(proxy.port())).unwrap();
    tls_url.set_query(Some("sslmode=verify-full"));
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    Some((database, tls_url, ca_file))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_works_with_the_configured_ca_and_fails_without() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_database, tls_url, ca_file)) = tls_database(&dir).await else {
        return;
    };

    // Not trusted: the certificate is refused, the gateway does not start.
    let untrusted = gateway::db::connect(tls_url.as_str(), 1, None).await;
    let error = untrusted.expect_err("an untrusted certificate is refused");
    assert!(
        format!("{error}").to_lowercase().contains("certificate"),
        "{error}"
    );

    // Trusted through PNS_DATABASE_CA_FILE: migrations run and the API works over TLS.
    let ca = ca_file.display().to_string();
    let app = spawn_on(
        tls_url.to_string(),
        tempfile::tempdir().unwrap(),
        Upstream::Sandbox,
        |raw| raw.database_ca_file = Some(ca),
    )
    .await
    .expect("the gateway starts over verify-full TLS");
    let token = app.writer("tls-app");
    assert_eq!(app.get(&token, "/v1/bindings").await.status(), 200);
}

/// The system's root store is trusted, not a bundled copy: the real binary, pointed at the test CA
/// through OpenSSL's `SSL_CERT_FILE` (how an operator's own CA reaches the system store in a
/// container), starts over `verify-full` without `PNS_DATABASE_CA_FILE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_trusts_the_system_roots() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_database, tls_url, ca_file)) = tls_database(&dir).await else {
        return;
    };
    let gateway = crate::ops::process::Gateway::start(&[
        ("PNS_DATABASE_URL", tls_url.to_string()),
        ("SSL_CERT_FILE", ca_file.display().to_string()),
    ]);
    let ready = reqwest::get(format!("{}/readyz", gateway.address))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{}", gateway.output());
}
