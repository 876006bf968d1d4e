/**
 * The registry decision, from a track's confirmation on: which horse a confirmed, undecided
 * track is — a known horse of the registry, a horse already in this chunk, or a new one — and
 * the table of this chunk's horses it decides among (known horses made on first use, new ones).
 * The statuses and herd mode are defined in the tracker's module comment (./tracker.ts); the
 * optimal assignment itself is matchIdentities (./identity.ts).
 *
 * Pure and deterministic, like the tracker that owns it: no clocks, no randomness,
 * insertion-ordered iteration only.
 */
import { bankSimilarity, cloneFeatureBank, createFeatureBank, normalizeInPlace, updateFeatureBank } from './featureBank.ts';
import { HorseGallery } from './gallery.ts';
import { matchIdentities } from './identity.ts';
import type { TrackerOptions } from './options.ts';
import { attribute, horseState, seenLately, type HorseState, type Track } from './track.ts';
import { colorFor, horseIdFor, type HorseStatus, type KnownHorse } from './types.ts';

/** A track reported as provisional in an earlier chunk that is now decided. */
export interface IdentifiedTrack {
  trackKey: number;
  horseId: string;
  status: HorseStatus;
}

export interface HerdSpec {
  expectedCount: number;
  officialIds: string[];
}

/**
 * Frames two tracks must be seen side by side before they count as different horses: the two
 * pieces of one horse split by the detector for a frame or two are not. (Frames with the two a
 * body length apart count double: see recordCoVisibility.)
 */
const CO_VISIBLE_MIN_FRAMES = 5;

function seenBeside(track: Track, horseId: string): boolean {
  return (track.coVisibleHorses.get(horseId) ?? 0) >= CO_VISIBLE_MIN_FRAMES;
}

export class Identities {
  /** Horses handled in this chunk (known horses materialised, and new ones), in creation order. */
  readonly horses: HorseState[] = [];
  /** Earlier provisional tracks decided in this chunk. */
  readonly identified: IdentifiedTrack[] = [];
  private readonly horseByKnownIndex = new Map<number, HorseState>();
  private readonly officialKnown: Uint8Array;
  private gallery: HorseGallery | null = null;
  private similarityScratch: Float64Array | null = null;
  private next: number;

  constructor(
    private readonly options: TrackerOptions,
    private readonly known: readonly KnownHorse[],
    private readonly herd: HerdSpec | null,
    nextTrackingId: number,
  ) {
    this.next = nextTrackingId;
    this.officialKnown = new Uint8Array(known.length);
    if (herd !== null) {
      const official = new Set(herd.officialIds);
      known.forEach((horse, index) => {
        if (official.size === 0 || official.has(horse.id)) this.officialKnown[index] = 1;
      });
    }
  }

  /** The tracking number the next new horse gets. */
  get nextTrackingId(): number {
    return this.next;
  }

  /**
   * Decides the confirmed, still undecided tracks that are tracked in the current frame. Binding a
   * track to a horse ends the horse's previous (lost) track, which leaves `tracks` (in place).
   */
  identify(tracks: Track[], lastTimestampS: number, dim: number): void {
    const waiting = tracks.filter((track) => track.confirmed && track.horse === null && track.phase === 'tracked');
    if (waiting.length === 0) return;
    const herdComplete = this.herd !== null && this.herdSize() >= this.herd.expectedCount;
    const queries = waiting.map((track) => this.queryVector(track));

    const visible = new Set<HorseState>();
    // A horse missed for a frame or two is still there: no other track may claim it meanwhile.
    for (const track of tracks) if (track.horse !== null && seenLately(track)) visible.add(track.horse);
    const liveCandidates = this.horses.filter((horse) => !visible.has(horse) && (!herdComplete || horse.inHerd));
    const gallery = this.ensureGallery(queries, dim);
    let galleryEligible: Uint8Array | null = null;
    if (gallery !== null) {
      galleryEligible = new Uint8Array(gallery.count);
      for (let k = 0; k < gallery.count; k += 1) {
        if (this.horseByKnownIndex.has(k)) continue;
        if (herdComplete && this.officialKnown[k] !== 1) continue;
        galleryEligible[k] = 1;
      }
    }
    const usable = queries.map((query) => query !== null);
    const matches = matchIdentities(
      {
        queries: queries.map((query) => query ?? new Float32Array(0)),
        gallery,
        galleryEligible,
        liveBanks: liveCandidates.map((horse) => horse.bank),
        threshold: herdComplete ? Number.NEGATIVE_INFINITY : this.options.reidSimilarity,
        allowed: (query, source, index) => {
          const id = source === 'known' ? this.known[index]!.id : liveCandidates[index]!.id;
          return !seenBeside(waiting[query]!, id);
        },
      },
      this.similarityScratch,
    );

    waiting.forEach((track, index) => {
      const match = usable[index] ? matches[index] : null;
      if (match !== null && match !== undefined) {
        const horse = match.source === 'known' ? this.materialiseKnown(match.index) : liveCandidates[match.index]!;
        if (horse.status === null) horse.status = 'reactivated';
        this.bind(tracks, track, horse);
        return;
      }
      // Nothing matched. In a complete herd the track waits for a herd horse to become free.
      if (this.herd !== null && this.herdSize() >= this.herd.expectedCount) return;
      // A new horse needs an established track: seen long enough and in clean views, so the
      // visible piece of a partly hidden horse, or a short-lived false track, never becomes one.
      if (!this.establishedForNewHorse(track, lastTimestampS)) return;
      // A known horse that looks like this track but seems visible elsewhere right now may be
      // on a wrong track (a lost track re-found on another horse): wait a while before a new horse.
      const query = queries[index];
      if (query !== null && query !== undefined && this.resemblesVisibleHorse(track, query, visible, lastTimestampS)) return;
      const hidden = this.emergedHorse(track, visible);
      if (hidden !== null && hidden.status === null) hidden.status = 'reactivated';
      this.bind(tracks, track, hidden ?? this.createHorse(track, dim));
    });
  }

  private resemblesVisibleHorse(track: Track, query: Float32Array, visible: Set<HorseState>, lastTimestampS: number): boolean {
    if (lastTimestampS - track.firstSeenS >= 2 * this.options.newHorseMaxWaitS) return false;
    for (const horse of visible) {
      if (horse.track === track || seenBeside(track, horse.id)) continue;
      if (bankSimilarity(horse.bank, query) >= this.options.reidSimilarity) return true;
    }
    return false;
  }

  /**
   * The hidden horse `track` stepped out as (Track.emergedFrom), while it is not visible
   * elsewhere and was never seen beside the track; null otherwise.
   */
  private emergedHorse(track: Track, visible: ReadonlySet<HorseState>): HorseState | null {
    const id = track.emergedFrom;
    if (id === null || seenBeside(track, id)) return null;
    const horse = this.horses.find((candidate) => candidate.id === id);
    if (horse !== undefined) return visible.has(horse) ? null : horse;
    const index = this.known.findIndex((known) => known.id === id);
    return index < 0 ? null : this.materialiseKnown(index);
  }

  private establishedForNewHorse(track: Track, lastTimestampS: number): boolean {
    const trackedS = lastTimestampS - track.firstSeenS;
    if (trackedS < this.options.newHorseMinTrackS) return false;
    // A horse that is never seen unoccluded (one that always grazes beside another) still
    // becomes a horse once its track has lasted long enough to be more than a passing piece, and
    // was mostly in view now and then (the piece of a horse hidden behind another never is).
    // A track that is clean right now (a horse stepping out from behind another) gets its clean
    // views within a few frames: it is decided on them, not on the appearance of its hidden phase.
    if (track.cleanViews >= this.options.newHorseMinCleanViews) return true;
    if (trackedS < this.options.newHorseMaxWaitS || track.cleanNow) return false;
    // A track only ever seen in pieces (inside another horse's box) may still be the piece of a
    // horse about to step out: after twice the wait it is a horse that stands behind another.
    if (this.alwaysHidden(track) && trackedS < 2 * this.options.newHorseMaxWaitS) return false;
    // Nor while its look is changing (a piece growing into the whole horse): decided once its views agree again.
    return Number.isNaN(track.selfSimilarity) || track.selfSimilarity >= this.options.trustedAppearanceSimilarity;
  }

  /** Never mostly in view for newHorseMinCleanViews views (the piece of a horse behind another). */
  private alwaysHidden(track: Track): boolean {
    return track.visibleViews < this.options.newHorseMinCleanViews;
  }

  /**
   * The track's appearance for the registry decision (unit vector): its clean-view bank mean
   * once it has enough clean views to trust it, else its running appearance (every confident
   * view, so one odd clean view cannot decide alone); null with neither.
   */
  private queryVector(track: Track): Float32Array | null {
    const trustBank = track.bank !== null && (track.cleanViews >= this.options.newHorseMinCleanViews || track.appearance === null);
    const source = trustBank ? track.bank!.mean : track.appearance;
    return source === null ? null : normalizeInPlace(Float32Array.from(source));
  }

  private ensureGallery(queries: (Float32Array | null)[], trackerDim: number): HorseGallery | null {
    if (this.gallery !== null) return this.gallery;
    const dim = queries.find((query) => query !== null)?.length ?? trackerDim;
    if (dim <= 0 || this.known.length === 0) return null;
    this.gallery = new HorseGallery(
      this.known.map((horse) => horse.features),
      dim,
    );
    this.similarityScratch = new Float64Array(this.gallery.count);
    return this.gallery;
  }

  /** Gives `track` to `horse`: the horse's previous (lost) track ends, held observations flow in. */
  private bind(tracks: Track[], track: Track, horse: HorseState): void {
    const previous = horse.track;
    if (previous !== null && previous !== track) {
      const at = tracks.indexOf(previous);
      if (at >= 0) tracks.splice(at, 1);
    }
    horse.track = track;
    track.horse = horse;
    if (track.provisional) this.identified.push({ trackKey: track.key, horseId: horse.id, status: horse.status ?? 'reactivated' });
    for (const other of tracks) {
      const frames = other.coVisibleTracks.get(track.key);
      if (frames === undefined) continue;
      other.coVisibleTracks.delete(track.key);
      other.coVisibleHorses.set(horse.id, (other.coVisibleHorses.get(horse.id) ?? 0) + frames);
    }
    if (track.bank !== horse.bank) {
      for (const vector of track.pendingVectors) updateFeatureBank(horse.bank, vector, this.options.featureBank);
      track.bank = horse.bank;
    }
    track.pendingVectors = [];
    for (const observation of track.pendingBoxes) attribute(horse, track, observation);
    track.pendingBoxes = [];
  }

  /** The known horse at `index` as a horse of this chunk (made on first use). */
  materialiseKnown(index: number): HorseState {
    const existing = this.horseByKnownIndex.get(index);
    if (existing !== undefined) return existing;
    const known = this.known[index]!;
    const horse = horseState({
      id: known.id,
      trackingId: known.trackingId,
      color: known.color,
      name: known.name,
      status: null,
      knownIndex: index,
      inHerd: this.officialKnown[index] === 1,
      bank: cloneFeatureBank(known.features),
    });
    this.horseByKnownIndex.set(index, horse);
    this.horses.push(horse);
    return horse;
  }

  private createHorse(track: Track, dim: number): HorseState {
    const trackingId = this.next;
    this.next += 1;
    const horse = horseState({
      id: horseIdFor(trackingId),
      trackingId,
      color: colorFor(trackingId),
      name: null,
      status: 'new',
      knownIndex: -1,
      inHerd: true,
      // A horse first seen only in crowded views has no clean-view bank yet; its bank starts from
      // the track's running appearance (the only view there is) and clean views refine it later.
      bank: track.bank ?? createFeatureBank(track.appearance ?? new Float32Array(Math.max(1, dim))),
    });
    this.horses.push(horse);
    return horse;
  }

  private herdSize(): number {
    let size = 0;
    for (let k = 0; k < this.officialKnown.length; k += 1) size += this.officialKnown[k]!;
    for (const horse of this.horses) if (horse.knownIndex === -1) size += 1;
    return size;
  }
}
