//! Group commit, for both stores: one writer thread takes uploads from a queue and commits every
//! upload waiting when a transaction starts in that one transaction, then answers each. A burst
//! of uploads costs one sync to disk per group rather than one each, and (on PostgreSQL) one
//! update of a device's row per group rather than a queue of transactions waiting on it.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::store::{Inserted, NewRun, StoreError, WriterState, now};

/// Uploads one transaction may hold.
pub(super) const MAX_GROUP: usize = 256;

/// What a backend does with a group: commits `runs` (received at `received`) in one transaction,
/// each in its own savepoint so one bad upload does not undo the others, and returns each one's
/// outcome; an `Err` means the transaction failed and nothing of the group was stored.
pub(super) type CommitGroup<C> = fn(&mut C, &[&NewRun], &str) -> Result<Vec<Result<Inserted, StoreError>>, StoreError>;

struct Job {
    run: NewRun,
    reply: SyncSender<Result<Inserted, StoreError>>,
}

/// The writer thread and its queue.
#[derive(Debug)]
pub(super) struct Writer {
    jobs: Mutex<Option<SyncSender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("content_hash", &self.run.content_hash).finish()
    }
}

impl Writer {
    /// Starts the thread, which owns `conn` and commits with `commit`.
    pub(super) fn start<C: Send + 'static>(conn: C, commit: CommitGroup<C>) -> Result<Writer, StoreError> {
        let (tx, rx) = sync_channel::<Job>(4 * MAX_GROUP);
        let thread = std::thread::Builder::new()
            .name("ridge-store-writer".into())
            .spawn(move || write_loop(conn, commit, rx))
            .map_err(|_| StoreError::Writer(WriterState::NotStarted))?;
        Ok(Writer { jobs: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues an upload and waits until the transaction holding it has committed.
    pub(super) fn insert(&self, run: NewRun) -> Result<Inserted, StoreError> {
        let sender =
            self.jobs.lock().ok().and_then(|j| j.clone()).ok_or(StoreError::Writer(WriterState::ShuttingDown))?;
        let (reply, answer) = sync_channel(1);
        sender.send(Job { run, reply }).map_err(|_| StoreError::Writer(WriterState::Stopped))?;
        answer.recv().map_err(|_| StoreError::Writer(WriterState::StoppedBeforeCommit))?
    }

    /// Takes no more uploads and waits for the thread to commit what it holds.
    pub(super) fn stop(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_loop<C>(mut conn: C, commit: CommitGroup<C>, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let runs: Vec<&NewRun> = group.iter().map(|j| &j.run).collect();
        // The replies are sent only after the commit returns.
        match commit(&mut conn, &runs, &now()) {
            Ok(results) => {
                for (job, r) in group.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                for job in group {
                    let _ = job.reply.send(Err(StoreError::NothingStored(Box::new(e.clone()))));
                }
            }
        }
    }
}
