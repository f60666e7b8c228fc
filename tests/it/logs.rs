//! Captures tracing output in memory so tests can read what would have been logged.
//!
//! A test binary can install one global subscriber, so every test that reads the logs shares
//! [`global`]: it holds everything logged at TRACE in this process, by any test.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The process-wide capture, installed as the global subscriber (TRACE, all span events) on
/// first use. Global, not scoped: a scoped subscriber misses callsites whose interest other
/// test threads cached first.
pub fn global() -> &'static Captured {
    static GLOBAL: OnceLock<Captured> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("only logs::global installs a subscriber");
        logs
    })
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
