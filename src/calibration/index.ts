/** Tracker settings derived from a clip with ground truth (`paddock calibrate`). */
export { calibrate, type CalibrationResult, type CalibrationSample } from './calibrate.ts';
