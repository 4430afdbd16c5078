//! The line libwayland prints when nobody asked for a display.
//!
//! Mesa's implicit Vulkan layer `VK_LAYER_MESA_device_select` picks a default GPU in every
//! `vkEnumeratePhysicalDevices` (called twice per enumeration: count, then fill). When the instance
//! enabled `VK_KHR_wayland_surface`, which wgpu 30 enables whenever the driver offers it (its
//! `desired_extensions`; `InstanceDescriptor`, `InstanceFlags` and the backend options have no
//! switch for it, and only the unsafe hal constructors take another extension list), the layer
//! calls `wl_display_connect`, and libwayland, finding no `XDG_RUNTIME_DIR`, writes "error:
//! XDG_RUNTIME_DIR is invalid or not set in the environment." to stderr. The environment
//! variables that stop it (`MESA_VK_DEVICE_SELECT`, `NODEVICE_SELECT`, `XDG_RUNTIME_DIR`) cannot
//! be set from inside the process without `unsafe` (`std::env::set_var`, edition 2024), and
//! `NODEVICE_SELECT` would change which adapter comes first.
//!
//! So, without `XDG_RUNTIME_DIR`, the enumeration runs with fd 2 on a pipe; afterwards fd 2 is
//! restored and what came through is written back to it, less that one line. Nothing else is
//! dropped, and with `XDG_RUNTIME_DIR` set (a desktop session) nothing is touched.

use std::io::{Read, Write};

/// What libwayland prints when `XDG_RUNTIME_DIR` is not set (`wayland-client.c`,
/// `connect_to_socket`).
const NO_RUNTIME_DIR: &str = "error: XDG_RUNTIME_DIR is invalid or not set in the environment.";

/// The lines of `captured` to pass on: all but libwayland's complaint about `XDG_RUNTIME_DIR`.
pub(super) fn passed_on(captured: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(captured);
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        // text: a line a C library wrote to stderr, matched to drop exactly that one.
        if line.trim_end() != NO_RUNTIME_DIR {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

/// Runs `f` (a Vulkan adapter enumeration) with libwayland's complaint about a missing
/// `XDG_RUNTIME_DIR` kept off stderr; see the module's documentation.
pub(super) fn quiet_wayland_probe<T>(f: impl FnOnce() -> T) -> T {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return f();
    }
    #[cfg(unix)]
    if let Some(capture) = Capture::start() {
        let out = f();
        capture.finish();
        return out;
    }
    f()
}

/// Fd 2 on a pipe, drained by a thread, until [`Capture::finish`] (or a drop) puts it back.
#[cfg(unix)]
struct Capture {
    /// The real stderr, to put back.
    saved: Option<std::os::fd::OwnedFd>,
    /// What came through the pipe, once its last writer closes.
    drain: Option<std::thread::JoinHandle<Vec<u8>>>,
}

#[cfg(unix)]
impl Capture {
    fn start() -> Option<Capture> {
        let saved = rustix::io::dup(std::io::stderr()).ok()?;
        let (reader, writer) = rustix::pipe::pipe().ok()?;
        let drain = std::thread::spawn(move || {
            let mut captured = Vec::new();
            let _ = std::fs::File::from(reader).read_to_end(&mut captured);
            captured
        });
        // Fd 2 becomes the pipe's one writer (`writer` closes at the end of this function).
        if rustix::stdio::dup2_stderr(&writer).is_err() {
            return None;
        }
        Some(Capture { saved: Some(saved), drain: Some(drain) })
    }

    /// Puts stderr back and writes what came through, less the one line.
    fn finish(mut self) {
        self.restore();
    }

    fn restore(&mut self) {
        let Some(saved) = self.saved.take() else { return };
        // The pipe's last writer closes here, so the drain reaches its end.
        let _ = rustix::stdio::dup2_stderr(&saved);
        let captured = self.drain.take().and_then(|d| d.join().ok()).unwrap_or_default();
        let _ = std::io::stderr().write_all(&passed_on(&captured));
    }
}

#[cfg(unix)]
impl Drop for Capture {
    fn drop(&mut self) {
        self.restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_runtime_dir_line_is_dropped() {
        let captured = format!("{NO_RUNTIME_DIR}\nMESA: warning: something else\n{NO_RUNTIME_DIR}\nno newline");
        assert_eq!(passed_on(captured.as_bytes()), b"MESA: warning: something else\nno newline".to_vec());
        assert_eq!(passed_on(b""), Vec::<u8>::new());
    }
}
