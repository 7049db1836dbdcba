//! Log lines and the request they belong to. Every line logged while a request is handled
//! names the request's id and operation, as `request{id=… op=…}:` after the level. A tracing
//! span per request did that at 4–7 % of a read's CPU (a registry slot, the fields formatted
//! into a String and recorded again, enter and exit on every poll) though almost no request
//! logs anything; here the request's context is a task-local, read only when a line is
//! written.

use std::cell::Cell;
use std::fmt;
use std::future::Future;

use hyper::header::HeaderValue;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// What a request's log lines say about it.
struct RequestContext {
    id: HeaderValue,
    /// The operation, once the request has been looked up.
    op: Cell<&'static str>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `handling` as the request `id`: what it logs names the request. (Not an `async fn`,
/// which would hold `handling` twice: the request's future is moved on every poll.)
pub fn in_request<F: Future>(id: HeaderValue, handling: F) -> impl Future<Output = F::Output> {
    let context = RequestContext {
        id,
        op: Cell::new(""),
    };
    REQUEST.scope(context, handling)
}

/// Names the operation of the request being handled, for its later log lines.
pub fn name_operation(op: &'static str) {
    let _ = REQUEST.try_with(|c| c.op.set(op));
}

/// Logs at `level` and above to stderr, each line with its request's context.
pub fn init(level: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(Line)
        .try_init();
}

/// `2026-11-30T23:31:47.554556Z  WARN request{id=… op=…}: message key=value`: the
/// timestamp, the level, the request (when there is one) and the event's fields.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        write!(writer, " {:>5} ", event.metadata().level())?;
        write_request(&mut writer)?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The request's context, if the line is logged while one is handled.
fn write_request(writer: &mut Writer<'_>) -> fmt::Result {
    REQUEST
        .try_with(|c| {
            let id = c.id.to_str().unwrap_or_default();
            match c.op.get() {
                "" => write!(writer, "request{{id={id}}}: "),
                op => write!(writer, "request{{id={id} op={op}}}: "),
            }
        })
        .unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer that keeps what is logged, for the assertions.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }

    #[tokio::test]
    async fn lines_logged_while_a_request_is_handled_name_it_and_others_do_not() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .event_format(Line)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        tracing::warn!(n = 1, "before");
        in_request(HeaderValue::from_static("abc-1"), async {
            tracing::warn!("unnamed yet");
            name_operation("ContactListRequest");
            tokio::task::yield_now().await;
            tracing::warn!(status = 500, "request failed");
        })
        .await;
        tracing::warn!("after");
        let text = captured.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].ends_with("  WARN before n=1"), "{text}");
        assert!(
            lines[1].ends_with("  WARN request{id=abc-1}: unnamed yet"),
            "{text}"
        );
        assert!(
            lines[2].ends_with(
                "  WARN request{id=abc-1 op=ContactListRequest}: request failed status=500"
            ),
            "{text}"
        );
        assert!(lines[3].ends_with("  WARN after"), "{text}");
        assert!(
            lines[0].starts_with("20") && lines[0].as_bytes()[10] == b'T',
            "{text}"
        );
    }
}
