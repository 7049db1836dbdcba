//! The connection guard: wraps a connection's byte stream and enforces the time limits hyper
//! does not — a separate keep-alive idle timeout and header read timeout, and a bound on how
//! long a response write may stall. It sees requests through [`Busy`], which the service holds
//! from the moment a request head is parsed until its response body is dropped.
//!
//! While no request is in flight, a pending read is either idle time (before the first byte of
//! the next request; bounded by `keep_alive_idle`, or by `header_read_timeout` on a fresh
//! connection) or the head being received (from its first byte; bounded by
//! `header_read_timeout`, which trickling bytes do not extend). A limit that runs out fails
//! the read with `TimedOut`, and hyper closes the connection. An idle connection asked to make
//! room ([`Requests::close_when_idle`]) ends its stream, which hyper also closes cleanly.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Requests of one connection: how many are in flight, how many have started, whether it is
/// idle (between requests, no byte of the next one yet), and the reader to wake when the last
/// request ends (so the idle clock starts even if hyper is already parked on a read) or when
/// the accept loop asks an idle connection to make room.
#[derive(Debug, Default)]
pub struct Requests {
    in_flight: AtomicUsize,
    started: AtomicU64,
    idle: AtomicBool,
    close_when_idle: AtomicBool,
    parked_reader: Mutex<Option<Waker>>,
}

impl Requests {
    fn park(&self, waker: &Waker) {
        let mut slot = self.parked_reader.lock().unwrap_or_else(|p| p.into_inner());
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn wake_reader(&self) {
        let parked = self
            .parked_reader
            .lock()
            .map(|mut w| w.take())
            .unwrap_or(None);
        if let Some(waker) = parked {
            waker.wake();
        }
    }

    /// Whether the connection sits between requests (a kept-alive connection nobody uses)
    /// and has not been asked to close yet.
    pub fn is_idle(&self) -> bool {
        self.idle.load(Ordering::Acquire) && !self.close_when_idle.load(Ordering::Acquire)
    }

    /// Asks the connection to close at once if idle, else at its next idle moment: its reader
    /// then sees end-of-stream between requests and hyper closes it cleanly.
    pub fn close_when_idle(&self) {
        self.close_when_idle.store(true, Ordering::Release);
        self.wake_reader();
    }
}

/// Held while a request is being handled or its response body is being written.
#[derive(Debug)]
pub struct Busy(Arc<Requests>);

impl Busy {
    pub fn start(requests: &Arc<Requests>) -> Busy {
        requests.started.fetch_add(1, Ordering::AcqRel);
        requests.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(requests))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.wake_reader();
        }
    }
}

/// The limits the guard enforces.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub keep_alive_idle: Duration,
    pub write_stall: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests, no byte of the next one yet.
    Idle,
    /// Receiving a request head (or waiting for the first one).
    Head,
    /// A request is being handled.
    Busy,
}

/// A byte stream with the connection's time limits.
pub struct Guarded<I> {
    inner: I,
    requests: Arc<Requests>,
    timeouts: Timeouts,
    phase: Phase,
    seen_started: u64,
    /// When the current read limit (head or keep-alive idle) runs out.
    deadline: Instant,
    /// A timer that fires at or before `deadline`: moving the limit later (every request
    /// does, twice) leaves it armed and it is re-armed when it fires early, so a busy
    /// connection touches the timer wheel about once per header timeout, not per request.
    read_deadline: Pin<Box<Sleep>>,
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl<I> Guarded<I> {
    /// A freshly accepted connection: its first head must arrive within the header timeout.
    pub fn new(inner: I, requests: Arc<Requests>, timeouts: Timeouts) -> Self {
        let deadline = Instant::now() + timeouts.header_read;
        Guarded {
            inner,
            requests,
            timeouts,
            phase: Phase::Head,
            seen_started: 0,
            deadline,
            read_deadline: Box::pin(tokio::time::sleep_until(deadline)),
            write_deadline: None,
        }
    }

    /// Moves the phase along with what the service reported since the last read.
    fn update_phase(&mut self) {
        let in_flight = self.requests.in_flight.load(Ordering::Acquire) > 0;
        let started = self.requests.started.load(Ordering::Acquire);
        if in_flight {
            self.set_phase(Phase::Busy);
        } else if started != self.seen_started || self.phase == Phase::Busy {
            self.set_phase(Phase::Idle);
            self.set_deadline(Instant::now() + self.timeouts.keep_alive_idle);
        }
        self.seen_started = started;
    }

    /// Moves the read limit; the timer is touched only when the limit comes earlier.
    fn set_deadline(&mut self, at: Instant) {
        self.deadline = at;
        if at < self.read_deadline.deadline() {
            self.read_deadline.as_mut().reset(at);
        }
    }

    /// Whether the read limit has run out, registering for a wake-up when it has not; a timer
    /// that fired early (the limit moved later since it was armed) is re-armed at the limit.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.read_deadline.as_mut().poll(cx).is_pending() {
                return false;
            }
            if self.read_deadline.deadline() >= self.deadline {
                return true;
            }
            let at = self.deadline;
            self.read_deadline.as_mut().reset(at);
        }
    }

    /// Whether the read limit has run out, without waiting for it.
    fn expired(&self) -> bool {
        self.read_deadline.is_elapsed()
            && (self.read_deadline.deadline() >= self.deadline || Instant::now() >= self.deadline)
    }

    fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.requests
            .idle
            .store(phase == Phase::Idle, Ordering::Release);
    }

    /// Idle and asked to make room: end the stream here.
    fn closing(&self) -> bool {
        self.phase == Phase::Idle && self.requests.close_when_idle.load(Ordering::Acquire)
    }

    fn timed_out(what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Guarded<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.update_phase();
        if this.closing() {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.phase == Phase::Busy {
            if result.is_pending() {
                this.requests.park(cx.waker());
            }
            return result;
        }
        if let Poll::Ready(Ok(())) = &result {
            if buf.filled().len() > before && this.phase == Phase::Idle {
                this.set_phase(Phase::Head);
                this.set_deadline(Instant::now() + this.timeouts.header_read);
            }
            if this.expired() {
                return Poll::Ready(Err(Self::timed_out("request head")));
            }
            return result;
        }
        if result.is_pending() && this.poll_expired(cx) {
            let what = match this.phase {
                Phase::Idle => "keep-alive idle",
                _ => "request head",
            };
            return Poll::Ready(Err(Self::timed_out(what)));
        }
        if result.is_pending() && this.phase == Phase::Idle {
            this.requests.park(cx.waker());
        }
        result
    }
}

impl<I: AsyncWrite + Unpin> Guarded<I> {
    /// Runs a write-side poll; a stall longer than the limit fails it.
    fn guard_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut I>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.write_deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let stall = self.timeouts.write_stall;
                let deadline = self
                    .write_deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
                ready!(deadline.as_mut().poll(cx));
                Poll::Ready(Err(Self::timed_out("response write")))
            }
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Guarded<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard_write(cx, |io, cx| io.poll_write(cx, data))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard_write(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard_write(cx, |io, cx| io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn timeouts(ms: u64) -> Timeouts {
        let d = Duration::from_millis(ms);
        Timeouts {
            header_read: d,
            keep_alive_idle: d * 3,
            write_stall: d,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_times_out_after_the_header_timeout() {
        let (client, server) = tokio::io::duplex(64);
        let mut io = Guarded::new(server, Arc::default(), timeouts(100));
        let started = Instant::now();
        let mut buf = [0u8; 8];
        let err = io.read(&mut buf).await.err().map(|e| e.kind());
        assert_eq!(err, Some(io::ErrorKind::TimedOut));
        assert_eq!(started.elapsed(), Duration::from_millis(100));
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn trickled_bytes_do_not_extend_the_header_timeout() {
        let (mut client, server) = tokio::io::duplex(64);
        let requests = Arc::new(Requests::default());
        let mut io = Guarded::new(server, Arc::clone(&requests), timeouts(100));
        // A request completes, so the connection is idle (300 ms allowed) until a byte comes.
        drop(Busy::start(&requests));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            for _ in 0..20 {
                let _ = client.write_all(b"G").await;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        });
        let started = Instant::now();
        let mut buf = [0u8; 8];
        let result = loop {
            match io.read(&mut buf).await {
                Ok(n) if n > 0 => continue,
                other => break other,
            }
        };
        assert_eq!(
            result.err().map(|e| e.kind()),
            Some(io::ErrorKind::TimedOut)
        );
        // Idle until 250 ms, then at most 100 ms for the head.
        assert!(
            started.elapsed() <= Duration::from_millis(360),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_idle_clock_starts_when_the_last_request_ends_while_the_reader_is_parked() {
        let (client, server) = tokio::io::duplex(64);
        let requests = Arc::new(Requests::default());
        let mut io = Guarded::new(server, Arc::clone(&requests), timeouts(100));
        let busy = Busy::start(&requests);
        let reader = tokio::spawn(async move {
            let started = Instant::now();
            let result = io.read(&mut [0u8; 8]).await;
            (result.err().map(|e| e.kind()), started.elapsed())
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(busy);
        let (err, elapsed) = reader.await.unwrap_or((None, Duration::ZERO));
        assert_eq!(err, Some(io::ErrorKind::TimedOut));
        assert_eq!(
            elapsed,
            Duration::from_millis(1300),
            "idle limit counted from the end"
        );
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_asked_to_make_room_ends_but_a_busy_one_finishes_first() {
        let (client, server) = tokio::io::duplex(64);
        let requests = Arc::new(Requests::default());
        let mut io = Guarded::new(server, Arc::clone(&requests), timeouts(100));
        let busy = Busy::start(&requests);
        requests.close_when_idle();
        let read = tokio::time::timeout(Duration::from_secs(1), io.read(&mut [0u8; 8])).await;
        assert!(read.is_err(), "a busy connection is not cut");
        drop(busy);
        let n = tokio::time::timeout(Duration::from_millis(10), io.read(&mut [0u8; 8])).await;
        assert_eq!(
            n.ok().and_then(Result::ok),
            Some(0),
            "end of stream once idle"
        );
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_parked_idle_reader_is_woken_to_close() {
        let (client, server) = tokio::io::duplex(64);
        let requests = Arc::new(Requests::default());
        let mut io = Guarded::new(server, Arc::clone(&requests), timeouts(1000));
        drop(Busy::start(&requests));
        let reader = tokio::spawn(async move { io.read(&mut [0u8; 8]).await.ok() });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(requests.is_idle());
        requests.close_when_idle();
        assert!(!requests.is_idle(), "asked once");
        let n = tokio::time::timeout(Duration::from_millis(10), reader).await;
        assert_eq!(n.ok().and_then(Result::ok).flatten(), Some(0));
        drop(client);
    }

    /// The read timer is armed lazily (left early, re-armed when it fires): a connection whose
    /// requests keep coming is never cut, and the limit still ends it exactly on time after.
    #[tokio::test(start_paused = true)]
    async fn requests_in_steady_succession_move_the_limit_and_it_still_fires_on_time() {
        let (mut client, server) = tokio::io::duplex(64);
        let requests = Arc::new(Requests::default());
        let mut io = Guarded::new(server, Arc::clone(&requests), timeouts(100));
        let started = Instant::now();
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(70)).await;
            let _ = client.write_all(b"G").await;
            let read = io.read(&mut [0u8; 8]).await;
            assert_eq!(read.ok(), Some(1), "cut after {:?}", started.elapsed());
            drop(Busy::start(&requests));
        }
        let last = Instant::now();
        let err = io.read(&mut [0u8; 8]).await.err().map(|e| e.kind());
        assert_eq!(err, Some(io::ErrorKind::TimedOut));
        assert_eq!(last.elapsed(), Duration::from_millis(300), "idle limit");
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_never_cut_by_read_limits() {
        let (client, server) = tokio::io::duplex(64);
        let requests = Arc::new(Requests::default());
        let mut io = Guarded::new(server, Arc::clone(&requests), timeouts(100));
        let busy = Busy::start(&requests);
        let read = tokio::time::timeout(Duration::from_secs(5), io.read(&mut [0u8; 8])).await;
        assert!(
            read.is_err(),
            "still waiting after 5 s with a request in flight"
        );
        drop(busy);
        drop(client);
    }
}
