//! A lane: requests of one kind queue here, and a few writer tasks take whatever has queued and write
//! it as one batch. Nobody waits for a batch to fill: under light load a batch is one request (no
//! added latency); under load, requests queue while the previous batch is at the database, so the
//! batch grows with the load (one statement and one commit for many requests).

use std::future::Future;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Mutex, mpsc, oneshot};

/// How one kind of write is done for many requests at once.
pub(super) trait Batch: Send + Sync + 'static {
    /// The `kind` label of its metrics.
    const KIND: &'static str;
    type Request: Send + 'static;
    type Output: Send + 'static;
    /// Writes every request; one result per request, in the requests' order.
    fn write(
        db: &DatabaseConnection,
        requests: Vec<Self::Request>,
    ) -> impl Future<Output = Vec<Result<Self::Output, DbErr>>> + Send;
}

type Reply<B> = oneshot::Sender<Result<<B as Batch>::Output, DbErr>>;
type Job<B> = (<B as Batch>::Request, Reply<B>);

pub(super) struct Lane<B: Batch> {
    queue: mpsc::Sender<Job<B>>,
}

/// The most requests one batch takes (a statement's parameters and a transaction's locks stay small).
const MAX_BATCH: usize = 64;
/// Requests that may wait for a writer before a submitter waits for room.
const QUEUE: usize = 1024;

impl<B: Batch> Lane<B> {
    /// Starts `writers` writer tasks on the current runtime; they stop when the lane is dropped.
    pub(super) fn start(db: DatabaseConnection, writers: usize) -> Self {
        let (queue, receiver) = mpsc::channel::<Job<B>>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers {
            tokio::spawn(write_batches::<B>(db.clone(), Arc::clone(&receiver)));
        }
        Self { queue }
    }

    /// Queues `request` and waits for its own result. None when the lane's writers are gone (the
    /// runtime is shutting down): the caller writes the request alone.
    pub(super) async fn submit(&self, request: B::Request) -> Option<Result<B::Output, DbErr>> {
        let (reply, result) = oneshot::channel();
        self.queue.send((request, reply)).await.ok()?;
        result.await.ok()
    }
}

async fn write_batches<B: Batch>(
    db: DatabaseConnection,
    receiver: Arc<Mutex<mpsc::Receiver<Job<B>>>>,
) {
    loop {
        let jobs = {
            let mut receiver = receiver.lock().await;
            let mut jobs = Vec::new();
            if receiver.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                return; // every sender dropped
            }
            jobs
        };
        let (requests, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        crate::telemetry::metrics::group_commit_batch(B::KIND, requests.len());
        let results = B::write(&db, requests).await;
        debug_assert_eq!(results.len(), replies.len());
        for (reply, result) in replies.into_iter().zip(results) {
            // A submitter that stopped waiting (its task was cancelled) needs no answer.
            let _ = reply.send(result);
        }
    }
}
