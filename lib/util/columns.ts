/** Named columns of equal length (numbers or strings): a per-input table, for CSV files and data frames. */
export type Columns = Record<string, ArrayLike<number> | readonly string[]>;
