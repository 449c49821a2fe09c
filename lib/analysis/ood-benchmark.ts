/**
 * An OpenOOD-style comparison: every detector against every shifted set, with AUROC, AUPR-in,
 * AUPR-out and FPR@95 (`metrics/detection.ts`), the best detector per set and metric, each
 * detector's rank, and the means over the near and far shifts. Numbers only: `plots/ood-detectors.ts`
 * draws the tables, the figure and the sentence.
 */
import { oodMetrics, type OodMetrics } from '../metrics/detection';
import { mean } from '../metrics/stats';
import type { InDistributionScores } from './ood-scores';

/** How far a set is from the training distribution; `control` (e.g. a 0° rotation) is shown but never ranked. */
export type ShiftGroup = 'near' | 'far' | 'control';

/** The metrics of {@link OodMetrics}, and which way is better. */
export const METRIC_DIRECTION: Readonly<Record<keyof OodMetrics, 'higher' | 'lower'>> = Object.freeze({
  auroc: 'higher',
  auprIn: 'higher',
  auprOut: 'higher',
  fpr95: 'lower',
});

/** One shifted set's scores, detector by detector (higher = more in-distribution). */
export interface ShiftedScores {
  name: string;
  scores: Readonly<Record<string, InDistributionScores>>;
  /** E.g. the rotation angle, for the figure against it. */
  parameter?: number;
  /** Default 'far'. */
  group?: ShiftGroup;
}

/** One detector on one shifted set. */
export interface DetectorRow extends OodMetrics {
  detector: string;
  /** The detector's display name. */
  label: string;
  set: string;
  /** Inputs in the shifted set. */
  n: number;
  parameter: number | null;
  group: ShiftGroup;
  /** Rank of this detector's AUROC on this set, 1 = best (equal values share the best rank); null on a control set. */
  rank: number | null;
  /** Per metric, whether no detector does better on this set (all false on a control set). */
  best: Record<keyof OodMetrics, boolean>;
}

/** Competition ranks ("1224") of `values`: 1 + how many are strictly better. */
export function ranks(values: readonly number[], better: 'higher' | 'lower'): number[] {
  return values.map((v) => 1 + values.filter((w) => (better === 'higher' ? w > v : w < v)).length);
}

/** Options of {@link compareDetectors}. */
export interface CompareDetectorsOptions {
  /** Each detector's scores on the in-distribution inputs; its keys give the detectors and their order. */
  inDist: Readonly<Record<string, InDistributionScores>>;
  sets: readonly ShiftedScores[];
  /** Display names by detector. Default: the keys. */
  labels?: Readonly<Record<string, string>>;
}

/**
 * The rows of every detector × set (set by set, detectors in `inDist`'s order).
 * @throws naming the set and the detector when a set lacks a detector's scores.
 */
export function compareDetectors(options: CompareDetectorsOptions): DetectorRow[] {
  const detectors = Object.keys(options.inDist);
  if (detectors.length === 0) throw new Error('compareDetectors: expected at least one detector, found none');
  const names = new Set<string>();
  return options.sets.flatMap((set) => {
    if (names.has(set.name)) throw new Error(`compareDetectors: set ${JSON.stringify(set.name)} is listed twice`);
    names.add(set.name);
    const group = set.group ?? 'far';
    const metrics = detectors.map((d) => {
      const out = set.scores[d];
      if (!out) throw new Error(`compareDetectors: set ${set.name} has no scores of detector ${d}`);
      return { n: out.length, m: oodMetrics(options.inDist[d], out) };
    });
    const rankBy = (key: keyof OodMetrics) =>
      ranks(
        metrics.map((x) => x.m[key]),
        METRIC_DIRECTION[key],
      );
    const auroc = rankBy('auroc');
    const bests = Object.fromEntries(
      (Object.keys(METRIC_DIRECTION) as (keyof OodMetrics)[]).map((k) => [k, rankBy(k)]),
    ) as Record<keyof OodMetrics, number[]>;
    return detectors.map((detector, i) => ({
      detector,
      label: options.labels?.[detector] ?? detector,
      set: set.name,
      n: metrics[i].n,
      parameter: set.parameter ?? null,
      group,
      ...metrics[i].m,
      rank: group === 'control' ? null : auroc[i],
      best: {
        auroc: group !== 'control' && bests.auroc[i] === 1,
        auprIn: group !== 'control' && bests.auprIn[i] === 1,
        auprOut: group !== 'control' && bests.auprOut[i] === 1,
        fpr95: group !== 'control' && bests.fpr95[i] === 1,
      },
    }));
  });
}

/** One detector over the groups of sets. */
export interface DetectorSummary {
  detector: string;
  label: string;
  /** Mean of each metric over the far sets; null when there is none. */
  far: OodMetrics | null;
  /** Mean of each metric over the near sets; null when there is none. */
  near: OodMetrics | null;
  /** Rank of the far-set mean AUROC among the detectors (1 = best); null without far sets. */
  farRank: number | null;
  /** Ranked sets (near and far) where this detector has the best AUROC. */
  wins: number;
}

function means(rows: DetectorRow[]): OodMetrics | null {
  if (rows.length === 0) return null;
  return {
    auroc: mean(rows.map((r) => r.auroc)),
    auprIn: mean(rows.map((r) => r.auprIn)),
    auprOut: mean(rows.map((r) => r.auprOut)),
    fpr95: mean(rows.map((r) => r.fpr95)),
  };
}

/** A set where the focus detector is compared with the best other one. */
export interface HeadToHead {
  set: string;
  group: ShiftGroup;
  /** The focus detector's AUROC. */
  auroc: number;
  /** The best other detector on this set (by AUROC) and its AUROC. */
  other: { detector: string; label: string; auroc: number };
}

/** What {@link detectorVerdict} finds about one detector (by default the credibility). */
export interface DetectorVerdict {
  focus: DetectorSummary;
  /** Every detector, in the rows' order. */
  summaries: DetectorSummary[];
  /** The detector with the best far-set mean AUROC (the first of equals); null without far sets. */
  farBest: DetectorSummary | null;
  /** Ranked sets where no other detector's AUROC is higher (`other`: the runner-up, possibly tied). */
  wins: HeadToHead[];
  /** Ranked sets where another detector's AUROC is higher (`other`: the best). */
  losses: HeadToHead[];
  /**
   * Where the gap on the far sets comes from when another detector has the best far mean: per far
   * set, that detector's AUROC minus the focus detector's, largest first ([] when the focus is first).
   */
  farGap: { set: string; difference: number }[];
  /** The far and near sets, in order. */
  farSets: string[];
  nearSets: string[];
}

/**
 * Summaries of every detector over the near and far sets (control sets left out), and where
 * `focus` (default 'credibility') wins and loses by AUROC.
 * @throws when `focus` has no rows.
 */
export function detectorVerdict(rows: readonly DetectorRow[], options: { focus?: string } = {}): DetectorVerdict {
  const focusName = options.focus ?? 'credibility';
  const detectors = [...new Set(rows.map((r) => r.detector))];
  if (!detectors.includes(focusName)) {
    throw new Error(`detectorVerdict: no rows of detector ${focusName}; the rows have ${detectors.join(', ')}`);
  }
  const ranked = rows.filter((r) => r.group !== 'control');
  const setsOf = (g: ShiftGroup) => [...new Set(rows.filter((r) => r.group === g).map((r) => r.set))];
  const pre = detectors.map((d) => {
    const mine = ranked.filter((r) => r.detector === d);
    return {
      detector: d,
      label: mine[0]?.label ?? rows.find((r) => r.detector === d)!.label,
      far: means(mine.filter((r) => r.group === 'far')),
      near: means(mine.filter((r) => r.group === 'near')),
      wins: mine.filter((r) => r.best.auroc).length,
    };
  });
  const farRanks = pre.every((s) => s.far)
    ? ranks(
        pre.map((s) => s.far!.auroc),
        'higher',
      )
    : null;
  const summaries: DetectorSummary[] = pre.map((s, i) => ({ ...s, farRank: farRanks ? farRanks[i] : null }));
  const focus = summaries.find((s) => s.detector === focusName)!;
  const farBest = farRanks ? summaries[farRanks.indexOf(1)] : null;
  const wins: HeadToHead[] = [];
  const losses: HeadToHead[] = [];
  for (const set of [...new Set(ranked.map((r) => r.set))]) {
    const here = ranked.filter((r) => r.set === set);
    const mine = here.find((r) => r.detector === focusName)!;
    const others = here.filter((r) => r.detector !== focusName);
    if (others.length === 0) continue;
    const other = others.reduce((a, b) => (b.auroc > a.auroc ? b : a));
    const h: HeadToHead = {
      set,
      group: mine.group,
      auroc: mine.auroc,
      other: { detector: other.detector, label: other.label, auroc: other.auroc },
    };
    (mine.auroc >= other.auroc ? wins : losses).push(h);
  }
  const auroc = (d: string, set: string) => ranked.find((r) => r.detector === d && r.set === set)!.auroc;
  const farGap =
    farBest && focus.farRank !== 1
      ? setsOf('far')
          .map((set) => ({ set, difference: auroc(farBest.detector, set) - auroc(focusName, set) }))
          .sort((a, b) => b.difference - a.difference)
      : [];
  return { focus, summaries, farBest, wins, losses, farGap, farSets: setsOf('far'), nearSets: setsOf('near') };
}
