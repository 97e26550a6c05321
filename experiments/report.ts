/**
 * The self-contained HTML report of an experiment: SVG plots rendered headless with
 * vega (View.toSVG, renderer "none"), inlined into one HTML file.
 *
 * Per environment: its kind and parameters; cumulative regret with a 95% band across
 * seeds (mean ± 1.96 standard errors); cumulative expected reward minus the baseline arm's
 * (same band); the share of optimal choices over time (same band; on contextual
 * environments the best arm changes with the context, so this, not the arm shares, shows
 * learning); the pairwise comparison of policies across seeds (compare.ts); and per policy
 * the share of each arm in each time bucket (mean over seeds). Legends show the full
 * policy specs, below the plots.
 */
import * as vega from 'vega';
import type { Comparison } from './compare.js';
import { fmtP } from './compare.js';
import type { Summary } from './results.js';
import { Z95, rate, regretSpread } from './results.js';

const WIDTH = 560;
const HEIGHT = 260;

interface BandRow {
  policy: string;
  round: number;
  mean: number;
  lo: number;
  hi: number;
}

function bandSpec(
  title: string,
  yTitle: string,
  rows: BandRow[],
  yDomain?: [number, number],
): vega.Spec {
  return {
    width: WIDTH,
    height: HEIGHT,
    padding: 8,
    background: 'white',
    title: { text: title, anchor: 'start' },
    data: [{ name: 'table', values: rows }],
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'table', field: 'round' },
        range: 'width',
        nice: true,
      },
      {
        name: 'y',
        type: 'linear',
        domain: yDomain ?? { data: 'table', fields: ['lo', 'hi'] },
        range: 'height',
        nice: yDomain === undefined,
        zero: true,
      },
      {
        name: 'color',
        type: 'ordinal',
        domain: { data: 'table', field: 'policy' },
        range: 'category',
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'round', tickCount: 6 },
      { orient: 'left', scale: 'y', title: yTitle, grid: true },
    ],
    legends: [
      {
        stroke: 'color',
        fill: 'color',
        title: 'policy',
        orient: 'bottom',
        direction: 'vertical',
        symbolType: 'stroke',
        // Full specs: wrapper variants differ only at the end of long labels.
        labelLimit: 2000,
      },
    ],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'table', groupby: 'policy' } },
        marks: [
          {
            type: 'area',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'round' },
                y: { scale: 'y', field: 'lo' },
                y2: { scale: 'y', field: 'hi' },
                fill: { scale: 'color', field: 'policy' },
                fillOpacity: { value: 0.18 },
              },
            },
          },
          {
            type: 'line',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'round' },
                y: { scale: 'y', field: 'mean' },
                stroke: { scale: 'color', field: 'policy' },
                strokeWidth: { value: 2 },
              },
            },
          },
        ],
      },
    ],
  };
}

function armShareSpec(title: string, checkpoints: number[], share: number[][]): vega.Spec {
  const rows: { round: number; arm: string; share: number }[] = [];
  share.forEach((row, b) =>
    row.forEach((s, a) => rows.push({ round: checkpoints[b], arm: `arm ${a}`, share: s })),
  );
  return {
    width: WIDTH,
    height: 140,
    padding: 8,
    background: 'white',
    title: { text: title, anchor: 'start', fontSize: 12 },
    data: [
      {
        name: 'table',
        values: rows,
        transform: [{ type: 'stack', groupby: ['round'], sort: { field: 'arm' }, field: 'share' }],
      },
    ],
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'table', field: 'round' },
        range: 'width',
        nice: true,
      },
      { name: 'y', type: 'linear', domain: [0, 1], range: 'height' },
      {
        name: 'color',
        type: 'ordinal',
        domain: { data: 'table', field: 'arm', sort: true },
        range: 'category',
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'round (end of bucket)', tickCount: 6 },
      { orient: 'left', scale: 'y', title: 'share of plays', format: '%', tickCount: 3 },
    ],
    legends: [{ fill: 'color', title: 'arm', orient: 'right' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'table', groupby: 'arm' } },
        marks: [
          {
            type: 'area',
            from: { data: 'series' },
            encode: {
              enter: {
                interpolate: { value: 'step-before' },
                x: { scale: 'x', field: 'round' },
                y: { scale: 'y', field: 'y0' },
                y2: { scale: 'y', field: 'y1' },
                fill: { scale: 'color', field: 'arm' },
              },
            },
          },
        ],
      },
    ],
  };
}

/** Renders a vega spec to an SVG string without a browser. */
export async function renderSvg(spec: vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function bandRows(
  summaries: Summary[],
  pick: (s: Summary) => Summary['cumRegret'],
  clamp?: [number, number],
): BandRow[] {
  const rows: BandRow[] = [];
  const c = (v: number) => (clamp ? Math.min(clamp[1], Math.max(clamp[0], v)) : v);
  for (const s of summaries) {
    const b = pick(s);
    s.checkpoints.forEach((round, i) =>
      rows.push({ policy: s.policy, round, mean: b.mean[i], lo: c(b.lo[i]), hi: c(b.hi[i]) }),
    );
  }
  return rows;
}

export interface ReportInfo {
  name: string;
  specFile?: string;
  seeds: number[];
  horizon: number;
  /** The environments as the spec defines them (kind and parameters are shown). */
  environments?: { name: string; kind: string; params: Record<string, unknown> }[];
}

function comparisonRows(comparisons: Comparison[]): string {
  if (comparisons.length === 0)
    return '<p class="note">No pair of policies shares two seeds here: nothing to compare.</p>';
  const rows = comparisons
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.a)}</td><td>${escapeHtml(c.b)}</td><td>${c.seeds.length}</td>` +
        `<td>${c.test.mean.toFixed(2)} [${c.test.lo.toFixed(2)}, ${c.test.hi.toFixed(2)}]</td>` +
        `<td>${c.deterministic ? '–' : fmtP(c.test.p)}</td><td>${c.deterministic ? '–' : fmtP(c.pHolm)}</td>` +
        `<td class="verdict">${escapeHtml(c.verdict)}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>policy a</th><th>policy b</th><th>seeds</th><th>final regret a − b [95% CI]</th><th>p</th><th>p (Holm)</th><th>verdict</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

export async function buildReport(
  info: ReportInfo,
  summaries: Summary[],
  comparisons: Comparison[] = [],
): Promise<string> {
  const envs = [...new Set(summaries.map((s) => s.env))];
  const sections: string[] = [];
  for (const env of envs) {
    const group = summaries.filter((s) => s.env === env);
    const parts = [`<h2>Environment: ${escapeHtml(env)}</h2>`];
    const def = info.environments?.find((e) => e.name === env);
    if (def) {
      parts.push(
        `<p class="note">kind <code>${escapeHtml(def.kind)}</code>, parameters <code>${escapeHtml(JSON.stringify(def.params))}</code>; ${group[0].k} arms, ${group[0].rounds} rounds</p>`,
      );
    }
    parts.push(
      await renderSvg(
        bandSpec(
          `Cumulative regret — ${env}`,
          'cumulative regret',
          bandRows(group, (s) => s.cumRegret),
        ),
      ),
    );
    parts.push(
      await renderSvg(
        bandSpec(
          `Reward against the baseline arm — ${env}`,
          'cum. expected reward − baseline',
          bandRows(group, (s) => s.cumVsBaseline),
        ),
      ),
    );
    parts.push(
      await renderSvg(
        bandSpec(
          `Share of optimal choices over time — ${env}`,
          'share of rounds playing a best arm',
          bandRows(group, (s) => s.optimalCurve, [0, 1]),
          [0, 1],
        ),
      ),
    );
    parts.push(
      '<h3>Which policy is better</h3>',
      '<p class="note">Paired two-sided t-test of the final regret across seeds (cells with the same seed face the same environment draw), 95% interval of the mean difference, Holm-corrected over the pairs of this environment.</p>',
      comparisonRows(comparisons.filter((c) => c.env === env)),
    );
    parts.push(
      '<h3>Arm choices over time</h3>',
      '<p class="note">Mean over seeds. On contextual environments the best arm changes with the context, so the shares mix every context; the optimal-choice share above shows learning.</p>',
    );
    for (const s of group)
      parts.push(await renderSvg(armShareSpec(s.policy, s.checkpoints, s.armShare)));
    sections.push(`<section>${parts.join('\n')}</section>`);
  }
  const rows = summaries
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.policy)}</td><td>${escapeHtml(s.env)}</td><td>${s.seeds}</td><td>${s.rounds}</td>` +
        `<td>${s.meanFinalRegret.toFixed(2)} ${escapeHtml(regretSpread(s, 2))}</td>` +
        `<td>${s.meanReward.toFixed(4)}</td><td>${s.meanVsBaseline.toFixed(2)}</td><td>${(100 * s.optimalShare).toFixed(1)}%</td>` +
        `<td>${rate(s.decisionsPerSec)} (${rate(s.decisionsPerSecMin)}–${rate(s.decisionsPerSecMax)})</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.name)} — mlproxy experiment</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}td.verdict{text-align:left}section svg{display:block;margin:1em 0}
.note{color:#555;font-size:90%}
</style></head><body>
<h1>Experiment: ${escapeHtml(info.name)}</h1>
<p class="note">${info.specFile ? `Spec: ${escapeHtml(info.specFile)}. ` : ''}Horizon ${info.horizon} rounds, seeds ${escapeHtml(info.seeds.join(', '))}.
Bands and intervals are mean ± ${Z95.toFixed(2)} standard errors across seeds (normal approximation of a 95% interval of the mean).
Regret is pseudo-regret (best expected reward minus the chosen arm's), except in adversarial environments, where it is
the regret against the best fixed arm in hindsight. "vs baseline" is the cumulative expected reward minus that of always
playing the environment's baseline arm. Arm shares are averaged over seeds. Seeds that all give the same final regret
(identical replays of a deterministic policy on fixed draws) get no interval: they are one observation, not a sample.
Decisions/s (select + update) vary with the machine's load: median over seeds, with the range.</p>
<table><thead><tr><th>policy</th><th>env</th><th>seeds</th><th>rounds</th><th>final regret (95% CI)</th><th>mean reward</th><th>vs baseline</th><th>optimal arm</th><th>decisions/s median (range)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${sections.join('\n')}
</body></html>
`;
}
