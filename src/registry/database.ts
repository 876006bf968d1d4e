import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import { PaddockError } from '../errors/index.ts';

export interface QueryResult<Row> {
  rows: Row[];
}

/** The part of a SQL connection the registry uses; PostgreSQL and PGlite both fit behind it. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
}

export interface Database extends SqlClient {
  readonly kind: 'postgres' | 'embedded';
  /** Runs several statements without parameters (migration files). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T>;
  /** Serialises migrations across processes (advisory lock on PostgreSQL). */
  withMigrationLock<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// int8 and numeric come back as strings from pg by default; the registry only stores values
// well inside Number's exact range, so parse them as numbers everywhere.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

function databaseError(message: string, cause: unknown): PaddockError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new PaddockError('DATABASE', `${message}: ${detail}`, { cause });
}

const MIGRATION_LOCK_KEY = 7_241_990_101;

/**
 * Statements with parameters run as named prepared statements, so each connection parses and
 * plans the registry's few statements once instead of on every chunk.
 */
function preparedQuery(sql: string, params: unknown[] | undefined): pg.QueryConfig | string {
  if (params === undefined || params.length === 0) return sql;
  return { name: `paddock_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`, text: sql, values: params };
}

export function createPostgresDatabase(url: string, poolSize = 10): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the daemon; the next query reconnects.
  pool.on('error', () => {});

  const query = async <Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> => {
    const result = await pool.query(preparedQuery(sql, params));
    return { rows: result.rows as Row[] };
  };

  return {
    kind: 'postgres',
    query,
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async <Row>(sql: string, params?: unknown[]) => ({ rows: (await client.query(preparedQuery(sql, params))).rows as Row[] }),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async withMigrationLock(work) {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** Embedded PostgreSQL (PGlite) in `dataDir`, or in memory when `dataDir` is undefined. */
export async function createEmbeddedDatabase(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  let db: InstanceType<typeof PGlite>;
  try {
    db = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
    await db.waitReady;
  } catch (error) {
    throw databaseError(`cannot open the embedded database in ${dataDir ?? 'memory'}`, error);
  }
  // PGlite runs one statement at a time on one connection: queue transactions so a query from
  // another task never lands inside someone else's transaction.
  let queue: Promise<unknown> = Promise.resolve();
  const serialise = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };
  const rawQuery = async <Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> => {
    const result = await db.query<Row>(sql, params);
    return { rows: result.rows };
  };

  return {
    kind: 'embedded',
    query: (sql, params) => serialise(() => rawQuery(sql, params)),
    exec: (sql) => serialise(async () => {
      await db.exec(sql);
    }),
    transaction: (work) =>
      serialise(async () => {
        await db.query('BEGIN');
        try {
          const result = await work({ query: rawQuery });
          await db.query('COMMIT');
          return result;
        } catch (error) {
          await db.query('ROLLBACK').catch(() => {});
          throw error;
        }
      }),
    withMigrationLock: (work) => work(),
    async close() {
      await queue.catch(() => {});
      await db.close();
    },
  };
}
