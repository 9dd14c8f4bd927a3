//! Terminal progress of the pulls: what each pull's stream says about its layers
//! ([`Layers`]), and one bar per image and engine drawn from it ([`Progress`]).
//!
//! [`Layers`] is also what frees a `--jobs` slot: a pull gives its slot to the next once every
//! layer it has to fetch is downloaded, while the engine unpacks. The bars are drawn only when
//! stderr is a terminal and `-q` is not given, so CI logs and pipelines stay clean.

use std::collections::HashMap;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// The layers of one pull, as its stream tells them: bytes downloaded, and how far each got.
/// Both the progress bar and the `--jobs` slot read it.
#[derive(Default)]
pub struct Layers {
    map: HashMap<String, Layer>,
    /// A layer that must come from the registry was announced: until then, the "Already
    /// exists" frames that come first say nothing about what is left to download.
    fetching: bool,
}

#[derive(Default)]
struct Layer {
    current: u64,
    total: u64,
    /// Downloaded: what is left is the engine's local work.
    downloaded: bool,
    /// Unpacked too.
    done: bool,
}

impl Layers {
    /// Take one frame of the pull stream. Frames that are not about a layer are skipped (the
    /// "Pulling from REPO" frame carries the tag as its id).
    pub fn frame(&mut self, info: &bollard::models::CreateImageInfo) {
        let (Some(id), Some(status)) = (&info.id, &info.status) else {
            return;
        };
        let status = status.as_str();
        let downloaded = matches!(
            status,
            "Download complete" | "Extracting" | "Pull complete" | "Already exists"
        );
        let known = matches!(
            status,
            "Pulling fs layer" | "Waiting" | "Downloading" | "Verifying Checksum"
        );
        if !(downloaded || known) {
            return;
        }
        if status != "Already exists" {
            self.fetching = true;
        }
        let layer = self.map.entry(id.clone()).or_default();
        if let (Some(d), "Downloading") = (&info.progress_detail, status) {
            layer.current = u64::try_from(d.current.unwrap_or(0)).unwrap_or(0);
            layer.total = u64::try_from(d.total.unwrap_or(0)).unwrap_or(0);
        }
        if downloaded {
            layer.downloaded = true;
            layer.current = layer.total;
        }
        if matches!(status, "Pull complete" | "Already exists") {
            layer.done = true;
        }
    }

    /// Every layer announced is downloaded, and some had to be (an image whose layers are
    /// all here already holds its slot to the end, which comes at once).
    pub fn downloaded(&self) -> bool {
        self.fetching && self.map.values().all(|l| l.downloaded)
    }
}

/// Progress of one pull on stderr, when stderr is a terminal: one bar per image and engine,
/// redrawn in place (indicatif), with bytes and layers; left on screen when done, marked
/// failed when the pull fails. Nothing at all when stderr is not a terminal (CI logs stay
/// clean) or with `-q`.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `engine` is named only when there are several (`--host` more than once).
    pub fn new(image: &str, engine: Option<&str>, bars: Option<&MultiProgress>) -> Progress {
        let bar = bars.map(|m| {
            let style =
                ProgressStyle::with_template("{prefix} [{bar:20}] {bytes}/{total_bytes} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            // No length until the engine says how big the layers are.
            let bar = m.add(ProgressBar::no_length().with_style(style));
            bar.set_prefix(match engine {
                Some(e) => format!("{image} on {e}"),
                None => image.to_string(),
            });
            bar.set_message("resolving");
            bar
        });
        Progress { bar }
    }

    pub fn show(&self, layers: &Layers) {
        let Some(bar) = &self.bar else {
            return;
        };
        let done = layers.map.values().filter(|l| l.done).count();
        let (cur, total) = layers
            .map
            .values()
            .fold((0, 0), |a, l| (a.0 + l.current, a.1 + l.total));
        if total > 0 {
            bar.set_length(total);
            bar.set_position(cur);
        }
        bar.set_message(format!("{done}/{} layers", layers.map.len()));
    }

    pub fn done(&mut self, layers: &Layers) {
        if let Some(bar) = self.bar.take() {
            let n = layers.map.len();
            bar.finish_with_message(format!("{n}/{n} layers, done"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Still here: the pull failed or was cut short.
        if let Some(bar) = self.bar.take() {
            bar.abandon_with_message("failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Layers;
    use bollard::models::CreateImageInfo;

    #[test]
    fn layers_already_here_are_not_a_download() {
        let mut d = Layers::default();
        d.frame(&frame("base", "Already exists"));
        assert!(!d.downloaded(), "the layer to download is announced after");
        d.frame(&frame("new", "Pulling fs layer"));
        assert!(!d.downloaded());
        d.frame(&frame("new", "Download complete"));
        assert!(d.downloaded());
    }

    fn frame(id: &str, status: &str) -> CreateImageInfo {
        CreateImageInfo {
            id: Some(id.to_string()),
            status: Some(status.to_string()),
            ..CreateImageInfo::default()
        }
    }

    #[test]
    fn a_slot_is_free_once_every_layer_is_downloaded() {
        let mut d = Layers::default();
        let mut take = |info: CreateImageInfo| {
            d.frame(&info);
            d.downloaded()
        };
        // "Pulling from REPO" carries the tag as its id: not a layer.
        assert!(!take(frame("1.0", "Pulling from test/app")));
        assert!(!take(frame("a", "Pulling fs layer")));
        assert!(!take(frame("b", "Pulling fs layer")));
        assert!(!take(frame("a", "Downloading")));
        assert!(!take(frame("a", "Download complete")));
        assert!(!take(frame("a", "Extracting")));
        assert!(!take(frame("b", "Verifying Checksum")));
        assert!(take(frame("b", "Download complete")));
        assert_eq!(d.map.len(), 2, "two layers");

        // Every layer here already: nothing to download, and the slot is held to the end of
        // the pull (which comes at once) rather than freed on the first frame.
        let mut cached = Layers::default();
        cached.frame(&frame("a", "Already exists"));
        assert!(!cached.downloaded());
    }
}
