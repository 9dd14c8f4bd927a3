//! GitHub over TLS: a private CA named by `SSL_CERT_FILE` is trusted, and without it the
//! stand-in's certificate is refused, for good.

use std::process::Command;

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::tempdir;

use super::vcheck;

/// A throwaway CA and a certificate for `localhost` (the stand-in's TLS address) signed by it.
pub(crate) fn certificates(dir: &std::path::Path) {
    let script = "set -e
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
          -keyout ca.key -out ca.pem -subj /CN=pullfirst-test-ca -days 2
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
          -keyout srv.key -out srv.csr -subj /CN=localhost
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
          -out srv.pem -days 2 -extfile ext";
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_private_ca_in_ssl_cert_file_is_trusted_and_nothing_else() {
    let d = tempdir();
    certificates(d.path());
    let gh = FakeGitHub::start_tls(
        State {
            repos: repos(&[("o/app", Repo::of(vec![Release::new("v2.0.0")]))]),
            ..State::default()
        },
        &d.path().join("srv.pem"),
        &d.path().join("srv.key"),
    );
    assert!(gh.url().starts_with("https://localhost:"), "{}", gh.url());
    let ca = d.path().join("ca.pem").display().to_string();
    let ran = vcheck(&gh, d.path(), "--current v1.0.0 app=github:o/app")
        .env("SSL_CERT_FILE", &ca)
        .run()
        .success();
    assert_eq!(ran.records()[0]["latest"], "v2.0.0");
    assert_eq!(ran.records()[0]["update"], true);
    // Without the CA the certificate is refused, as permanent: retrying will not help.
    let refused = vcheck(
        &gh,
        &d.path().join("other-cache"),
        "--current v1.0.0 app=github:o/app",
    )
    .env("SSL_CERT_FILE", "/nonexistent/ca.pem")
    .run()
    .code(1);
    assert_eq!(refused.records()[0]["ok"], false);
    assert_eq!(refused.records()[0]["error"]["kind"], "permanent");
}
