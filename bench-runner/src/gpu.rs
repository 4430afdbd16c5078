//! wgpu plumbing: finding adapters, opening a device, buffers, and timing dispatches. The only
//! module that talks to the GPU.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use ridge_core::bench::device::{Backend, DeviceType, Fingerprint};
use ridge_core::bench::uniforms::Uniform;
use wgpu::util::DeviceExt;

mod quiet;

/// The wgpu version this runner links, recorded in fingerprints.
pub const WGPU_VERSION: &str = "30";

/// How to get an adapter when none is found.
pub const NO_ADAPTER_HELP: &str = "no GPU adapter found. Install your GPU's Vulkan, Metal or DirectX 12 driver; \
or, to run on the CPU, Mesa's lavapipe (`apt-get install mesa-vulkan-drivers`) and select it with \
`WGPU_BACKEND=vulkan WGPU_ADAPTER_NAME=llvmpipe`";

/// The backends to search: `WGPU_BACKEND` when set, else Vulkan, Metal and DirectX 12 (the
/// OpenGL backend has no place in compute benchmarking).
fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY)
}

/// A wgpu instance honouring `WGPU_BACKEND` (and wgpu's other environment variables).
pub fn instance() -> wgpu::Instance {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    wgpu::Instance::new(wgpu::InstanceDescriptor { backends: backends(), ..desc })
}

/// Every adapter of the enabled backends whose name contains `filter` (case-insensitive), or
/// `WGPU_ADAPTER_NAME` when `filter` is `None`.
pub fn adapters(instance: &wgpu::Instance, filter: Option<&str>) -> Vec<wgpu::Adapter> {
    let backends = backends();
    let env = std::env::var("WGPU_ADAPTER_NAME").ok();
    let wanted = filter.map(str::to_string).or(env).map(|s| s.to_lowercase());
    quiet::quiet_wayland_probe(|| pollster::block_on(instance.enumerate_adapters(backends)))
        .into_iter()
        .filter(|a| wanted.as_ref().is_none_or(|w| a.get_info().name.to_lowercase().contains(w.as_str())))
        .collect()
}

const FEATURES: &[(wgpu::Features, &str)] = &[
    (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
    (wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES, "timestamp-query-inside-passes"),
    (wgpu::Features::SHADER_F16, "shader-f16"),
];

fn feature_names(f: wgpu::Features) -> Vec<String> {
    FEATURES.iter().filter(|(flag, _)| f.contains(*flag)).map(|(_, n)| n.to_string()).collect()
}

fn limit_map(l: &wgpu::Limits) -> BTreeMap<String, u64> {
    BTreeMap::from([
        ("max_buffer_size".into(), l.max_buffer_size),
        ("max_storage_buffer_binding_size".into(), l.max_storage_buffer_binding_size),
        ("max_compute_workgroups_per_dimension".into(), u64::from(l.max_compute_workgroups_per_dimension)),
        ("max_compute_invocations_per_workgroup".into(), u64::from(l.max_compute_invocations_per_workgroup)),
        ("max_compute_workgroup_storage_size".into(), u64::from(l.max_compute_workgroup_storage_size)),
        ("max_storage_buffers_per_shader_stage".into(), u64::from(l.max_storage_buffers_per_shader_stage)),
    ])
}

/// ridge's name for a wgpu device type (the names in files and device keys are ridge's, so a wgpu
/// release cannot change them).
pub fn device_type(t: wgpu::DeviceType) -> DeviceType {
    match t {
        wgpu::DeviceType::Other => DeviceType::Other,
        wgpu::DeviceType::IntegratedGpu => DeviceType::IntegratedGpu,
        wgpu::DeviceType::DiscreteGpu => DeviceType::DiscreteGpu,
        wgpu::DeviceType::VirtualGpu => DeviceType::VirtualGpu,
        wgpu::DeviceType::Cpu => DeviceType::Cpu,
    }
}

/// ridge's name for a wgpu backend.
pub fn backend(b: wgpu::Backend) -> Backend {
    match b {
        wgpu::Backend::Noop => Backend::Noop,
        wgpu::Backend::Vulkan => Backend::Vulkan,
        wgpu::Backend::Metal => Backend::Metal,
        wgpu::Backend::Dx12 => Backend::Dx12,
        wgpu::Backend::Gl => Backend::Gl,
        wgpu::Backend::BrowserWebGpu => Backend::BrowserWebGpu,
    }
}

/// Describes an adapter: what `ridge devices` lists and every result file records.
pub fn report(adapter: &wgpu::Adapter) -> Fingerprint {
    let info = adapter.get_info();
    Fingerprint {
        name: info.name,
        vendor_id: info.vendor,
        device_id: info.device,
        device_type: device_type(info.device_type),
        backend: backend(info.backend),
        driver: info.driver,
        driver_info: info.driver_info,
        wgpu_version: WGPU_VERSION.into(),
        features: feature_names(adapter.features()),
        limits: limit_map(&adapter.limits()),
    }
}

/// An open device.
#[derive(Debug)]
pub struct Gpu {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter's description.
    pub report: Fingerprint,
    /// The device's limits (the adapter's maximum).
    pub limits: wgpu::Limits,
    /// GPU timestamps are available.
    pub timestamps: bool,
    /// `enable f16;` shaders are available.
    pub f16: bool,
    lost: Arc<Mutex<Option<String>>>,
    /// Seconds a submission may take before it counts as a hang.
    pub timeout: Duration,
}

/// The three bindings every kernel uses after its uniform: two inputs and an output.
#[derive(Debug)]
pub struct Bindings<'a> {
    /// The kernel's `Params` ([`Gpu::params`]).
    pub params: &'a wgpu::Buffer,
    /// First input.
    pub a: &'a wgpu::Buffer,
    /// Second input.
    pub b: &'a wgpu::Buffer,
    /// Output.
    pub out: &'a wgpu::Buffer,
}

/// A compiled kernel.
#[derive(Debug)]
pub struct Kernel {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// Seconds a submission may run before it counts as a hang: a minute on a GPU, whose longest
/// kernel takes well under a second; ten on a CPU adapter, where one dispatch of the standard
/// suite's 4096³ GEMM takes lavapipe tens of seconds (and compiling a shader is part of its
/// first dispatch).
pub fn hang_limit(device_type: DeviceType) -> Duration {
    Duration::from_secs(if device_type == DeviceType::Cpu { 600 } else { 60 })
}

impl Gpu {
    /// Opens the adapter with its maximum limits and the features ridge uses.
    pub fn open(adapter: &wgpu::Adapter) -> Result<Gpu> {
        let report = report(adapter);
        let wanted = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SHADER_F16;
        let features = adapter.features() & wanted;
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ridge"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .with_context(|| format!("cannot open a device on {}", report.name))?;
        let lost = Arc::new(Mutex::new(None));
        let lost_in_cb = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut l) = lost_in_cb.lock() {
                *l = Some(format!("device lost ({reason:?}): {message}"));
            }
        });
        // Errors are caught by error scopes around each kernel; anything that escapes them is
        // reported here instead of aborting the process.
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| eprintln!("ridge: uncaptured GPU error: {e}")));
        let timeout = hang_limit(report.device_type);
        Ok(Gpu {
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            f16: features.contains(wgpu::Features::SHADER_F16),
            device,
            queue,
            report,
            limits,
            lost,
            timeout,
        })
    }

    /// Whether the adapter is a CPU rasterizer (lavapipe, WARP, SwiftShader).
    pub fn is_cpu(&self) -> bool {
        self.report.device_type == DeviceType::Cpu
    }

    /// The fingerprint recorded in result files.
    pub fn fingerprint(&self) -> Fingerprint {
        self.report.clone()
    }

    /// Why the device was lost, if it was.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|l| l.clone())
    }

    /// Runs `f` inside validation and out-of-memory error scopes; any GPU error becomes an `Err`.
    pub fn scoped<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        let v = pollster::block_on(validation.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(lost) = self.lost() {
            bail!(lost);
        }
        if let Some(e) = v.or(o) {
            bail!("GPU error: {e}");
        }
        out
    }

    /// Compiles `entry` of a WGSL source with the standard four bindings.
    pub fn kernel(&self, label: &str, source: &str, entry: &str) -> Result<Kernel> {
        self.scoped(|| {
            let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let layout = self.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(label),
                entries: &[
                    wgpu::BindGroupLayoutEntry {
                        binding: 0,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Uniform,
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        count: None,
                    },
                    storage(1, true),
                    storage(2, true),
                    storage(3, false),
                ],
            });
            let pipeline_layout = self.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
            Ok(Kernel { pipeline, layout })
        })
        .with_context(|| format!("compiling kernel `{entry}`"))
    }

    /// A storage buffer holding `data`.
    pub fn storage(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: data,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        })
    }

    /// An uninitialised storage buffer of `bytes`.
    pub fn output(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(16),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A kernel's parameters as its uniform buffer.
    pub fn params(&self, params: &impl Uniform) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: params.bytes(),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    /// Binds the four standard slots for a kernel.
    pub fn bind(&self, kernel: &Kernel, b: &Bindings<'_>) -> wgpu::BindGroup {
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &kernel.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: b.params.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: b.a.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: b.b.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: b.out.as_entire_binding() },
            ],
        })
    }

    /// Waits for all submitted work, failing on a hang or a lost device.
    pub fn wait(&self) -> Result<()> {
        match self.device.poll(wgpu::PollType::Wait { submission_index: None, timeout: Some(self.timeout) }) {
            Ok(_) => {}
            Err(wgpu::PollError::Timeout) => bail!("the GPU did not finish within {} s (hang)", self.timeout.as_secs()),
            Err(e) => bail!("waiting for the GPU: {e}"),
        }
        if let Some(lost) = self.lost() {
            bail!(lost);
        }
        Ok(())
    }

    /// Runs `repeats` dispatches of a kernel in one compute pass and returns seconds per
    /// dispatch: from GPU timestamps around the pass where available, else host time from
    /// submit to completion.
    pub fn time(
        &self,
        kernel: &Kernel,
        group: &wgpu::BindGroup,
        workgroups: [u32; 3],
        repeats: u32,
    ) -> Result<(f64, bool)> {
        self.scoped(|| {
            let queries = self.timestamps.then(|| {
                let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                });
                let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timestamps-resolve"),
                    size: 16,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                });
                let read = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timestamps-read"),
                    size: 16,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                (set, resolve, read)
            });
            let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: queries.as_ref().map(|(set, _, _)| wgpu::ComputePassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    }),
                });
                pass.set_pipeline(&kernel.pipeline);
                pass.set_bind_group(0, group, &[]);
                for _ in 0..repeats {
                    pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
                }
            }
            if let Some((set, resolve, read)) = &queries {
                encoder.resolve_query_set(set, 0..2, resolve, 0);
                encoder.copy_buffer_to_buffer(resolve, 0, read, 0, 16);
            }
            let start = Instant::now();
            self.queue.submit([encoder.finish()]);
            self.wait()?;
            let host_s = start.elapsed().as_secs_f64();
            let Some((_, _, read)) = &queries else {
                return Ok((host_s / f64::from(repeats), false));
            };
            let bytes = self.read_bytes(read, 16)?;
            let t0 = u64::from_le_bytes(bytes[0..8].try_into()?);
            let t1 = u64::from_le_bytes(bytes[8..16].try_into()?);
            let period_ns = f64::from(self.queue.get_timestamp_period());
            let gpu_s = t1.wrapping_sub(t0) as f64 * period_ns * 1e-9;
            if t1 <= t0 || !gpu_s.is_finite() || gpu_s > host_s * 1.5 + 1e-3 {
                // Timestamps that run backwards or beyond the host's own measurement are not
                // trustworthy on this driver: fall back to host time for this sample.
                return Ok((host_s / f64::from(repeats), false));
            }
            Ok((gpu_s / f64::from(repeats), true))
        })
    }

    /// Reads the first `bytes` of a MAP_READ buffer.
    pub fn read_bytes(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        self.map_read(buffer, bytes, <[u8]>::to_vec)
    }

    /// Maps the first `bytes` of a MAP_READ buffer and hands them to `f`, which runs as soon as
    /// the mapping is ready (after all work submitted before it has finished).
    pub fn map_read<T>(&self, buffer: &wgpu::Buffer, bytes: u64, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        let slice = buffer.slice(0..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv_timeout(self.timeout)
            .map_err(|_| anyhow!("buffer map did not complete"))?
            .context("mapping a buffer")?;
        let out = f(&slice.get_mapped_range().map_err(|e| anyhow!("reading a mapped buffer: {e:?}"))?);
        buffer.unmap();
        Ok(out)
    }

    /// Copies a storage buffer back to the host as f32 values.
    pub fn read_f32(&self, buffer: &wgpu::Buffer, count: usize) -> Result<Vec<f32>> {
        let bytes = (count * 4) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        // One copy, straight from the mapping into f32 values.
        self.map_read(&staging, bytes, bytemuck::pod_collect_to_vec::<u8, f32>)
    }

    /// Largest storage binding the device allows, rounded down to 256 bytes.
    pub fn max_binding(&self) -> u64 {
        let b = self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size);
        b / 256 * 256
    }

    /// A grid covering `invocations` with workgroups of `size`, within the per-dimension limit:
    /// returns the workgroup counts and the invocations per grid row (the kernels' `stride`).
    pub fn grid(&self, invocations: u64, size: u32) -> Result<([u32; 3], u32)> {
        ridge_core::bench::checks::grid(invocations, size, self.limits.max_compute_workgroups_per_dimension)
            .ok_or_else(|| anyhow!("{invocations} invocations exceed the dispatch limits"))
    }
}

/// The bytes of a slice of f32, without a copy (native byte order: every GPU host ridge targets is
/// little-endian, as WGSL's storage buffers are).
pub fn f32_bytes(v: &[f32]) -> &[u8] {
    bytemuck::cast_slice(v)
}

/// Bytes of a slice of f32 converted to IEEE half precision (round to nearest even; the suite
/// only converts values that are exact in f16).
pub fn f16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect()
}

/// The bytes of a slice of u32, without a copy (native byte order, as [`f32_bytes`]).
pub fn u32_bytes(v: &[u32]) -> &[u8] {
    bytemuck::cast_slice(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_encoding() {
        let bits = f16_bytes(&[1.0, -2.0, 0.5, 1.0 / 256.0, 0.0, 65504.0]);
        let words: Vec<u16> = bits.chunks(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(words, [0x3c00, 0xc000, 0x3800, 0x1c00, 0, 0x7bff]);
    }
}
