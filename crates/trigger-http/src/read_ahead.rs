//! A request body read ahead of its guest, so that what has arrived reaches
//! the guest in one read.
//!
//! hyper hands a body over one frame at a time: each chunk of a chunked
//! HTTP/1.1 body, each HTTP/2 DATA frame, and it decodes the next only once
//! the last is taken. Read directly, every frame was one read for the guest,
//! and a read costs a Python guest far more than a frame costs the host:
//! 300,000 one-byte chunks kept a `wasi:http@0.3` guest busy for 8.75 s
//! (~29 µs a read), so a client could burn a core with a slow upload. Here a
//! task of the host's takes the frames as they come, up to
//! [`READ_AHEAD`] bytes beyond what the guest has read, and each read of the
//! guest takes everything gathered since its last one.
//!
//! The first frame is read directly, and the task starts only when the
//! guest reads past it: a client that sent `Expect: 100-continue` is told
//! to go on only when the guest reads, and a small upload, which its first
//! frame holds whole, costs no task.

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::task::JoinHandle;
use wasmtime_wasi_http::Error;

/// How many bytes of a body are read ahead of the guest at most (a frame
/// may take it past this once).
pub(crate) const READ_AHEAD: usize = 64 << 10;

type Next = Option<Result<Frame<Bytes>, Error>>;

/// `inner`, read ahead: see the module's comment.
pub(crate) struct ReadAhead<B> {
    /// The body, until the task takes it.
    inner: Option<B>,
    /// Whether the guest has had a frame of it (read directly).
    read_once: bool,
    reading: Option<Reading>,
}

/// The task reading the body, stopped when the body is dropped, and what it
/// gathered.
struct Reading {
    gathered: Arc<Mutex<Gathered>>,
    task: JoinHandle<()>,
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the task has read and the guest has not.
#[derive(Default)]
struct Gathered {
    /// Frames as they came, but the small ones ...
    data: Vec<Bytes>,
    /// ... are copied together here, so that a body of tiny chunks holds
    /// neither a `Bytes` for each nor the buffers they point into.
    small: BytesMut,
    len: usize,
    /// What came after the data: trailers, the end (`None`) or an error.
    last: Option<Next>,
    /// Handed to the guest already.
    last_taken: bool,
    /// The guest, waiting for more.
    reader: Option<Waker>,
    /// The task, waiting for the guest to take what it gathered.
    task: Option<Waker>,
    /// The task is waiting for the client.
    waiting: bool,
}

impl<B> ReadAhead<B> {
    /// `inner`, to be read ahead once the guest first reads it.
    pub(crate) fn new(inner: B) -> Self {
        Self {
            inner: Some(inner),
            read_once: false,
            reading: None,
        }
    }
}

impl<B> Body for ReadAhead<B>
where
    B: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Next> {
        let first_read = !self.read_once;
        if let Some(inner) = self.inner.as_mut() {
            // A body that has ended (a GET's) needs no task, nor does one
            // that the first frame holds whole (a small upload's, as a
            // rule): the task starts only for a second frame.
            if first_read || inner.is_end_stream() {
                let next = Pin::new(inner).poll_frame(cx);
                if let Poll::Ready(Some(Ok(_))) = next {
                    self.read_once = true;
                }
                return next;
            }
            let inner = self.inner.take().expect("matched above");
            let gathered = Arc::<Mutex<Gathered>>::default();
            let task = tokio::spawn(read(inner, gathered.clone()));
            self.reading = Some(Reading { gathered, task });
        }
        let reading = self.reading.as_ref().expect("started above");
        let mut gathered = reading.gathered.lock().unwrap();
        if gathered.len > 0 && gathered.ready() {
            let data = take_data(&mut gathered);
            if let Some(task) = gathered.task.take() {
                task.wake();
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if gathered.last_taken {
            return Poll::Ready(None);
        }
        if let Some(last) = gathered.last.take() {
            gathered.last_taken = true;
            return Poll::Ready(last);
        }
        gathered.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        let Some(reading) = &self.reading else {
            return self.inner.as_ref().is_none_or(Body::is_end_stream);
        };
        let gathered = reading.gathered.lock().unwrap();
        gathered.len == 0 && (gathered.last_taken || matches!(gathered.last, Some(None)))
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(SizeHint::default, Body::size_hint)
    }
}

/// All the data gathered, in one piece (the one frame there is, as it is).
fn take_data(gathered: &mut Gathered) -> Bytes {
    gathered.flush_small();
    let len = std::mem::take(&mut gathered.len);
    if gathered.data.len() == 1 {
        return gathered.data.pop().expect("one frame");
    }
    let mut joined = BytesMut::with_capacity(len);
    for data in gathered.data.drain(..) {
        joined.extend_from_slice(&data);
    }
    joined.freeze()
}

/// The task: reads `inner` into `gathered` while the guest has less than
/// [`READ_AHEAD`] bytes to take, until the body's last frame.
async fn read<B>(mut inner: B, gathered: Arc<Mutex<Gathered>>)
where
    B: Body<Data = Bytes, Error = Error> + Unpin,
{
    loop {
        std::future::poll_fn(|cx| {
            let mut gathered = gathered.lock().unwrap();
            if gathered.len < READ_AHEAD {
                Poll::Ready(())
            } else {
                gathered.task = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        let next = match poll_now(&mut inner).await {
            Poll::Ready(next) => next,
            Poll::Pending => {
                // hyper decodes the next frame in the connection's own
                // task, which taking this one woke: let it run first.
                tokio::task::yield_now().await;
                match poll_now(&mut inner).await {
                    Poll::Ready(next) => next,
                    Poll::Pending => {
                        // The client is slower than the guest: what there
                        // is goes to the guest now.
                        {
                            let mut gathered = gathered.lock().unwrap();
                            gathered.waiting = true;
                            gathered.wake_reader();
                        }
                        inner.frame().await
                    }
                }
            }
        };
        let mut gathered = gathered.lock().unwrap();
        gathered.waiting = false;
        let done = match next {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    gathered.push(data);
                    false
                }
                Err(trailers) => {
                    gathered.last = Some(Some(Ok(trailers)));
                    true
                }
            },
            last => {
                gathered.last = Some(last);
                true
            }
        };
        if done || gathered.len >= READ_AHEAD {
            gathered.wake_reader();
        }
        if done {
            return;
        }
    }
}

/// The body's next frame if it is there, without waiting.
async fn poll_now<B: Body + Unpin>(
    inner: &mut B,
) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *inner).poll_frame(cx))).await
}

/// A frame smaller than this is copied rather than kept.
const SMALL_FRAME: usize = 4 << 10;

impl Gathered {
    fn push(&mut self, data: Bytes) {
        self.len += data.len();
        if data.len() < SMALL_FRAME {
            self.small.extend_from_slice(&data);
        } else {
            self.flush_small();
            self.data.push(data);
        }
    }

    fn flush_small(&mut self) {
        if !self.small.is_empty() {
            self.data.push(self.small.split().freeze());
        }
    }

    /// Whether the guest gets what there is now: the task is waiting for
    /// the client, or has read as far ahead as it may, or to the end.
    fn ready(&self) -> bool {
        self.waiting || self.len >= READ_AHEAD || self.last.is_some()
    }

    fn wake_reader(&mut self) {
        if self.ready()
            && let Some(reader) = self.reader.take()
        {
            reader.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;
    use http_body_util::StreamBody;

    type Ready = Result<Frame<Bytes>, Error>;

    /// A client's body whose frames are all there at once.
    fn ready(
        frames: Vec<Frame<Bytes>>,
    ) -> ReadAhead<StreamBody<stream::Iter<std::vec::IntoIter<Ready>>>> {
        let frames: Vec<Ready> = frames.into_iter().map(Ok).collect();
        ReadAhead::new(StreamBody::new(stream::iter(frames)))
    }

    /// The sizes of the data frames the guest reads, and whether trailers
    /// came last.
    async fn read_all<B>(mut body: ReadAhead<B>) -> (Vec<usize>, bool)
    where
        B: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static,
    {
        let (mut sizes, mut trailers) = (Vec::new(), false);
        while let Some(frame) = body.frame().await {
            assert!(!trailers, "a frame after the trailers");
            match frame.unwrap().into_data() {
                Ok(data) => sizes.push(data.len()),
                Err(frame) => trailers = frame.is_trailers(),
            }
        }
        assert!(body.is_end_stream());
        (sizes, trailers)
    }

    #[tokio::test]
    async fn frames_that_arrived_are_read_together() {
        let mut frames: Vec<_> = (0..100_000)
            .map(|i| Frame::data(Bytes::from(vec![i as u8])))
            .collect();
        frames.push(Frame::trailers(http::HeaderMap::new()));
        let (sizes, trailers) = read_all(ready(frames)).await;
        assert!(trailers);
        assert_eq!(sizes.iter().sum::<usize>(), 100_000);
        // No more than the read-ahead at once, and far fewer reads.
        assert!(
            sizes.len() <= 4 && sizes.iter().all(|&n| n <= READ_AHEAD),
            "{sizes:?}"
        );
    }

    #[tokio::test]
    async fn the_bytes_arrive_in_order_and_a_large_frame_whole() {
        let large = Bytes::from(vec![7; READ_AHEAD * 2]);
        let frames = vec![
            Frame::data(Bytes::from_static(b"ab")),
            Frame::data(large.clone()),
            Frame::data(Bytes::from_static(b"c")),
        ];
        let mut body = ready(frames);
        let mut received = Vec::new();
        while let Some(frame) = body.frame().await {
            received.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        let mut sent = b"ab".to_vec();
        sent.extend_from_slice(&large);
        sent.push(b'c');
        assert!(received == sent);
    }

    #[tokio::test]
    async fn an_error_comes_after_the_data_before_it() {
        let frames: Vec<Ready> = vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Err(Error::ConnectionReadTimeout),
        ];
        let mut body = ReadAhead::new(StreamBody::new(stream::iter(frames)));
        let data = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&data[..], b"ab");
        assert!(matches!(
            body.frame().await,
            Some(Err(Error::ConnectionReadTimeout))
        ));
        assert!(body.frame().await.is_none());
    }
}
