//! What an engine answers is checked as strictly as what comes from upstream, before any of
//! it reaches a record: an image ID is `sha256:` and 64 hex digits, every `RepoDigests` entry
//! is `REPOSITORY@DIGEST`, a digest is a digest, and a pull-stream frame that is not progress
//! is an error even when it does not say so the way bollard expects.
//!
//! An answer that fails these checks fails the record as permanent: an engine that answers
//! nonsense will not answer better on a retry, and what it said never goes further than the
//! error message (quoted, cut short).

use bollard::models::CreateImageInfo;
use pullfirst::grammar::{is_valid_digest, ImageRef};

/// An image ID as engines give it since content addressing: `sha256:` and 64 lowercase hex
/// digits.
pub fn is_image_id(id: &str) -> bool {
    id.starts_with("sha256:") && is_valid_digest(id)
}

/// The digest `RepoDigests` gives for the repository `is_repo` accepts (the engine's own
/// spelling of it); Err with the first entry that is not `REPOSITORY@DIGEST`, wherever it is in
/// the list.
pub fn repo_digest(
    entries: &[String],
    is_repo: impl Fn(&str) -> bool,
) -> Result<Option<&str>, &str> {
    let mut found = None;
    for entry in entries {
        let (repo, digest) = entry.split_once('@').ok_or(entry.as_str())?;
        let plain_repo = ImageRef::parse(repo)
            .is_ok_and(|r| r.tag.is_none() && r.digest.is_none() && r.repository() == repo);
        if !plain_repo || !is_valid_digest(digest) {
            return Err(entry);
        }
        if found.is_none() && is_repo(repo) {
            found = Some(digest);
        }
    }
    Ok(found)
}

/// Why a pull-stream frame is an error, when it is one that bollard lets through: an
/// `errorDetail` without a message, or a frame with no status at all (the engine's `error`
/// field, which bollard's model drops; every progress frame carries a status).
pub fn error_frame(info: &CreateImageInfo) -> Option<String> {
    if let Some(detail) = &info.error_detail {
        return Some(match detail.code {
            Some(code) => format!("an error frame without a message (code {code})"),
            None => "an error frame without a message".to_string(),
        });
    }
    info.status
        .is_none()
        .then(|| "a frame with no status: an error ipull cannot read".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ErrorDetail;

    fn hex(c: char) -> String {
        c.to_string().repeat(64)
    }

    #[test]
    fn image_ids_are_sha256_digests() {
        assert!(is_image_id(&format!("sha256:{}", hex('a'))));
        assert!(!is_image_id(""));
        assert!(!is_image_id(&hex('a')), "no algorithm");
        assert!(!is_image_id(&format!("sha512:{}", "a".repeat(128))));
        assert!(!is_image_id(&format!("sha256:{}", hex('A'))));
        assert!(!is_image_id(&format!("sha256:{}$(touch x)", hex('a'))));
    }

    #[test]
    fn repo_digests_are_checked_entry_by_entry() {
        let d = format!("sha256:{}", hex('d'));
        let good = vec![
            format!("other/x@sha256:{}", hex('e')),
            format!("127.0.0.1:5000/test/app@{d}"),
        ];
        let is_app = |r: &str| r == "127.0.0.1:5000/test/app";
        assert_eq!(repo_digest(&good, is_app), Ok(Some(d.as_str())));
        assert_eq!(repo_digest(&good[..1], is_app), Ok(None));
        assert_eq!(repo_digest(&[], is_app), Ok(None));
        for bad in [
            "127.0.0.1:5000/test/app@sha256:$(touch /tmp/x)".to_string(),
            format!("127.0.0.1:5000/test/app:1.0@{d}"),
            format!("Bad Repo@{d}"),
            format!("app;rm -rf x@{d}"),
            "no-at-sign".to_string(),
            format!("127.0.0.1:5000/test/app@{}", hex('d')),
        ] {
            // A bad entry fails the answer even after the one wanted.
            let entries = vec![good[1].clone(), bad.clone()];
            assert_eq!(repo_digest(&entries, is_app), Err(bad.as_str()));
        }
    }

    #[test]
    fn frames_without_status_or_with_an_error_detail_are_errors() {
        let progress = CreateImageInfo {
            status: Some("Downloading".into()),
            id: Some("a".into()),
            ..CreateImageInfo::default()
        };
        assert_eq!(error_frame(&progress), None);
        // `{"error":"…"}` alone reads as a frame with nothing in it.
        assert!(error_frame(&CreateImageInfo::default()).is_some());
        let detail = CreateImageInfo {
            status: Some("Downloading".into()),
            error_detail: Some(ErrorDetail {
                code: Some(1),
                message: None,
            }),
            ..CreateImageInfo::default()
        };
        assert!(error_frame(&detail).is_some_and(|m| m.contains("code 1")));
    }
}
