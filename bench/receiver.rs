//! A webhook receiver on 127.0.0.1 for the notify benchmark: answers every request with 200
//! and one JSON object holding the fields each service's client looks for in an answer
//! (Matrix's `event_id` and `room_id`, Pushover's `status`, Zulip's `result`, …), keeping
//! connections alive, one thread per connection. std only, so `rustc -O` builds it.
//!
//! usage: receiver PORTFILE   (binds a free port, writes it to PORTFILE, serves until killed)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// One answer every service's client accepts (as bench/tlsproxy.py gives).
const BODY: &str = concat!(
    r#"{"ok":true,"result":"success","status":1,"request":"r1","active":true,"#,
    r#""iden":"p1","type":"note","id":1,"msg":"","event_id":"$e1","room_id":"!r:x","#,
    r#""success":true,"code":200,"message":"success","name":"spaces/A/messages/m1"}"#
);

fn serve(conn: TcpStream) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        );
        out.write_all(reply.as_bytes())?;
    }
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port_file = std::env::args().nth(1).unwrap_or_else(|| "receiver.port".into());
    std::fs::write(port_file, listener.local_addr()?.port().to_string())?;
    for conn in listener.incoming().flatten() {
        std::thread::spawn(move || serve(conn));
    }
    Ok(())
}
