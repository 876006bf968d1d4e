import * as ort from 'onnxruntime-node';

/**
 * onnxruntime's own logger would print a red "cannot open libonnxruntime_providers_shared.so"
 * for every expected CUDA fallback; every ORT failure also comes back as an exception, which we
 * log. The level only takes effect before ORT's environment is created (the first session), so
 * every place that creates a session calls this first. A level set by the user is kept.
 */
export function quietOrtLogging(): void {
  if (ort.env.logLevel === 'warning') ort.env.logLevel = 'fatal';
}
