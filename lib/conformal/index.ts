/** Conformal layer of the DkNN: nonconformity α, calibration into p-values, credibility/confidence. */
export * from './nonconformity';
export * from './calibrator';
export * from './predict';
export * from './sets';
