/**
 * Writes docs/results.md, docs/results/summary.json and the SVG plots from one
 * results.json of the read-ahead demo (demo/demo-vm.sh calls it; every number
 * comes from that file and the host's load samples taken during the run).
 *
 *   node dist/demo/report.js --results <results.json> --out docs/results.md \
 *     --svg-dir docs/results [--host-load-file load.txt] [--host-cpus N] [--command ...]
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { parseArgs } from 'node:util';
import type * as vega from 'vega';
import { TRANSITION_NAMES } from '../src/abi/names.js';
import { MODE_NAMES } from '../src/transport/device.js';
import { renderSvg } from '../experiments/report.js';
import { idleCost, kib, spread, summarise } from './analyze.js';
import type { ArmSummary, Spread, WorkloadSummary } from './analyze.js';
import { FIXED_HEARTBEAT_MS, RESULTS_VERSION } from './records.js';
import type { Results, RunRecord } from './records.js';
import {
  PHASE_MIN_SETTING,
  WARMUP_SHARE,
  WORKLOAD_DESCRIPTIONS,
  isBuiltin,
  isJob,
} from './workloads.js';

const f2 = (x: number) => x.toFixed(2);
const f1 = (x: number) => x.toFixed(1);
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(0)}%`);
const range = (s: Spread | null, fmt = f2) =>
  s ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : '–';

function loadResults(file: string): Results {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
  if (r.meta?.version !== RESULTS_VERSION) {
    throw new Error(
      `${file}: results version ${String(r.meta?.version)}, this report reads ${RESULTS_VERSION}`,
    );
  }
  return r;
}

/** The host's load samples: "<unix seconds> <load1> <load5> <load15>" per line. */
export interface LoadSample {
  t: number;
  load1: number;
  /** Cumulative ns QEMU's threads waited for a host CPU (absent in older load files). */
  qemuWaitNs?: number;
}

function loadSamples(file: string | undefined): LoadSample[] {
  if (!file || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((v) => v.length >= 2 && v.every(Number.isFinite))
    .map((v) => ({ t: v[0], load1: v[1], ...(v.length >= 5 ? { qemuWaitNs: v[4] } : {}) }));
}

/**
 * Seconds QEMU's threads waited for a host CPU over a run: the counter's growth from the
 * last sample before the run to the first after it (so at most a sampling period more).
 */
function runHostWait(samples: LoadSample[], run: RunRecord): number | null {
  const start = Date.parse(run.startedAt) / 1000;
  const end = start + run.runtimeMs / 1000;
  const w = samples.filter((s) => s.qemuWaitNs !== undefined && s.qemuWaitNs > 0);
  const before = w.filter((s) => s.t <= start).pop();
  const after = w.find((s) => s.t >= end);
  if (!before || !after || after.qemuWaitNs! < before.qemuWaitNs!) return null;
  return (after.qemuWaitNs! - before.qemuWaitNs!) / 1e9;
}

/** Mean 1-minute load of the host over a run (samples within it, else the nearest). */
function runLoad(samples: LoadSample[], run: RunRecord): number | null {
  if (samples.length === 0) return null;
  const start = Date.parse(run.startedAt) / 1000;
  const end = start + run.runtimeMs / 1000;
  const inside = samples.filter((s) => s.t >= start - 5 && s.t <= end + 5);
  const use = inside.length
    ? inside
    : [samples.reduce((a, b) => (Math.abs(b.t - start) < Math.abs(a.t - start) ? b : a))];
  return use.reduce((a, s) => a + s.load1, 0) / use.length;
}

/** A window this much longer than the module's window length counts as a stall. */
const STALL_FACTOR = 2;

/**
 * The runs in which the guest stalled (a window over STALL_FACTOR x the window length: the
 * window's work, or the readers and the bench, did not run in time), with the guest's own
 * counters over the run (records.ts `vm`) and the host's load, so that a stall names its
 * cause: memory reclaim, the disk, the guest's CPU, or the host.
 */
function stallSection(results: Results, load: LoadSample[]): string[] {
  const wms = results.meta.windowMs;
  const measured = results.runs.filter((r) => r.windows.length > 0);
  const stalled = measured.filter((r) => r.windows.some((w) => w.lenMs > STALL_FACTOR * wms));
  const sec = (r: RunRecord, k: string) => (r.vm && k in r.vm ? (r.vm[k] / 1e6).toFixed(1) : '–');
  const n = (r: RunRecord, k: string) => (r.vm && k in r.vm ? String(r.vm[k]) : '–');
  const count = `Runs with a window longer than ${STALL_FACTOR} x ${wms} ms:`;
  if (stalled.length === 0)
    return ['## Guest stalls', '', `${count} none of ${measured.length}.`, ''];
  const out = [
    '## Guest stalls',
    '',
    `${count} ${stalled.length} of ${measured.length}. ` +
      "Per run, the guest's counters over it (/proc/pressure: seconds in which some task waited for memory, " +
      'the disk or the CPU; /proc/vmstat: pages scanned by kswapd and by direct reclaim, direct reclaim stalls, ' +
      "refaults of evicted file pages, pages given back with MADV_FREE that reclaim dropped), the host's load, where the guest's CPU went (/proc/stat: " +
      'seconds of user, system, softirq time and of iowait), the tasks that used the most of it, and the ' +
      "bench's own user / system seconds (and its threads with the most system time, with their minor faults and, exact, the seconds each ran and waited for the CPU) with its feedback waits (empty of all, and the longest overrun of a wait's timeout), " +
      "and how long QEMU's threads waited for a host CPU over the run (the emulated CPU stops meanwhile, and the guest " +
      'charges the time to whatever task was running). *In the kernel* (with DEMO_KERNEL_STACKS_MS): the samples that found a thread ' +
      'of the bench, or of the daemon, runnable or in disk sleep, of all samples, the longest gap between two samples, and ' +
      'the most frequent kernel stacks then (state, innermost frames first; `user`: preempted on its way back to user space).',
    '',
  ];
  const hz = 100; // the Debian kernels' USER_HZ
  const ticks = (r: RunRecord, k: string) =>
    r.vm && `cpu_${k}_ticks` in r.vm ? (r.vm[`cpu_${k}_ticks`] / hz).toFixed(1) : '–';
  const hostWait = (r: RunRecord) => {
    const w = runHostWait(load, r);
    return w === null ? '–' : f1(w);
  };
  const tasks = (r: RunRecord) =>
    r.topTasks?.length
      ? r.topTasks
          .slice(0, 4)
          .map((t) => `${t.task.replace(/^\d+ /, '')} ${f1(t.cpuMs / 1000)}`)
          .join(', ')
      : '–';
  // The bench's threads with the most system time: "(comm user / system s, minor faults)".
  const benchThreads = (r: RunRecord) =>
    r.bench?.threads?.length
      ? ` (${r.bench.threads
          .slice(0, 3)
          .map(
            (t) =>
              `${t.thread.replace(/^\d+ /, '')} ${f1(t.userMs / 1000)} / ${f1(t.systemMs / 1000)}, ${t.minorFaults} flt` +
              (t.runMs === undefined
                ? ''
                : `, ran ${f1(t.runMs / 1000)}, waited ${f1((t.waitMs ?? 0) / 1000)}`),
          )
          .join('; ')})`
      : '';
  const stacks = (r: RunRecord) => {
    const k = r.kernelStacks;
    if (!k) return '–';
    const top = k.top
      .slice(0, 3)
      .map((t) => `${t.stack} ×${t.n}`)
      .join('; ');
    return `${k.hits} / ${k.samples}, gap ${k.maxGapMs.toFixed(0)} ms${top ? `: ${top}` : ''}`;
  };
  out.push(
    '| run | at setting | longest window ms | windows > 2x | run s | PSI memory s | PSI io s | PSI cpu s | kswapd scan | direct scan | allocstall | refaults | lazyfree dropped | host load | user / system / softirq / iowait s | top tasks (s) | bench user / system s | bench waits empty / all, overrun ms | QEMU waited for a host CPU s | in the kernel |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of stalled) {
    const long = r.windows.filter((w) => w.lenMs > STALL_FACTOR * wms);
    const name = `${r.workload} ${r.kind === 'fixed' ? `fixed-${2 ** (r.setting ?? 0)}` : r.kind === 'daemon' ? `daemon-${r.policy}` : r.kind} #${r.repeat}`;
    const l = runLoad(load, r);
    out.push(
      `| ${name} | ${pct(r.holdShare)} | ${Math.max(...long.map((w) => w.lenMs)).toFixed(0)} | ${long.length} | ` +
        `${f1(r.runtimeMs / 1000)} | ${sec(r, 'psi_memory_some_us')} | ${sec(r, 'psi_io_some_us')} | ${sec(r, 'psi_cpu_some_us')} | ` +
        `${n(r, 'pgscan_kswapd')} | ${n(r, 'pgscan_direct')} | ${n(r, 'allocstall')} | ${n(r, 'workingset_refault_file')} | ${n(r, 'pglazyfreed')} | ${l === null ? '–' : f1(l)} | ` +
        `${ticks(r, 'user')} / ${ticks(r, 'system')} / ${ticks(r, 'softirq')} / ${ticks(r, 'iowait')} | ${tasks(r)} | ` +
        (r.bench
          ? `${f1(r.bench.userMs / 1000)} / ${f1(r.bench.systemMs / 1000)}${benchThreads(r)} | ${r.bench.emptyWaits} / ${r.bench.waits}, ${r.bench.lateMaxMs.toFixed(0)} |`
          : '– | – |') +
        ` ${hostWait(r)} | ${stacks(r).replace(/\|/g, '\\|')} |`,
    );
  }
  out.push('');
  return out;
}

function armLoad(samples: LoadSample[], a: ArmSummary): Spread | null {
  return spread(a.runs.map((r) => runLoad(samples, r)));
}

function throughputSpec(w: WorkloadSummary): vega.Spec {
  const points = w.fixed.map((a) => ({
    x: kib(a.setting!),
    y: a.steady.median,
    lo: a.steady.min,
    hi: a.steady.max,
  }));
  const lines = [
    ...(w.default ? [{ label: 'kernel default (median)', y: w.default.steady.median }] : []),
    ...w.policies.map((p) => ({ label: `daemon ${p.policy} (median)`, y: p.arm.steady.median })),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 460,
    height: 240,
    padding: 8,
    title: { text: `${w.workload}: readers' steady-state throughput (MiB/s)`, fontSize: 13 },
    data: [
      { name: 'points', values: points },
      { name: 'lines', values: lines },
    ],
    scales: [
      {
        name: 'x',
        type: 'point',
        domain: { data: 'points', field: 'x' },
        range: 'width',
        padding: 0.5,
      },
      {
        name: 'y',
        type: 'linear',
        domain: {
          fields: [
            { data: 'points', field: 'hi' },
            { data: 'lines', field: 'y' },
          ],
        },
        zero: true,
        nice: true,
        range: 'height',
      },
      {
        name: 'color',
        type: 'ordinal',
        domain: { data: 'lines', field: 'label' },
        range: 'category',
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'fixed read-ahead (median and range of repeats)' },
      { orient: 'left', scale: 'y', title: 'MiB/s', grid: true },
    ],
    legends: [{ stroke: 'color', orient: 'bottom', direction: 'vertical', labelLimit: 400 }],
    marks: [
      {
        type: 'rule',
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'lo' },
            y2: { scale: 'y', field: 'hi' },
            stroke: { value: '#888' },
          },
        },
      },
      {
        type: 'symbol',
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'y' },
            fill: { value: '#333' },
            size: { value: 40 },
          },
        },
      },
      {
        type: 'rule',
        from: { data: 'lines' },
        encode: {
          enter: {
            x: { value: 0 },
            x2: { signal: 'width' },
            y: { scale: 'y', field: 'y' },
            stroke: { scale: 'color', field: 'label' },
            strokeWidth: { value: 2 },
            strokeDash: { value: [6, 3] },
          },
        },
      },
    ],
  };
}

/** The daemon's advised setting and the readers' throughput over time (repeat 1). */
function timelineSpec(w: WorkloadSummary): vega.Spec | null {
  const p = w.policies[0];
  const run = p?.arm.runs.find((r) => r.repeat === 1) ?? p?.arm.runs[0];
  if (!run) return null;
  const knobs = run.windows
    .filter((x) => x.applied)
    .map((x) => ({ t: x.tMs / 1000, knob: x.knob, mode: MODE_NAMES[x.mode] }));
  const rate = run.perSecondMiBs.map((y, i) => ({ t: i + 0.5, y }));
  if (knobs.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 460,
    height: 260,
    padding: 8,
    title: {
      text: `${w.workload}: daemon ${p.policy}, repeat ${run.repeat}: advised read-ahead (points) and readers' MiB/s (line)`,
      fontSize: 12,
    },
    data: [
      { name: 'k', values: knobs },
      { name: 'r', values: rate },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'r', field: 't' }, range: 'width', nice: true },
      { name: 'y', type: 'linear', domain: [4, 12], zero: false, range: 'height' },
      {
        name: 'y2',
        type: 'linear',
        domain: { data: 'r', field: 'y' },
        range: 'height',
        zero: true,
        nice: true,
      },
      { name: 'shape', type: 'ordinal', domain: { data: 'k', field: 'mode' }, range: 'symbol' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'seconds since the readers’ first byte' },
      { orient: 'left', scale: 'y', title: 'ra_kb_log2 (4 = 16 KiB, 12 = 4 MiB)', tickCount: 9 },
      { orient: 'right', scale: 'y2', title: 'MiB/s' },
    ],
    legends: [{ shape: 'shape', title: 'mode', orient: 'bottom', direction: 'horizontal' }],
    marks: [
      {
        type: 'line',
        from: { data: 'r' },
        encode: {
          enter: {
            x: { scale: 'x', field: 't' },
            y: { scale: 'y2', field: 'y' },
            stroke: { value: '#c44' },
            strokeWidth: { value: 1.5 },
          },
        },
      },
      {
        type: 'symbol',
        from: { data: 'k' },
        encode: {
          enter: {
            x: { scale: 'x', field: 't' },
            y: { scale: 'y', field: 'knob' },
            shape: { scale: 'shape', field: 'mode' },
            fill: { value: '#247' },
            size: { value: 14 },
            opacity: { value: 0.7 },
          },
        },
      },
    ],
  };
}

interface Ctx {
  command: string;
  hostCpus: string | null;
  started: string | null;
  load: LoadSample[];
  svgLinks: Map<string, string[]>;
  resultsFile: string;
}

/** The machine-readable summary: docs/results/summary.json. */
export function summaryJson(results: Results, sums: WorkloadSummary[], load: LoadSample[]) {
  const sp = (s: Spread | null) =>
    s ? { median: s.median, min: s.min, max: s.max, n: s.n } : null;
  const arm = (a: ArmSummary) => ({
    kind: a.kind,
    setting: a.setting,
    settingKiB: a.setting === null ? null : 2 ** a.setting,
    steadyMiBs: sp(a.steady),
    wholeMiBs: sp(a.whole),
    holdShare: sp(a.hold),
    kernelEfficiencyMiBs: sp(a.efficiency),
    hostLoad1: sp(armLoad(load, a)),
  });
  return {
    generatedFrom: { startedAt: results.meta.startedAt, finishedAt: results.meta.finishedAt },
    profile: results.meta.storage,
    kernel: results.meta.kernel,
    windowMs: results.meta.windowMs,
    moduleParams: results.meta.moduleParams,
    baselineKiB: results.meta.baselineKb,
    idleDaemon: idleCost(results),
    workloads: sums.map((w) => {
      const arms: Record<string, unknown> = {};
      if (w.default) arms.default = arm(w.default);
      for (const a of w.fixed) arms[a.arm] = arm(a);
      for (const p of w.policies) {
        const r = p.runs;
        arms[`daemon-${p.policy}`] = {
          ...arm(p.arm),
          ofOracle: p.ofOracle,
          ofDefault: p.ofDefault,
          timeToOracleS: sp(spread(r.map((x) => x.toOracleS))),
          reachedOracle: `${r.filter((x) => x.toOracleS !== null).length}/${r.length}`,
          phaseTimeToOracleS: p.phases
            ? {
                seq: sp(
                  spread(
                    p.phases.filter((x) => x.kind === 'seq' && x.cycle > 0).map((x) => x.seconds),
                  ),
                ),
                mmap: sp(
                  spread(
                    p.phases.filter((x) => x.kind === 'mmap' && x.cycle > 0).map((x) => x.seconds),
                  ),
                ),
              }
            : null,
          belowBaselineShare: sp(spread(r.map((x) => x.belowBaseline))),
          adviceShare: sp(spread(r.map((x) => x.adviceShare))),
          cpuPercent: sp(spread(r.map((x) => x.cpuPercent))),
          rssMiB: sp(spread(r.map((x) => x.rssMiB))),
          peakRssMiB: sp(spread(r.map((x) => x.hwmMiB))),
        };
      }
      return {
        workload: w.workload,
        profile: results.meta.storage,
        oracle: w.oracle?.arm ?? null,
        nearOracleKiB: w.nearOracle.map((k) => 2 ** k),
        oracleSeparatedFromDefault: w.oracleSeparated,
        kernelRanking: w.rank,
        arms,
        goals: w.goals,
      };
    }),
  };
}

function armRow(a: ArmSummary, w: WorkloadSummary, load: LoadSample[]): string {
  const mark = w.oracle && a === w.oracle ? ' **oracle**' : '';
  const l = armLoad(load, a);
  return (
    `| ${a.arm}${mark} | ${range(a.steady)} | ${range(a.whole)} | ${range(a.efficiency)} | ` +
    `${a.hold ? range(a.hold, (x) => pct(x)) : '–'} | ${a.steady.n} | ${l ? f1(l.median) : '–'} |`
  );
}

function describe(w: string): string {
  return isBuiltin(w) ? WORKLOAD_DESCRIPTIONS[w] : `the user's script \`${w}\``;
}

export function renderMarkdown(results: Results, sums: WorkloadSummary[], ctx: Ctx): string {
  const m = results.meta;
  const out: string[] = [];
  const allLoad = spread(results.runs.map((r) => runLoad(ctx.load, r)));
  out.push('# Results: the daemon tunes read-ahead on a real kernel');
  out.push('');
  out.push(
    `Generated by \`${ctx.command}\` (demo/demo-vm.sh) from the run of ${m.startedAt} to ${m.finishedAt} ` +
      `(UTC), storage profile **${m.storage}**. Every number below was measured in that run; the raw records are in ` +
      `${ctx.resultsFile} (gitignored; the script keeps one per run), the summary in docs/results/summary.json.`,
  );
  out.push('');
  out.push('## Setup');
  out.push('');
  const pols = m.policies
    .map(
      (p) =>
        `\`${p.name}\` (${p.spec}${p.conservative === false ? '' : `, conservative alpha ${p.conservative}`})`,
    )
    .join(', ');
  out.push(
    [
      `- Guest: Debian's kernel ${m.kernel} under QEMU/TCG (no KVM), 1 vCPU` +
        (m.cpuStringOps
          ? ` whose string-op features were ${m.cpuStringOps.join(', ') || 'none'} (no erms: TCG runs \`rep stosb\` a byte at a time, scripts/vm/run-in-guest.sh)`
          : '') +
        `, ${m.guestMemoryMb} MiB RAM; host: ${ctx.hostCpus ?? '?'} cores shared with ` +
        `other work. Host load average (1 min) during the runs: ${range(allLoad, f1)}; every table gives it per arm.`,
      `- Storage: profile \`${m.storage}\` (scripts/vm/storage.sh) on the data disk \`${m.dataDev}\`, a raw ext4 image, ` +
        `${m.dataFiles.count} files (${f1(m.dataFiles.bytes / 2 ** 30)} GiB): 8 MiB files read sequentially and 128 MiB files mapped, each group larger than the page cache.`,
      `- Module: \`${m.moduleParams.join(' ')}\` for the daemon runs (fixed and default runs: \`check_period=0 heartbeat_ms=${FIXED_HEARTBEAT_MS}\`, a fixed arm measures a setting, not the bench's heartbeat): ${m.windowMs} ms windows; ` +
        `knob \`${m.knob.name}\` ${m.knob.min}..${m.knob.max} (${kib(m.knob.min)}..${kib(m.knob.max)}), baseline: the disk's read_ahead_kb, ` +
        `${m.baselineKb} KiB (knob def ${m.knob.def}), never written by the module.`,
      `- Workloads (mlp-reader, demo/reader.c; no fadvise or madvise hints):`,
      ...m.workloads.map((w) => `  - \`${w}\`: ${describe(w)}`),
      `- Arms, each ${m.repeats} times, interleaved (every repeat visits the arms of a workload in a rotated order):`,
      `  - **default**: the module in EMERGENCY (pinned, no controller): the baseline, read_ahead_kb as the administrator left it, ${m.fixedSeconds} s;`,
      `  - **fixed-<KiB>** for ra_kb_log2 in {${m.grid.join(', ')}} (the phase job from ${kib(PHASE_MIN_SETTING)}: below it a cycle takes minutes at 3 MiB/s sequential; the pread control only the grid's ends and the default): set ${m.fixedVia === 'mlproxy' ? `through mlproxy (${m.fixedHeldBy === 'mlp-pin' ? 'mlp-pin, a process of its own (demo/pin.c),' : 'the bench'} pins RECOMMENDATION and recommends it for every window, the path of the daemon's advice)` : 'through read_ahead_kb before the readers start'}, ${m.fixedSeconds} s (the phase job: one cycle); the best is the **oracle**;`,
      `  - **daemon-<policy>** with ${pols}: a freshly loaded module (EMERGENCY, no reference), the daemon claims the subsystem, the workload runs ${m.daemonSeconds} s (the phase job: whole cycles for ${m.daemonSeconds} s); its climb of the ladder is part of the run.`,
      `- Before every run the data files are evicted (posix_fadvise DONTNEED; mincore found 0 bytes resident in ` +
        `${results.runs.filter((r) => r.residentBytes === 0).length} of ${results.runs.filter((r) => r.residentBytes !== null).length} runs).`,
      `- Throughput is what the readers saw: bytes delivered to them per second, the clock starting at their first byte. ` +
        `*Steady*: over the last ${pct(1 - WARMUP_SHARE)} of the run; for the phase job, the cycles after the first (a fixed arm's only cycle). ` +
        `*Kernel efficiency*: the module's measure, MiB/s delivered to the readers in a window (read(2) and mmap faults), median over a run's measured windows. ` +
        "*At setting*: the share of the run's windows that ran the requested setting.",
    ].join('\n'),
  );
  out.push('');
  out.push('## Throughput per arm (MiB/s, median [min–max] over repeats)');
  for (const w of sums) {
    out.push('');
    out.push(`### ${w.workload}`);
    out.push('');
    out.push('| arm | steady | whole run | kernel efficiency | at setting | runs | host load |');
    out.push('|---|---|---|---|---|---|---|');
    if (w.default) out.push(armRow(w.default, w, ctx.load));
    for (const a of w.fixed) out.push(armRow(a, w, ctx.load));
    for (const p of w.policies) out.push(armRow(p.arm, w, ctx.load));
    const r = w.rank;
    out.push('');
    if (isJob(w.workload)) {
      out.push(
        "(A job's windows mix its two phases: the kernel's median efficiency over them ranks nothing; see `seq` and `mmap`.)",
      );
    } else
      out.push(
        `Kernel efficiency against the readers' throughput over the fixed settings: Spearman ρ = ${r.rho === null ? '–' : f2(r.rho)}; ` +
          `of ${r.separatedPairs} pairs of settings whose throughput ranges separate, the kernel ranks ${r.agreeingPairs} alike` +
          (r.disagreements.length ? ` (not: ${r.disagreements.join(', ')})` : '') +
          '.',
      );
    for (const svg of ctx.svgLinks.get(w.workload) ?? []) {
      out.push('');
      out.push(`![${w.workload}](${svg})`);
    }
  }
  out.push('');
  out.push('## The daemon against the default and the oracle');
  out.push('');
  out.push(
    "*of oracle* / *of default*: the daemon's median steady throughput over theirs. *to oracle*: seconds from the first byte until, from then on, " +
      "at least 80% of its advice windows ran a near-oracle setting (a fixed setting within 5% of the oracle's median; for `phase`, per phase, from the " +
      "phase's start, against the `seq` and `mmap` oracles, cycles after the first). *below baseline*: share of measured advice windows below the mean of " +
      "the measured baseline windows before and after them. *advice*: share of windows that ran advice. *CPU*: the daemon's user+system time over the " +
      "run, in % of the guest's one vCPU (shared with the workload).",
  );
  out.push('');
  out.push(
    '| workload | policy | oracle (near) | steady MiB/s | of oracle | of default | to oracle (s) | below baseline | advice | CPU | RSS MiB |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const w of sums) {
    for (const p of w.policies) {
      const r = p.runs;
      let to = spread(r.map((x) => x.toOracleS));
      let reached = `${r.filter((x) => x.toOracleS !== null).length}/${r.length}`;
      if (p.phases) {
        const later = p.phases.filter((x) => x.cycle > 0);
        to = spread(later.map((x) => x.seconds));
        reached = `${later.filter((x) => x.seconds !== null).length}/${later.length} phases`;
      }
      out.push(
        `| ${w.workload} | ${p.policy} | ${w.oracle?.arm ?? '–'} (${w.nearOracle.map((k) => kib(k)).join(', ')}) | ${range(p.arm.steady)} | ` +
          `${pct(p.ofOracle)} | ${pct(p.ofDefault)} | ${to ? range(to, f1) : '–'} (${reached}) | ` +
          `${pct(spread(r.map((x) => x.belowBaseline))?.median ?? null)} | ${pct(spread(r.map((x) => x.adviceShare))?.median ?? null)} | ` +
          `${range(spread(r.map((x) => x.cpuPercent)), f1)}% | ${range(spread(r.map((x) => x.hwmMiB)), f1)} |`,
      );
    }
  }
  out.push('');
  out.push('## Goals of issue 10, on this run');
  out.push('');
  out.push('| goal | met | measured |');
  out.push('|---|---|---|');
  for (const w of sums) {
    for (const g of w.goals) out.push(`| ${g.what} | ${g.met ? 'yes' : '**no**'} | ${g.detail} |`);
  }
  const idle = idleCost(results);
  const busy = spread(
    sums.flatMap((w) => w.policies.flatMap((p) => p.runs.map((r) => r.cpuPercent))),
  );
  // The steady state: each run's second half, without what start-up costs once.
  const late = spread(
    sums.flatMap((w) => w.policies.flatMap((p) => p.runs.map((r) => r.secondHalfCpuPercent))),
  );
  // Where the daemon's time went (records from 2026-12-02 on): system time (its system
  // calls, and what the tick charged to it) and the main thread's (JavaScript, the event loop).
  const daemonRuns = results.runs.filter((r) => r.kind === 'daemon' && r.daemon);
  const share = (k: 'systemRunMs' | 'mainThreadRunMs') =>
    spread(
      daemonRuns.map((r) =>
        r.daemon![k] === undefined ? null : (100 * r.daemon![k]!) / r.daemon!.runMs,
      ),
    );
  const sys = share('systemRunMs');
  const mainT = share('mainThreadRunMs');
  // Wake-ups (voluntary context switches of all its threads) per window and major faults
  // per run (records from 2026-12-03 on).
  const wakes = spread(
    daemonRuns.map((r) =>
      r.daemon!.voluntarySwitches === undefined
        ? null
        : r.daemon!.voluntarySwitches / (r.daemon!.runMs / m.windowMs),
    ),
  );
  const majf = spread(daemonRuns.map((r) => r.daemon!.majorFaults ?? null));
  const windowsPerS = 1000 / m.windowMs;
  const perWindow = busy ? (busy.median * 10) / windowsPerS : null;
  out.push(
    `| the daemon's CPU <= 3% of the guest's vCPU | ${
      busy ? (busy.median <= 3 && idle.every((i) => i.cpuPercent <= 3) ? 'yes' : '**no**') : '–'
    } | with workloads (${m.windowMs} ms windows) ${range(busy, f1)}%` +
      (sys && mainT
        ? ` (system ${f1(sys.median)}%, main thread ${f1(mainT.median)}%; ${perWindow === null ? '?' : perWindow.toFixed(0)} ms of the vCPU per window` +
          (wakes ? `, ${f1(wakes.median)} wake-ups per window` : '') +
          (majf ? `, ${range(majf, (x) => x.toFixed(0))} major faults per run` : '') +
          ')'
        : '') +
      (late ? `; over each run's second half ${range(late, f1)}%` : '') +
      `; idle ${idle.map((i) => `${i.policy} ${f1(i.cpuPercent)}% over ${f1(i.seconds)} s at ${i.windowMs ?? '?'} ms windows`).join(', ') || '–'} |`,
  );
  const holds = sums.flatMap((w) => [w.default, ...w.fixed].filter(Boolean) as ArmSummary[]);
  const holdMin = spread(holds.flatMap((a) => a.runs.map((r) => r.holdShare)));
  out.push(
    `| fixed arms hold their setting in >= 95% of windows | ${holdMin ? (holdMin.min >= 0.95 ? 'yes' : '**no**') : '–'} | every run: ${range(holdMin, (x) => pct(x))} |`,
  );
  out.push('');
  out.push(...stallSection(results, ctx.load));
  out.push('## Modes the kernel went through, and why');
  out.push('');
  out.push(
    'Windows spent in each mode during the daemon runs (summed over the repeats), and the transitions the status reported, by reason ' +
      '(*recover*: EMERGENCY -> LEARNING after the hold; *promote*: promote_windows good judgements in a row; *regression* / *collapse*: advice below ' +
      'both baseline windows around it by the margin / below collapse_pct of them; *heartbeat*: a missed heartbeat; *baseline*: the read_ahead_kb changed).',
  );
  out.push('');
  out.push(
    '| workload | policy | emergency | learning | collaboration | recommendation | transitions |',
  );
  out.push('|---|---|---|---|---|---|---|');
  for (const w of sums) {
    for (const p of w.policies) {
      const modes = [0, 1, 2, 3].map((i) => p.runs.reduce((a, r) => a + r.modeWindows[i], 0));
      const reasons = new Map<string, number>();
      for (const r of p.runs) {
        for (const t of r.transitions) {
          const key = `${MODE_NAMES[t.from]}->${MODE_NAMES[t.to]} ${TRANSITION_NAMES[t.reason] ?? t.reason}`;
          reasons.set(key, (reasons.get(key) ?? 0) + t.count);
        }
      }
      out.push(
        `| ${w.workload} | ${p.policy} | ${modes.join(' | ')} | ${[...reasons].map(([k, n]) => `${k} ×${n}`).join('; ') || 'none'} |`,
      );
    }
  }
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push(
    `DEMO_STORAGE=${m.storage} DEMO_REPEATS=${m.repeats} DEMO_FIXED_SECONDS=${m.fixedSeconds} DEMO_DAEMON_SECONDS=${m.daemonSeconds} ` +
      `DEMO_GRID=${m.grid.join(',')} DEMO_POLICIES=${m.policies.map((p) => p.name).join(',')} DEMO_WORKLOADS=${m.workloads.join(',')}` +
      (m.kernelStacksMs ? ` DEMO_KERNEL_STACKS_MS=${m.kernelStacksMs}` : '') +
      ' npm run demo:vm',
  );
  out.push('```');
  out.push('');
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      results: { type: 'string' },
      out: { type: 'string', default: 'docs/results.md' },
      'svg-dir': { type: 'string', default: 'docs/results' },
      command: { type: 'string', default: 'npm run demo:vm' },
      'host-load-file': { type: 'string' },
      'host-cpus': { type: 'string' },
      started: { type: 'string' },
    },
  });
  if (!values.results) throw new Error('--results <results.json> is required');
  const results = loadResults(values.results);
  const sums = summarise(results);
  const load = loadSamples(values['host-load-file']);
  const outDir = nodePath.dirname(values.out);
  fs.mkdirSync(values['svg-dir'], { recursive: true });
  const svgLinks = new Map<string, string[]>();
  for (const w of sums) {
    const links: string[] = [];
    const name = w.workload.replace(/\W/g, '_');
    const specs: [string, vega.Spec | null][] = [
      [`throughput-${name}.svg`, w.fixed.length ? throughputSpec(w) : null],
      [`daemon-${name}.svg`, timelineSpec(w)],
    ];
    for (const [file, spec] of specs) {
      if (!spec) continue;
      const path = nodePath.join(values['svg-dir'], file);
      fs.writeFileSync(path, await renderSvg(spec));
      links.push(nodePath.relative(outDir, path));
    }
    svgLinks.set(w.workload, links);
  }
  fs.writeFileSync(
    nodePath.join(values['svg-dir'], 'summary.json'),
    `${JSON.stringify(summaryJson(results, sums, load), null, 2)}\n`,
  );
  const md = renderMarkdown(results, sums, {
    command: values.command,
    hostCpus: values['host-cpus'] ?? null,
    started: values.started ?? null,
    load,
    svgLinks,
    resultsFile: nodePath.relative(process.cwd(), values.results),
  });
  fs.writeFileSync(values.out, md);
}

main().catch((err: Error) => {
  process.stderr.write(`report: ${err.message}\n`);
  process.exit(1);
});
