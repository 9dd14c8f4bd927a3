//! Paged lists, GitHub's and registries' alike: each answer names the next page in a `Link:
//! <…>; rel="next"` header, followed only to the same server (see
//! [`pullfirst::net::next_page`]: no credentials go anywhere else), and at most
//! [`MAX_PAGES`] pages are read.

use pullfirst::Failure;

use crate::http::Response;

/// At most this many pages of one list are read (GitHub's 100 items a page make 20,000
/// releases or tags; a registry's `--page-size` sets its own). A longer list is cut there,
/// with a warning.
pub const MAX_PAGES: usize = 200;

/// Walk a paged list from `first`: `get` fetches a page, `page` looks at each answer in turn
/// until it returns something, which is the result (`None`: the list ended, or was cut at
/// [`MAX_PAGES`]).
pub fn walk<T>(
    first: &str,
    mut get: impl FnMut(&str) -> Result<Response, Failure>,
    mut page: impl FnMut(&Response) -> Result<Option<T>, Failure>,
) -> Result<Option<T>, Failure> {
    let mut url = Some(first.to_string());
    let mut read = 0;
    while let Some(current) = url.take() {
        read += 1;
        let resp = get(&current)?;
        if let Some(found) = page(&resp)? {
            return Ok(Some(found));
        }
        url = next_link(&resp, &current)?;
        if read == MAX_PAGES && url.is_some() {
            pullfirst::warn!(
                "{}: the list goes on past {MAX_PAGES} pages; the rest is not read",
                pullfirst::net::host_of(first)
            );
            break;
        }
    }
    Ok(None)
}

/// The `rel="next"` page of a paged answer (its `Link` headers), resolved against `current`,
/// the page that named it. A next page on another server (scheme, host or port), or with a
/// user or password in its address, is refused: the request would carry this server's token
/// or password there.
fn next_link(resp: &Response, current: &str) -> Result<Option<String>, Failure> {
    let links: Vec<&str> = resp
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("link"))
        .map(|(_, v)| v.as_str())
        .collect();
    pullfirst::net::next_page(&links.join(", "), current)
        .map_err(|e| Failure::permanent(format!("{}: {e}", pullfirst::net::host_of(current))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(link: Option<String>) -> Response {
        Response {
            status: 200,
            headers: link.map(|l| ("Link".to_string(), l)).into_iter().collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn pages_are_followed_until_found_or_ended() {
        let base = "http://127.0.0.1:1/list";
        let mut asked = Vec::new();
        let found = walk(
            base,
            |u| {
                asked.push(u.to_string());
                let n = asked.len();
                Ok(answer(
                    (n < 5).then(|| format!("<{base}?page={}>; rel=\"next\"", n + 1)),
                ))
            },
            |_| Ok(None::<()>),
        );
        assert!(matches!(found, Ok(None)));
        assert_eq!(asked.len(), 5);
        assert_eq!(asked[4], "http://127.0.0.1:1/list?page=5");

        let mut n = 0;
        let found = walk(
            base,
            |_| Ok(answer(Some(format!("<{base}?more>; rel=\"next\"")))),
            |_| {
                n += 1;
                Ok((n == 3).then_some(n))
            },
        );
        assert!(matches!(found, Ok(Some(3))));
    }

    #[test]
    fn an_endless_list_is_cut() {
        let base = "http://127.0.0.1:1/list";
        let mut asked = 0;
        let found = walk(
            base,
            |_| {
                asked += 1;
                Ok(answer(Some(format!("<{base}?again>; rel=\"next\""))))
            },
            |_| Ok(None::<()>),
        );
        assert!(matches!(found, Ok(None)));
        assert_eq!(asked, MAX_PAGES);
    }
}
