//! The one thread that owns the [`Replica`]: messages run on it one at a time, in the order they
//! arrived, as a single-node subnet executes them; async handlers await their results.

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::{CallError, Replica};

type Job = Box<dyn FnOnce(&mut Replica) + Send>;

/// Hands jobs to the replica's thread. The thread ends (after its last job) once every
/// `Executor` is dropped.
pub(crate) struct Executor {
    jobs: mpsc::Sender<Job>,
}

/// The replica's thread is gone: a job panicked, which is a bug to report.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the replica stopped after an internal error (see its log); restart it")]
pub(crate) struct Stopped;

impl Executor {
    /// Starts the thread, which makes the replica with `open` (replaying its state directory);
    /// returns once it has, or with why it could not.
    pub(crate) fn start(
        open: impl FnOnce() -> Result<Replica, CallError> + Send + 'static,
    ) -> Result<(Executor, JoinHandle<()>), CallError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened, outcome) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("replica".into())
            .spawn(move || {
                let mut replica = match open() {
                    Ok(replica) => {
                        let _ = opened.send(Ok(()));
                        replica
                    }
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                };
                for job in queue {
                    job(&mut replica);
                }
            })
            .map_err(CallError::from)?;
        match outcome.recv() {
            Ok(Ok(())) => Ok((Executor { jobs }, thread)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CallError::Engine(
                "the replica's thread stopped while opening its state".into(),
            )),
        }
    }

    /// Queues `job` for the replica's thread, after the jobs before it, at once (not when the
    /// future is first polled): it runs even if its result is never awaited.
    pub(crate) fn run<R: Send + 'static, F: FnOnce(&mut Replica) -> R + Send + 'static>(
        &self,
        job: F,
    ) -> impl Future<Output = Result<R, Stopped>> + Send + use<R, F> {
        let (done, result) = tokio::sync::oneshot::channel();
        let queued = self
            .jobs
            .send(Box::new(move |replica| {
                let _ = done.send(job(replica));
            }))
            .map_err(|_| Stopped);
        async move {
            queued?;
            result.await.map_err(|_| Stopped)
        }
    }
}
