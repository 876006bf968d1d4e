import type { SqlClient } from './database.ts';
import { LIVE_HORSE } from './horse-rows.ts';
import type { HerdSettings } from './types.ts';

/** A stream's row with its horse counts; every column is null for a stream never written. */
export interface StreamRow {
  registry_version: number | null;
  tracker_state: Uint8Array | null;
  herd_expected_count: number | null;
  herd_official_ids: string[] | null;
  max_tracking_id: number | null;
  live_count: number | null;
}

export async function streamState(client: SqlClient, streamId: string): Promise<StreamRow> {
  const { rows } = await client.query<StreamRow>(
    `SELECT s.registry_version, s.herd_expected_count, s.herd_official_ids, s.tracker_state,
            (SELECT max(tracking_id) FROM horses WHERE stream_id = $1) AS max_tracking_id,
            (SELECT count(*) FROM horses WHERE stream_id = $1 AND ${LIVE_HORSE}) AS live_count
       FROM (SELECT 1) AS one LEFT JOIN streams s ON s.stream_id = $1`,
    [streamId],
  );
  return rows[0]!;
}

export function herdFrom(row: { herd_expected_count: number | null; herd_official_ids: string[] | null } | undefined): HerdSettings | null {
  if (row?.herd_expected_count === null || row?.herd_expected_count === undefined) return null;
  return { expectedCount: Number(row.herd_expected_count), officialIds: row.herd_official_ids ?? [] };
}
