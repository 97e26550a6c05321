/**
 * Writes docs/results.md and its SVG plots from one results.json of the read-ahead demo
 * (scripts/demo/demo-vm.sh calls it; every number comes from that file).
 *
 *   node dist/experiments/readahead/report.js --results <results.json> --out docs/results.md \
 *     --svg-dir docs/results [--command "npm run demo:vm"] [--host-load ...] [--host-cpus N]
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { parseArgs } from 'node:util';
import type * as vega from 'vega';
import { renderSvg } from '../report.js';
import { MODE_NAMES } from '../../src/transport/device.js';
import { spread, summarise, windowWorkStats } from './analyze.js';
import type { ArmSummary, Spread, WorkloadSummary } from './analyze.js';
import { RESULTS_VERSION } from './records.js';
import type { Results } from './records.js';
import { WORKLOAD_DESCRIPTIONS } from './workloads.js';

const TRANSITION_NAMES = [
  'none',
  'promote',
  'regression',
  'collapse',
  'closed',
  'heartbeat',
  'recover',
  'admin',
];

const kib = (log2: number) => (log2 >= 10 ? `${2 ** (log2 - 10)} MiB` : `${2 ** log2} KiB`);
const f1 = (x: number) => x.toFixed(1);
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(0)}%`);
const range = (s: Spread | null, fmt = f1) =>
  s ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : '–';
const eff3 = (x: number) => x.toFixed(3);

function loadResults(file: string): Results {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
  if (r.meta?.version !== RESULTS_VERSION) {
    throw new Error(
      `${file}: results version ${String(r.meta?.version)}, this report reads ${RESULTS_VERSION}`,
    );
  }
  return r;
}

function throughputSpec(w: WorkloadSummary): vega.Spec {
  const points = w.fixed.map((a) => ({
    x: kib(a.setting!),
    y: a.tail?.median ?? 0,
    lo: a.tail?.min ?? 0,
    hi: a.tail?.max ?? 0,
  }));
  const lines = [
    ...(w.default?.tail ? [{ label: 'kernel default (median)', y: w.default.tail.median }] : []),
    ...w.policies
      .filter((p) => p.arm.tail)
      .map((p) => ({ label: `daemon ${p.policy} (median)`, y: p.arm.tail!.median })),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 460,
    height: 240,
    padding: 8,
    title: {
      text: `${w.workload}: throughput over the second half of each run (MiB/s)`,
      fontSize: 13,
    },
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
      { orient: 'bottom', scale: 'x', title: 'fixed read-ahead (ra_kb_log2 as size)' },
      { orient: 'left', scale: 'y', title: 'MiB/s', grid: true },
    ],
    legends: [
      {
        stroke: 'color',
        orient: 'bottom',
        direction: 'vertical',
        title: 'dashed lines',
        labelLimit: 400,
      },
    ],
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

function timelineSpec(w: WorkloadSummary, results: Results): vega.Spec | null {
  const runs = results.runs.filter(
    (r) => r.workload === w.workload && r.kind === 'daemon' && r.repeat === 1,
  );
  const values = runs.flatMap((r) =>
    r.windows
      .filter((x) => x.applied)
      .map((x) => ({ t: x.tMs / 1000, knob: x.knob, policy: r.policy, mode: MODE_NAMES[x.mode] })),
  );
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 460,
    height: 200,
    padding: 8,
    title: {
      text: `${w.workload}: read-ahead the daemon's advice set (repeat 1; advice windows only)`,
      fontSize: 13,
    },
    data: [{ name: 'v', values }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'v', field: 't' }, range: 'width', nice: true },
      { name: 'y', type: 'linear', domain: [4, 12], zero: false, range: 'height' },
      { name: 'color', type: 'ordinal', domain: { data: 'v', field: 'policy' }, range: 'category' },
      { name: 'shape', type: 'ordinal', domain: { data: 'v', field: 'mode' }, range: 'symbol' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'seconds since the workload started' },
      {
        orient: 'left',
        scale: 'y',
        title: 'ra_kb_log2 (4 = 16 KiB, 12 = 4 MiB)',
        grid: true,
        tickCount: 9,
      },
    ],
    legends: [
      { fill: 'color', title: 'policy', orient: 'right' },
      { shape: 'shape', title: 'mode', orient: 'right' },
    ],
    marks: [
      {
        type: 'symbol',
        from: { data: 'v' },
        encode: {
          enter: {
            x: { scale: 'x', field: 't' },
            y: { scale: 'y', field: 'knob' },
            fill: { scale: 'color', field: 'policy' },
            shape: { scale: 'shape', field: 'mode' },
            size: { value: 30 },
            opacity: { value: 0.8 },
          },
        },
      },
    ],
  };
}

function armRow(a: ArmSummary, label: string, oracle: ArmSummary | null): string {
  const mark = oracle && a === oracle ? ' **oracle**' : '';
  return `| ${label}${mark} | ${range(a.throughput)} | ${range(a.tail)} | ${range(a.efficiency, eff3)} | ${a.throughput.n} |`;
}

/** learning_period from the module parameters (the module's default, 10, when absent). */
function learningPeriod(params: readonly string[]): number {
  const p = params.find((x) => x.startsWith('learning_period='));
  return p ? Number(p.split('=')[1]) : 10;
}

function median(values: (number | null)[]): number | null {
  const s = spread(values.filter((v): v is number => v !== null));
  return s ? s.median : null;
}

interface ReportContext {
  command: string;
  hostLoad: string | null;
  hostCpus: string | null;
  started: string | null;
  svgLinks: Map<string, string[]>;
  resultsFile: string;
}

export function renderMarkdown(
  results: Results,
  sums: WorkloadSummary[],
  ctx: ReportContext,
): string {
  const m = results.meta;
  const ww = windowWorkStats(results);
  const out: string[] = [];
  out.push('# Results: the daemon tunes read-ahead on a real kernel');
  out.push('');
  out.push(
    `Generated by \`${ctx.command}\` (scripts/demo/demo-vm.sh) from the run of ${m.startedAt} to ${m.finishedAt} ` +
      `(UTC). Every number below was measured in that run; the raw records are in ${ctx.resultsFile} ` +
      '(gitignored; the script keeps one per run).',
  );
  out.push('');
  out.push('## Setup');
  out.push('');
  out.push(
    [
      `- Guest: Debian's kernel ${m.kernel} under QEMU/TCG (no KVM), 1 vCPU, ${m.guestMemoryMb} MiB RAM, booted by scripts/vm/run-in-guest.sh; ` +
        `host: ${ctx.hostCpus ?? '?'} cores shared with other work (load average before -> after: ${ctx.hostLoad ?? 'not recorded'}).`,
      `- Disk: a raw ext4 image on the host as virtio-blk \`/dev/vda\` (read-only), ${m.dataFiles.count} files of ` +
        `${f1(m.dataFiles.bytes / m.dataFiles.count / 2 ** 20)} MiB (${f1(m.dataFiles.bytes / 2 ** 30)} GiB) in two groups, each larger than the guest's page cache.`,
      `- Module: mlproxy.ko with \`${m.moduleParams.join(' ')}\`: ${m.windowMs} ms windows; knob \`${m.knob.name}\` ${m.knob.min}..${m.knob.max} ` +
        `(${kib(m.knob.min)}..${kib(m.knob.max)}), default ${m.knob.def} (${kib(m.knob.def)}), at most ${m.knob.maxDelta} steps per advice window. ` +
        'The ladder parameters are faster than the module defaults (learning_period 10, promote_windows 8, emergency_hold_windows 10) so that a run of seconds can climb it.',
      `- Workloads (${m.python}, scripts/demo/reader.py; every file is opened when it is read, so a read-ahead change reaches the next file; no fadvise hints):`,
      ...m.workloads.map((w) => `  - \`${w}\`: ${WORKLOAD_DESCRIPTIONS[w]}`),
      `- Arms, each ${m.repeats} times, interleaved (every repeat visits all arms of a workload in a rotated order):`,
      `  - **default**: the module runs its baseline only (EMERGENCY, pinned; no controller), ${m.fixedSeconds} s;`,
      `  - **fixed 2^k KiB** for every k in ${m.knob.min}..${m.knob.max}: the bench pins RECOMMENDATION and recommends k for every window ` +
        `(set through mlproxy, not /sys/block/vda/queue/read_ahead_kb, because the module re-applies its knob at every window boundary and would undo a sysfs write; ` +
        `this way the kernel measures every arm alike), ${m.fixedSeconds} s; the best of them is the **oracle**;`,
      `  - **daemon** (\`node dist/src/cli/main.js run --config ...\`) with ${m.policies.map((p) => `\`${p.name}\` (${p.spec}${p.conservative === false ? ', bare' : `, conservative wrapper alpha ${p.conservative}`})`).join(', ')}: ` +
        `a freshly loaded module (epoch 0, EMERGENCY), the daemon claims the subsystem, then the workload runs ${m.daemonSeconds} s; the daemon's climb of the ladder is part of the run.`,
      '- Before every run the data files are evicted from the page cache (posix_fadvise DONTNEED; fincore confirmed 0 bytes resident ' +
        `in ${results.runs.filter((r) => r.residentBytes === 0).length} of ${results.runs.length} runs); the whole page cache is dropped once at the start.`,
      '- Throughput: bytes the workload read per second, from reader.py. "2nd half" is the rate over the second half of each run ' +
        '(for `phase` that is the random phase): the daemon is compared with the fixed settings on it, after its learning. ' +
        "Kernel efficiency: the module's own measure (bytes delivered to readers per ns of device read service time; 1.0 = 1 GB/s), median over the non-idle windows of a run.",
    ].join('\n'),
  );
  out.push('');
  out.push('## Throughput per arm (MiB/s, median [min–max] over repeats)');
  for (const w of sums) {
    out.push('');
    out.push(`### ${w.workload}`);
    out.push('');
    out.push('| arm | whole run | 2nd half | kernel efficiency | runs |');
    out.push('|---|---|---|---|---|');
    if (w.default) out.push(armRow(w.default, `default (${kib(w.default.setting!)})`, null));
    for (const a of w.fixed) out.push(armRow(a, `fixed ${kib(a.setting!)}`, w.oracle));
    for (const p of w.policies) out.push(armRow(p.arm, `daemon ${p.policy}`, null));
    for (const svg of ctx.svgLinks.get(w.workload) ?? []) {
      out.push('');
      out.push(`![${w.workload}](${svg})`);
    }
  }
  out.push('');
  out.push('## The daemon against the default and the oracle');
  out.push('');
  out.push(
    "Per workload and policy, medians over the repeats. *of oracle* / *of default*: the daemon's median 2nd-half throughput over " +
      "the oracle's and the default's. *below baseline*: share of the windows in which advice ran whose kernel efficiency was below the " +
      "kernel's baseline reference. *to oracle*: seconds from the workload's start to the first advice window at the oracle's setting " +
      '(– when never). *favourite*: the setting the daemon advised most in the second half, and when it first ran it. ' +
      "*CPU*: the daemon's user+system time over the run's wall time, in % of the guest's only vCPU (which the workload shares).",
  );
  out.push('');
  out.push(
    '| workload | policy | oracle | 2nd half MiB/s | of oracle | of default | below baseline | advice windows (measured) | to oracle (s) | favourite, at (s) | CPU | RSS / peak MiB |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const w of sums) {
    for (const p of w.policies) {
      const fav = median(p.runs.map((r) => r.favourite));
      const favAt = median(p.runs.map((r) => r.toFavouriteS));
      const toOracle = p.runs.map((r) => r.toOracleS);
      const reached = toOracle.filter((x) => x !== null).length;
      out.push(
        `| ${w.workload} | ${p.policy} | ${w.oracle ? kib(w.oracle.setting!) : '–'} | ${range(p.arm.tail)} | ${pct(p.ofOracle)} | ${pct(p.ofDefault)} | ` +
          `${pct(median(p.runs.map((r) => r.belowBaseline)))} | ${median(p.runs.map((r) => r.adviceWindows)) ?? '–'} (${median(p.runs.map((r) => r.appliedWindows)) ?? '–'}) | ` +
          `${reached ? `${f1(median(toOracle)!)} (${reached}/${p.runs.length} runs)` : `– (0/${p.runs.length})`} | ` +
          `${fav === null ? '–' : `${kib(Math.round(fav))}, ${favAt === null ? '–' : f1(favAt)}`} | ` +
          `${median(p.runs.map((r) => r.cpuPercent)) === null ? '–' : `${f1(median(p.runs.map((r) => r.cpuPercent))!)}%`} | ` +
          `${f1(median(p.runs.map((r) => r.rssMiB)) ?? NaN)} / ${f1(median(p.runs.map((r) => r.hwmMiB)) ?? NaN)} |`,
      );
    }
  }
  out.push('');
  out.push('## Modes the kernel went through, and why');
  out.push('');
  out.push(
    'Windows spent in each mode during the workload (summed over the repeats), and the transitions the status reported ' +
      '(counted by reason: *recover* = EMERGENCY -> LEARNING after the hold with a live controller; *promote* = promote_windows ' +
      'good advice windows in a row; *regression* = an advice window more than demote_margin_pct below the baseline reference; ' +
      '*collapse* = below collapse_pct of it, straight to EMERGENCY; *heartbeat* = the controller missed its heartbeat; *closed* = the daemon stopped).',
  );
  out.push('');
  out.push(
    '| workload | policy | emergency | learning | collaboration | recommendation | transitions (count by reason) | highest mode reached |',
  );
  out.push('|---|---|---|---|---|---|---|---|');
  for (const w of sums) {
    for (const p of w.policies) {
      const modes = [0, 1, 2, 3].map((i) => p.runs.reduce((a, r) => a + r.modeWindows[i], 0));
      const reasons = new Map<string, number>();
      let highest = 0;
      for (const r of p.runs) {
        for (const t of r.transitions) {
          const via = t.count > 1 ? ` (last of ${t.count} within one window)` : '';
          const key = `${MODE_NAMES[t.from]}->${MODE_NAMES[t.to]} ${TRANSITION_NAMES[t.reason] ?? t.reason}${via}`;
          reasons.set(key, (reasons.get(key) ?? 0) + 1);
          highest = Math.max(highest, t.to);
        }
        r.modeWindows.forEach((n, i) => {
          if (n > 0) highest = Math.max(highest, i);
        });
      }
      const list = [...reasons].map(([k, n]) => `${k} ×${n}`).join('; ');
      out.push(
        `| ${w.workload} | ${p.policy} | ${modes.join(' | ')} | ${list || 'none'} | ${MODE_NAMES[highest]} |`,
      );
    }
  }
  out.push('');
  out.push('## Cost');
  out.push('');
  const cpu = spread(
    sums.flatMap((w) => w.policies.flatMap((p) => p.runs.map((r) => r.cpuPercent ?? NaN))),
  );
  const rss = spread(
    sums.flatMap((w) => w.policies.flatMap((p) => p.runs.map((r) => r.hwmMiB ?? NaN))),
  );
  out.push(
    [
      `- Daemon CPU while the workload ran: ${range(cpu)} % of the guest's vCPU (from /proc/<pid>/stat, utime+stime, between the daemon taking control and the workload's end). ` +
        'Under TCG every instruction is emulated, so the figure holds for this guest only (hardware was not measured); it is taken from the workload, which shares the one vCPU.',
      `- Daemon memory: peak RSS (VmHWM) ${range(rss)} MiB.`,
      ww
        ? `- Time in the module per window: \`mlp_window_work\` (end of a window: measure, feedback to every reader, ladder; start of the next: apply, collect state) ` +
          `took median ${f1(ww.median)} µs, 99th percentile ${f1(ww.p99)} µs over ${ww.n} windows, timed with the function_graph tracer in the guest (TCG-emulated time). ` +
          'The module itself does not count this time; a `window_work_ns` sum/max in the status would expose it without tracing.'
        : `- Time in the module per window: not measured (${m.windowWorkTimer ?? 'no traces'}); the module does not count it. It could be timed with the function_graph tracer on mlp_window_work.`,
      "- The readers' page-cache reads are counted by the module with a kretprobe on filemap_read (docs/readahead.md); its cost is inside the throughput figures above, for every arm alike.",
    ].join('\n'),
  );
  out.push('');
  out.push('## What this shows');
  out.push('');
  out.push(...findings(sums, results));
  out.push('');
  out.push('## Limits of this measurement');
  out.push('');
  out.push(
    [
      `- TCG emulates every instruction, and the host's ${ctx.hostCpus ?? '?'} cores are shared with other work: absolute figures are not hardware figures. Read a difference between arms against the ranges of the repeats before believing it.`,
      "- The daemon and the workload share the guest's one vCPU, so the daemon's CPU time (above) is taken from the workload; on a multi-core machine it would not be.",
      `- A daemon run lasts ${m.daemonSeconds} s: with ${m.windowMs} ms windows and the ladder's advice share while learning (1 in ${learningPeriod(m.moduleParams)} windows) the daemon gets a few dozen advice windows, few for a bandit over ${m.knob.max - m.knob.min + 1} arms.`,
      "- The kernel's efficiency counts bytes delivered by read(2) (filemap_read): readers using mmap() are invisible to it (windows idle), so the demo's readers use read(2)/pread(2) only.",
      '- Linux applies a read-ahead change to files opened after it; the readers open a file per read pass, so a change reaches them within one file.',
    ].join('\n'),
  );
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push(
    '```sh\nnpm run demo:vm     # about 20-30 min on a 2-core host; DEMO_REPEATS, DEMO_FIXED_SECONDS, DEMO_DAEMON_SECONDS, DEMO_POLICIES, DEMO_WORKLOADS to change the plan\n```',
  );
  out.push('');
  out.push(
    `The plan of this run: ${m.repeats} repeats, fixed and default runs of ${m.fixedSeconds} s, daemon runs of ${m.daemonSeconds} s` +
      (ctx.started ? `, started ${ctx.started}` : '') +
      '. Short runs and few repeats are what TCG allows in about 25 minutes; the ranges above show how much the numbers move between repeats on a shared host.',
  );
  out.push('');
  return out.join('\n');
}

/** Plain statements derived from the summaries (no hand-written numbers). */
function findings(sums: WorkloadSummary[], results: Results): string[] {
  const lines: string[] = [];
  const def = results.meta.knob.def;
  for (const w of sums) {
    if (!w.oracle || !w.default?.tail || !w.oracle.tail) continue;
    const gain = w.oracle.tail.median / w.default.tail.median;
    const overlap = w.oracle.tail.min <= w.default.tail.max;
    let s =
      `- \`${w.workload}\`: the best fixed setting was ${kib(w.oracle.setting!)} at ${f1(w.oracle.tail.median)} MiB/s, ` +
      `${gain >= 1 ? `${pct(gain - 1)} above` : `${pct(1 - gain)} below`} the default's ${f1(w.default.tail.median)} MiB/s` +
      (overlap
        ? ` (their ranges over ${w.oracle.tail.n} repeats overlap: the difference is within the run-to-run spread, not established)`
        : '') +
      '.';
    for (const p of w.policies) {
      if (p.ofOracle !== null && p.ofDefault !== null) {
        s += ` Daemon \`${p.policy}\`: ${pct(p.ofOracle)} of the oracle, ${pct(p.ofDefault)} of the default.`;
        const fav = median(p.runs.map((r) => r.favourite));
        if (fav === def) {
          s +=
            ` Its favourite setting in the second half was the default itself (${kib(def)}), so its gap to the default` +
            ' measures the cost of running the daemon next to the workload more than its choices.';
        }
      }
    }
    lines.push(s);
  }
  const cases = sums.flatMap((w) => w.policies.filter((p) => p.ofDefault !== null));
  if (cases.length) {
    const above = cases.filter((p) => p.ofDefault! > 1).length;
    const aboveOracle = cases.filter((p) => p.ofOracle! > 1).length;
    lines.push(
      `- Over all workloads and policies, the daemon's median 2nd-half throughput was above the default's in ${above} of ${cases.length} cases, ` +
        `and above the oracle's in ${aboveOracle} of ${cases.length}.`,
    );
  }
  const falls = sums.map((w) => {
    let collapse = 0;
    let heartbeat = 0;
    let runs = 0;
    for (const p of w.policies) {
      for (const r of p.runs) {
        runs++;
        for (const t of r.transitions) {
          if (t.reason === 3) collapse += t.count;
          if (t.reason === 5) heartbeat += t.count;
        }
      }
    }
    return { w: w.workload, collapse, heartbeat, runs };
  });
  if (falls.some((f) => f.runs > 0)) {
    lines.push(
      '- Falls to EMERGENCY during the daemon runs: ' +
        falls
          .filter((f) => f.runs > 0)
          .map(
            (f) =>
              `\`${f.w}\` ${f.collapse} by collapse, ${f.heartbeat} by missed heartbeat (${f.runs} runs)`,
          )
          .join('; ') +
        '. A collapse is an advice window below collapse_pct of the baseline reference, an EWMA of earlier baseline windows; ' +
        'when the workload itself changes (as in `phase`, from sequential to random reads, whose kernel efficiencies differ as the tables show) ' +
        'an advice window is judged against a reference from the other workload.',
    );
  }
  return lines.length ? lines : ['- No workload had both a default and fixed runs.'];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      results: { type: 'string' },
      out: { type: 'string', default: 'docs/results.md' },
      'svg-dir': { type: 'string', default: 'docs/results' },
      command: { type: 'string', default: 'npm run demo:vm' },
      'host-load': { type: 'string' },
      'host-cpus': { type: 'string' },
      started: { type: 'string' },
      kernel: { type: 'string' },
    },
  });
  if (!values.results) throw new Error('--results <results.json> is required');
  const results = loadResults(values.results);
  const sums = summarise(results);
  const outDir = nodePath.dirname(values.out);
  fs.mkdirSync(values['svg-dir'], { recursive: true });
  const svgLinks = new Map<string, string[]>();
  for (const w of sums) {
    const links: string[] = [];
    const specs: [string, vega.Spec | null][] = [
      [`throughput-${w.workload}.svg`, w.fixed.length ? throughputSpec(w) : null],
      [`daemon-${w.workload}.svg`, timelineSpec(w, results)],
    ];
    for (const [name, spec] of specs) {
      if (!spec) continue;
      const file = nodePath.join(values['svg-dir'], name);
      fs.writeFileSync(file, await renderSvg(spec));
      links.push(nodePath.relative(outDir, file));
    }
    svgLinks.set(w.workload, links);
  }
  const md = renderMarkdown(results, sums, {
    command: values.command,
    hostLoad: values['host-load'] ?? null,
    hostCpus: values['host-cpus'] ?? null,
    started: values.started ?? null,
    svgLinks,
    resultsFile: nodePath.relative(process.cwd(), values.results),
  });
  fs.writeFileSync(values.out, md);
}

main().catch((err: Error) => {
  process.stderr.write(`report: ${err.message}\n`);
  process.exit(1);
});
