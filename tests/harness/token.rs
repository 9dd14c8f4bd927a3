//! A token service as Docker Hub's (`auth.docker.io`): Basic credentials in, a signed JWT
//! out, so a real registry (`token` auth) can be run with bearer tokens on 127.0.0.1.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::json;

use super::http::{Reply, Request, Server};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A token service as Docker Hub's: Basic credentials in, a signed JWT out.
pub struct TokenService {
    pub server: Server,
    /// The certificate its tokens are signed with, for the registry's `rootcertbundle`.
    pub cert_pem: std::path::PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs")
        .status
        .success();
    assert!(ok, "openssl {args:?}");
}

impl TokenService {
    /// Serve on 127.0.0.1, with a fresh EC P-256 key and certificate made in `dir`, for the
    /// one user `user` with password `pass`.
    pub fn start(dir: &Path, user: &'static str, pass: &'static str) -> TokenService {
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "key.pem",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                "key.pem",
                "-out",
                "cert.pem",
                "-days",
                "2",
                "-subj",
                "/CN=pullfirst-token",
            ],
        );
        openssl(
            dir,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out",
                "key.pk8",
            ],
        );
        openssl(
            dir,
            &[
                "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
            ],
        );
        let pk8 = fs::read(dir.join("key.pk8")).expect("key");
        let cert = B64.encode(fs::read(dir.join("cert.der")).expect("cert"));
        let rng = ring::rand::SystemRandom::new();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &pk8,
            &rng,
        )
        .expect("an EC P-256 key");
        let server = Server::start(move |req: &Request| {
            let want = format!("Basic {}", B64.encode(format!("{user}:{pass}")));
            if req.header("authorization") != Some(want.as_str()) {
                return Reply::json(401, json!({"details": "incorrect username or password"}));
            }
            let scope = req
                .query("scope")
                .unwrap_or_default()
                .replace("%3A", ":")
                .replace("%2F", "/");
            let repo = scope.split(':').nth(1).unwrap_or_default().to_string();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let header = json!({"alg": "ES256", "typ": "JWT", "x5c": [cert]});
            let claims = json!({
                "iss": "pullfirst-issuer", "sub": user, "aud": "pullfirst-registry",
                "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{repo}"),
                "access": [{"type": "repository", "name": repo, "actions": ["pull"]}],
            });
            let signing_input = format!(
                "{}.{}",
                B64URL.encode(header.to_string()),
                B64URL.encode(claims.to_string())
            );
            let sig = key
                .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
                .expect("signs");
            let token = format!("{signing_input}.{}", B64URL.encode(sig.as_ref()));
            Reply::json(
                200,
                json!({"token": token, "access_token": token, "expires_in": 300}),
            )
        });
        TokenService {
            server,
            cert_pem: dir.join("cert.pem"),
        }
    }
}
