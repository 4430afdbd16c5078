//! `ridge run --read-path DIR`: what a local path delivers to a data loader. A scratch file is
//! written in DIR, read sequentially and at random in 4 KiB and 1 MiB blocks, one read at a time
//! (each read timed on the host), with the page cache bypassed where the OS allows (`O_DIRECT`
//! on Linux, with aligned buffers; else `posix_fadvise(DONTNEED)`; the result says which), and
//! removed. The record ([`StorageReads`]) goes into the run's result, and `--feed-measured`
//! turns it into the input pipeline's feed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ridge_core::bench::storage::{Access, CacheBypass, ReadPattern, StorageReads};

/// Alignment of `O_DIRECT` buffers, offsets and lengths (the common logical block size).
const ALIGN: usize = 4096;
/// 1 MiB.
const MIB: u64 = 1 << 20;
/// Most time one pattern reads for (it stops earlier once it has read the whole file).
const PATTERN_BUDGET: Duration = Duration::from_millis(1500);

/// What to measure.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The directory to write the scratch file in.
    pub dir: PathBuf,
    /// Its size in bytes (rounded down to whole MiB, at least one).
    pub file_bytes: u64,
}

/// Removes the scratch file however the measurement ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A buffer of `len` bytes whose start is aligned to [`ALIGN`] (inside a larger vector, so no
/// unsafe code is needed).
struct Aligned {
    bytes: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        let bytes = vec![0u8; len + ALIGN];
        let start = bytes.as_ptr().align_offset(ALIGN).min(ALIGN);
        Aligned { bytes, start, len }
    }

    fn slice(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..self.start + self.len]
    }
}

/// A seeded xorshift64: file contents that do not compress, and random offsets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Measures the reads of `opts.dir`.
pub fn measure(opts: &ReadOptions) -> Result<StorageReads> {
    let dir = &opts.dir;
    if !dir.is_dir() {
        bail!("--read-path {}: not a directory", dir.display());
    }
    let file_bytes = (opts.file_bytes / MIB).max(1) * MIB;
    let path = dir.join(format!(".ridge-read-{}.scratch", std::process::id()));
    let scratch = Scratch(path);
    write_scratch(&scratch.0, file_bytes)
        .with_context(|| format!("--read-path: cannot write a scratch file in {}", dir.display()))?;
    let (file, cache_bypass) = open_uncached(&scratch.0)?;
    let mut patterns = Vec::new();
    for (access, block) in
        [(Access::Sequential, MIB), (Access::Random, MIB), (Access::Sequential, 4096), (Access::Random, 4096)]
    {
        if cache_bypass == CacheBypass::FadviseDontneed {
            drop_cached(&file);
        }
        patterns.push(
            read_pattern(&file, file_bytes, access, block)
                .with_context(|| format!("--read-path: reading {}", scratch.0.display()))?,
        );
    }
    Ok(StorageReads { path: dir.display().to_string(), file_bytes, cache_bypass, patterns })
}

fn write_scratch(path: &Path, file_bytes: u64) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut chunk = vec![0u8; MIB as usize];
    for _ in 0..file_bytes / MIB {
        for word in chunk.chunks_exact_mut(8) {
            word.copy_from_slice(&rng.next().to_le_bytes());
        }
        f.write_all(&chunk)?;
    }
    f.sync_all()?;
    Ok(())
}

/// The file opened so that reads bypass the page cache: `O_DIRECT` where the file system takes
/// it (a first aligned read proves it), else a plain open whose cached pages are dropped.
fn open_uncached(path: &Path) -> Result<(std::fs::File, CacheBypass)> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::{FileExt, OpenOptionsExt};
        let direct =
            std::fs::OpenOptions::new().read(true).custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32).open(path);
        if let Ok(f) = direct {
            let mut probe = Aligned::new(ALIGN);
            if f.read_exact_at(probe.slice(), 0).is_ok() {
                return Ok((f, CacheBypass::ODirect));
            }
        }
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let how = if drop_cached(&f) { CacheBypass::FadviseDontneed } else { CacheBypass::None };
        Ok((f, how))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok((f, CacheBypass::None))
    }
}

/// Asks the kernel to drop the file's cached pages; whether it took the advice.
fn drop_cached(f: &std::fs::File) -> bool {
    #[cfg(target_os = "linux")]
    {
        rustix::fs::fadvise(f, 0, None, rustix::fs::Advice::DontNeed).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = f;
        false
    }
}

/// One pattern: `block`-byte reads, one at a time, until the file's bytes are read or the time
/// budget is spent (at least one read).
fn read_pattern(f: &std::fs::File, file_bytes: u64, access: Access, block: u64) -> Result<ReadPattern> {
    let blocks = file_bytes / block;
    let mut buf = Aligned::new(block as usize);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ block);
    let mut times = Vec::new();
    let start = Instant::now();
    for i in 0..blocks {
        let index = match access {
            Access::Sequential => i,
            Access::Random => rng.next() % blocks,
        };
        let t = Instant::now();
        read_at(f, buf.slice(), index * block)?;
        times.push(t.elapsed().as_secs_f64());
        if start.elapsed() > PATTERN_BUDGET {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let reads = times.len() as u64;
    let bytes = reads * block;
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize] * 1e3;
    Ok(ReadPattern {
        access,
        block_bytes: block,
        reads,
        bytes,
        seconds,
        gb_per_s: bytes as f64 / seconds / 1e9,
        median_latency_ms: at(0.5),
        p90_latency_ms: at(0.9),
    })
}

/// The reads as a table under the run's roofline.
pub fn print(s: &StorageReads, out: &mut dyn std::io::Write) -> Result<()> {
    use crate::format::{self, sig3};
    writeln!(
        out,
        "\nreads of {} ({} MiB scratch file, page cache bypassed by {}; one read at a time):",
        s.path,
        s.file_bytes / MIB,
        s.cache_bypass.name()
    )?;
    let mut t = format::table(&["access", "block", "reads", "GB/s", "median read", "p90 read"]);
    for p in &s.patterns {
        let access = match p.access {
            Access::Sequential => "sequential",
            Access::Random => "random",
        };
        let block = if p.block_bytes >= MIB {
            format!("{} MiB", p.block_bytes / MIB)
        } else {
            format!("{} KiB", p.block_bytes / 1024)
        };
        t.add_row(vec![
            access.to_string(),
            block,
            p.reads.to_string(),
            sig3(p.gb_per_s),
            format!("{} ms", sig3(p.median_latency_ms)),
            format!("{} ms", sig3(p.p90_latency_ms)),
        ]);
    }
    writeln!(out, "{t}")?;
    if let Some(f) = s.feed() {
        writeln!(
            out,
            "as a feed (--feed-measured): {} GB/s, {} ms per request, one in flight",
            sig3(f.gb_per_s),
            sig3(f.latency_ms)
        )?;
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(not(unix))]
fn read_at(f: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}
