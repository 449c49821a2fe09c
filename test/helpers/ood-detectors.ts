/** A small detector comparison shared by the analysis and plots tests of the detector benchmark. */
import { compareDetectors } from '../../lib/analysis/ood-benchmark';

const f = (xs: number[]) => Float64Array.from(xs);

/**
 * Three detectors. far1: a 10/12, b 1, credibility 9/12 (its two 0s tie the three shifted 0s);
 * near1: a 1, b 4/8, credibility 1; ctrl: the in-distribution scores again (a control, not ranked).
 */
export function threeDetectors() {
  const inDist = { a: f([0.9, 0.8, 0.7, 0.6]), b: f([4, 3, 2, 1]), credibility: f([1, 1, 0, 0]) };
  const sets = [
    {
      name: 'far1',
      parameter: 90,
      group: 'far' as const,
      scores: { a: f([0.75, 0.5, 0.3]), b: f([0, 0, 0]), credibility: f([0, 0, 0]) },
    },
    {
      name: 'near1',
      parameter: 30,
      group: 'near' as const,
      scores: { a: f([0.1, 0.2]), b: f([5, 0]), credibility: f([-1, -1]) },
    },
    { name: 'ctrl', parameter: 0, group: 'control' as const, scores: inDist },
  ];
  return compareDetectors({ inDist, sets, labels: { a: 'A', b: 'B', credibility: 'DkNN credibility' } });
}
