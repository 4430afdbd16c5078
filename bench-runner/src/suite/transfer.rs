//! Host transfers, timed on the host one at a time: host to device through a mapped staging
//! buffer and through `queue.write_buffer`, device to host through a mapped read-back buffer.

use std::time::Instant;

use anyhow::{Result, anyhow};
use ridge_core::Precision;
use ridge_core::bench::reference;
use ridge_core::bench::result::{
    KernelGroup, KernelResult, ThroughputUnit, Timing, TimingMethod, TransferMethod, Work,
};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::stats::Summary;

use super::exec::{Ctx, Spec, par_compare, par_fill, params};
use crate::gpu::f32_bytes;

impl Ctx<'_> {
    /// A host transfer by `method`.
    pub(super) fn transfer(&self, method: TransferMethod) -> KernelResult {
        match method {
            TransferMethod::Mapped => self.h2d_mapped(),
            TransferMethod::WriteBuffer => self.h2d_write_buffer(),
            TransferMethod::ReadBack => self.d2h(),
        }
    }

    /// The result's shape: `method` is recorded as a parameter, which is how a result file
    /// carries the transfer's direction ([`KernelResult::transfer_method`]).
    fn transfer_spec(&self, method: TransferMethod) -> Spec<'static> {
        let bytes = self.plan.transfer_bytes;
        Spec {
            name: method.kernel_name(),
            group: KernelGroup::Transfer,
            precision: Precision::Fp32,
            params: params(&[("bytes", bytes as f64), ("method", method.code())]),
            work: Work { bytes: bytes as f64, flops: 0.0 },
            unit: ThroughputUnit::GbPerS,
        }
    }

    /// Host to device through a mapped staging buffer: the CPU's writes into the mapping are
    /// where the bytes cross the host link on a discrete GPU (whose drivers place such buffers in
    /// device memory the CPU can write), so the sample covers map, copy in (on all cores, as a
    /// program that wants its data on the GPU fast would), unmap, the GPU copy and completion.
    fn h2d_mapped(&self) -> KernelResult {
        let spec = self.transfer_spec(TransferMethod::Mapped);
        let bytes = self.plan.transfer_bytes;
        let values = par_fill(&mut SplitMix64::new(21), (bytes / 4) as usize, -1.0, 1.0);
        let data = f32_bytes(&values);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let staging = g.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("h2d-staging"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let dst = g.output("h2d-dst", bytes);
            let once = || -> Result<f64> {
                g.scoped(|| {
                    let start = Instant::now();
                    let slice = staging.slice(..);
                    let (tx, rx) = std::sync::mpsc::channel();
                    slice.map_async(wgpu::MapMode::Write, move |r| {
                        let _ = tx.send(r);
                    });
                    g.wait()?;
                    rx.recv().map_err(|_| anyhow!("map did not complete"))??;
                    slice.get_mapped_range_mut().map_err(|e| anyhow!("{e:?}"))?.copy_from_slice(data);
                    staging.unmap();
                    let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
                    enc.copy_buffer_to_buffer(&staging, 0, &dst, 0, bytes);
                    g.queue.submit([enc.finish()]);
                    g.wait()?;
                    Ok(start.elapsed().as_secs_f64())
                })
            };
            let timing = self.host_samples(once)?;
            Ok((timing, g.read_f32(&dst, (bytes / 4) as usize)?))
        };
        self.finish_transfer(spec, run(), &values)
    }

    /// Host to device with `queue.write_buffer` (wgpu copies into its own staging memory).
    fn h2d_write_buffer(&self) -> KernelResult {
        let spec = self.transfer_spec(TransferMethod::WriteBuffer);
        let bytes = self.plan.transfer_bytes;
        let values = par_fill(&mut SplitMix64::new(23), (bytes / 4) as usize, -1.0, 1.0);
        let data = f32_bytes(&values);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let dst = g.output("h2d-dst", bytes);
            let once = || -> Result<f64> {
                g.scoped(|| {
                    let start = Instant::now();
                    g.queue.write_buffer(&dst, 0, data);
                    g.queue.submit([]);
                    g.wait()?;
                    Ok(start.elapsed().as_secs_f64())
                })
            };
            let timing = self.host_samples(once)?;
            Ok((timing, g.read_f32(&dst, (bytes / 4) as usize)?))
        };
        self.finish_transfer(spec, run(), &values)
    }

    /// Device to host: GPU copy into a MAP_READ buffer, map, and copy out into host memory.
    fn d2h(&self) -> KernelResult {
        let spec = self.transfer_spec(TransferMethod::ReadBack);
        let bytes = self.plan.transfer_bytes;
        let values = par_fill(&mut SplitMix64::new(29), (bytes / 4) as usize, -1.0, 1.0);
        let data = f32_bytes(&values);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let src = g.storage("d2h-src", data);
            let read = g.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("d2h-read"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let last = std::cell::RefCell::new(Vec::new());
            let once = || -> Result<f64> {
                g.scoped(|| {
                    let start = Instant::now();
                    let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
                    enc.copy_buffer_to_buffer(&src, 0, &read, 0, bytes);
                    g.queue.submit([enc.finish()]);
                    // The bytes have crossed the link once the copy into the host-side buffer is
                    // done and mapped; copying them out of the mapping is the CPU's memory
                    // bandwidth, not the link's, and is not timed.
                    g.map_read(&read, bytes, |mapped| {
                        let s = start.elapsed().as_secs_f64();
                        *last.borrow_mut() = bytemuck::pod_collect_to_vec(mapped);
                        s
                    })
                })
            };
            let timing = self.host_samples(once)?;
            Ok((timing, last.into_inner()))
        };
        self.finish_transfer(spec, run(), &values)
    }

    fn host_samples(&self, once: impl Fn() -> Result<f64>) -> Result<Timing> {
        once()?;
        let samples = (0..self.plan.samples).map(|_| once()).collect::<Result<Vec<f64>>>()?;
        let summary = Summary::of(&samples).ok_or_else(|| anyhow!("timing produced no usable samples"))?;
        Ok(Timing { method: TimingMethod::Host, repeats_per_sample: 1, samples_s: samples, summary })
    }

    fn finish_transfer(&self, spec: Spec<'_>, run: Result<(Timing, Vec<f32>)>, want: &[f32]) -> KernelResult {
        self.conclude(spec, run, |got| {
            if got.len() == want.len() {
                par_compare(got, 0.0, |i| want[i])
            } else {
                reference::compare(got, want, 0.0)
            }
        })
    }
}
