//! Reaping: retry is the subreaper of what it starts, so the orphans an attempt leaves behind
//! (`sh -c '(job &)'`) become retry's children, and they are reaped the moment they exit,
//! during attempts and waits alike, so none lingers as a zombie counting against the process
//! limit. The attempt's own status is kept when it is among those reaped, never lost.

use rustix::process::{wait as wait_any, Pid, WaitOptions, WaitStatus};

/// Reap every exited child: orphans of the attempt come to us as its subreaper.
pub fn reap_orphans() {
    reap(None);
}

/// Reap every exited child, returning the status of `attempt` if it was among them: orphans
/// are reaped the moment they are seen, and the attempt's own status is kept, not lost.
pub fn reap(attempt: Option<Pid>) -> Option<WaitStatus> {
    let mut found = None;
    while let Ok(Some((pid, status))) = wait_any(WaitOptions::NOHANG) {
        if Some(pid) == attempt {
            found = Some(status);
        }
    }
    found
}

/// Become the subreaper of what we start, so its orphans are ours to reap.
pub fn become_subreaper() {
    let _ = rustix::process::set_child_subreaper(Some(Pid::INIT));
}
