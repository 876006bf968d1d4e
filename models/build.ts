/**
 * Builds the project's own ONNX models into models/build/ (gitignored):
 *   paddock_detector.onnx  YOLOv8-layout horse detector for synthetic paddock scenes
 *   paddock_reid.onnx      OSNet-signature appearance embedder
 * Their configs are models/configs/paddock_detector.json and paddock_reid.json.
 *
 * Run: npx tsx models/build.ts [--out models/build]
 * Deterministic and idempotent: a manifest records the build version and file hashes, and a
 * build whose files are already current does nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDetectorModel } from './detector.ts';
import { buildReidModel } from './reid.ts';
import { computeReidCentre } from './reid-calibration.ts';

/** Bump to force a rebuild everywhere; edits to the sources below also trigger one. */
export const MODEL_BUILD_VERSION = 2;
/** Files whose content decides the built bytes (graphs, calibration scenes and renderer). */
const SOURCE_FILES = [
  'models/onnx-graph.ts',
  'models/detector.ts',
  'models/reid.ts',
  'models/reid-calibration.ts',
  'src/synth/coats.ts',
  'src/synth/random.ts',
  'src/synth/render.ts',
  'src/synth/scene.ts',
];
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DETECTOR_FILE = 'paddock_detector.onnx';
export const REID_FILE = 'paddock_reid.onnx';
const MANIFEST_FILE = 'paddock_models.json';

export interface ProjectModels {
  detector: string;
  reid: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes through a temporary file and a rename, so concurrent builders never expose half a file. */
async function writeAtomically(target: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, target);
}

/** Hash of the model sources; a missing source (e.g. an installed package without them) counts as empty. */
async function sourceFingerprint(): Promise<string> {
  const hash = createHash('sha256').update(String(MODEL_BUILD_VERSION));
  for (const file of SOURCE_FILES) {
    hash.update(file);
    hash.update(await readFile(path.join(PROJECT_ROOT, file)).catch(() => Buffer.alloc(0)));
  }
  return hash.digest('hex');
}

async function isCurrent(outDir: string, fingerprint: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(path.join(outDir, MANIFEST_FILE), 'utf8')) as {
      source?: unknown;
      sha256?: Record<string, unknown>;
    };
    if (manifest.source !== fingerprint || manifest.sha256 === undefined) return false;
    for (const file of [DETECTOR_FILE, REID_FILE]) {
      if (manifest.sha256[file] !== sha256(await readFile(path.join(outDir, file)))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Builds both models into outDir unless they are already current; returns their paths. */
export async function buildProjectModels(outDir: string): Promise<ProjectModels> {
  const directory = path.resolve(outDir);
  const models = { detector: path.join(directory, DETECTOR_FILE), reid: path.join(directory, REID_FILE) };
  const fingerprint = await sourceFingerprint();
  if (await isCurrent(directory, fingerprint)) return models;
  await mkdir(directory, { recursive: true });
  const detector = buildDetectorModel();
  const reid = buildReidModel(await computeReidCentre());
  await writeAtomically(models.detector, detector);
  await writeAtomically(models.reid, reid);
  const manifest = { source: fingerprint, sha256: { [DETECTOR_FILE]: sha256(detector), [REID_FILE]: sha256(reid) } };
  await writeAtomically(path.join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return models;
}

function outDirFromArgs(args: string[]): string {
  const index = args.indexOf('--out');
  if (index === -1) return path.join(PROJECT_ROOT, 'models', 'build');
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error('--out needs a directory');
  return value;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  try {
    const started = performance.now();
    const models = await buildProjectModels(outDirFromArgs(process.argv.slice(2)));
    process.stdout.write(`${models.detector}\n${models.reid}\n(${Math.round(performance.now() - started)} ms)\n`);
  } catch (error) {
    process.stderr.write(`models/build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
