/** `dk.metrics`: accuracy, calibration, ROC and plain statistics. */
export {
  accuracy,
  expectedCalibrationError,
  histogram,
  reliabilityBins,
  rocAuc,
  rocCurve,
  type Histogram,
  type ReliabilityDiagram,
  type RocCurve,
} from './classification';
export { mean, shareBelow, sum } from './stats';
export { averagePrecision, fprAtTpr, oodMetrics, type OodMetrics } from './detection';
