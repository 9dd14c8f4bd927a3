//! An HTTP answer as the sources read it: status, headers, body. The client (`http.rs`) makes
//! one from the network and the ETag cache (`cache.rs`) one from what it kept, so both share
//! this type and neither imports the other for it.

use serde_json::Value;

/// A response, or a cached one standing in for it.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}
