/**
 * The one error for a method called before the step it needs (MAPIE-style: a fixed sentence per
 * step, so a user and a test can rely on it). `err.step` says which call was missing.
 */

/** The fixed sentences, by the call that is out of order. */
export const NOT_FITTED_SENTENCES = Object.freeze({
  /** DkNN.calibrate (or anything needing the fit) before DkNN.fit. */
  calibrate: 'call fit before calibrate',
  /** DkNN.predict (or the calibration scores) before DkNN.calibrate. */
  predict: 'call calibrate before predict',
  /** ConformalCalibrator.pValues before ConformalCalibrator.fit. */
  pValues: 'call fit before pValues',
  /** NeighborIndex.query before NeighborIndex.build. */
  query: 'call build before query: the index is empty',
  /** Preprocessor.transform before Preprocessor.fit. */
  transform: 'call fit (or fitTransform) before transform: the center is unknown',
});

/** Which out-of-order call an error is about. */
export type NotFittedStep = keyof typeof NOT_FITTED_SENTENCES;

/** A method was called before the step it depends on; the message is one of {@link NOT_FITTED_SENTENCES}. */
export class NotFittedError extends Error {
  override name = 'NotFittedError';
  constructor(readonly step: NotFittedStep) {
    super(NOT_FITTED_SENTENCES[step]);
  }
}
