//! Long work off the Python thread: the GIL is released while it runs, and Ctrl-C (or any
//! signal handler that raises) returns control to Python at once.
//!
//! The work runs on a thread of its own; the calling thread waits for it without the GIL and
//! checks Python's signal handlers every [`POLL`]. On an exception (KeyboardInterrupt), the
//! work is told to stop: its next progress report (Monte Carlo batches, finished simulation
//! runs) unwinds it, and its result is dropped. A panic in the work becomes an
//! `EvaluationError` naming it, never an abort of the interpreter.

use crate::errors::EvaluationError;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How often the waiting thread checks Python's signal handlers.
const POLL: Duration = Duration::from_millis(50);

/// The flag a job's progress reports look at: set when Python gave up on the job.
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// The payload of the unwinding that stops a cancelled job (not a failure: no message).
struct Cancelled;

impl Cancel {
    /// Stops the job here (by unwinding to [`run`]) if Python gave up on it.
    pub fn check(&self) {
        if self.0.load(Ordering::Relaxed) {
            std::panic::resume_unwind(Box::new(Cancelled));
        }
    }
}

/// Runs `job` on its own thread without the GIL; returns its result, or the exception a
/// signal handler raised meanwhile (the job is then cancelled and left to wind down).
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    job: impl FnOnce(&Cancel) -> T + Send + 'static,
) -> PyResult<T> {
    let cancel = Cancel::default();
    let (sender, receiver) = mpsc::channel();
    let flag = cancel.clone();
    std::thread::Builder::new()
        .name("tpc".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&flag)));
            // The receiver is gone when Python gave up on the job.
            let _ = sender.send(result);
        })
        .map_err(|e| EvaluationError::new_err(format!("cannot start a thread: {e}")))?;
    let mut receiver = receiver;
    loop {
        // The receiver moves into the GIL-free wait and back (it is `Send`, not `Sync`).
        let (back, received) = py.allow_threads(move || {
            let received = receiver.recv_timeout(POLL);
            (receiver, received)
        });
        receiver = back;
        match received {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(payload)) => return Err(EvaluationError::new_err(panic_message(&*payload))),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    cancel.0.store(true, Ordering::Relaxed);
                    return Err(interrupt);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(EvaluationError::new_err(
                    "the work thread ended without a result",
                ))
            }
        }
    }
}

/// The message of a panic, as an internal error the user can report.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    format!("internal error in tpc (please report it): {what}")
}
