/** Per-input columns as a danfo.js data frame, to sort, filter and group in a notebook. */
import type { DataFrame } from 'danfojs-node';
import type { Columns } from '../util/columns';

/** A danfo.js `DataFrame` of columns (e.g. {@link perInputColumns}), to sort, filter and group in a notebook. Needs danfojs-node. */
export function dataFrame(columns: Columns): DataFrame {
  let dfd: { DataFrame: new (data: Record<string, unknown[]>) => DataFrame };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dfd = require('danfojs-node');
  } catch (err) {
    throw new Error(`dataFrame needs danfojs-node (npm install danfojs-node): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new dfd.DataFrame(
    Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Array.from(v as ArrayLike<number | string>)])),
  );
}
