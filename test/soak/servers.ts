/**
 * Private servers for the soak: its own nats-server, PostgreSQL cluster and redis-server on free
 * loopback ports, so stopping, killing and freezing them disturbs no other suite or user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../helpers/ports.ts';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
export const REDIS_SERVER = '/usr/bin/redis-server';

export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => path.join(root, version, 'bin')).find((bin) => existsSync(path.join(bin, 'pg_ctl')));
}

/** Whether this machine can run the soak's private servers. */
export function soakServersAvailable(): string | null {
  if (spawnSync(NATS_SERVER, ['--version']).status !== 0) return `${NATS_SERVER} is missing`;
  if (!existsSync(REDIS_SERVER)) return `${REDIS_SERVER} is missing`;
  if (postgresBin() === undefined) return 'no PostgreSQL server binaries under /usr/lib/postgresql';
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'no postgres system user to run a private cluster as';
  return null;
}

/** A server process that can be stopped and started again on the same port and data. */
export interface PrivateServer {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL (crash) or a clean stop. */
  stop(how?: 'kill' | 'clean'): Promise<void>;
}

abstract class ProcessServer implements PrivateServer {
  protected child: ChildProcess | null = null;
  abstract readonly url: string;
  constructor(readonly port: number) {}
  protected abstract spawnServer(): ChildProcess;
  async start(): Promise<void> {
    this.child = this.spawnServer();
    await waitForPort(this.port, true);
  }
  async stop(how: 'kill' | 'clean' = 'clean'): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    await exited;
    this.child = null;
    await waitForPort(this.port, false);
  }
}

class NatsServer extends ProcessServer {
  readonly url: string;
  constructor(port: number, private readonly dir: string) {
    super(port);
    this.url = `nats://127.0.0.1:${port}`;
  }
  protected spawnServer(): ChildProcess {
    return spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir], { stdio: 'ignore' });
  }
}

class RedisServer extends ProcessServer {
  readonly url: string;
  constructor(port: number) {
    super(port);
    this.url = `redis://127.0.0.1:${port}/0`;
  }
  protected spawnServer(): ChildProcess {
    return spawn(REDIS_SERVER, ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  }
}

/** A PostgreSQL cluster of its own (initdb as the postgres user, trust auth on loopback). */
class PostgresServer implements PrivateServer {
  readonly url: string;
  private readonly bin: string;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.bin = postgresBin()!;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }
  init(): void {
    mkdirSync(this.dir, { recursive: true });
    chownSync(this.dir, uid('postgres'), gid('postgres'));
    run('runuser', ['-u', 'postgres', '--', path.join(this.bin, 'initdb'), '-D', this.dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }
  async start(): Promise<void> {
    run('runuser', ['-u', 'postgres', '--', path.join(this.bin, 'pg_ctl'), '-D', this.dir, '-o', `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(this.dir, 'log'), '-w', 'start']);
    await waitForPort(this.port, true);
  }
  async stop(how: 'kill' | 'clean' = 'clean'): Promise<void> {
    run('runuser', ['-u', 'postgres', '--', path.join(this.bin, 'pg_ctl'), '-D', this.dir, '-m', how === 'kill' ? 'immediate' : 'fast', '-w', 'stop'], true);
    await waitForPort(this.port, false);
  }
}

function run(command: string, args: string[], tolerateFailure = false): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0 && !tolerateFailure) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
}

function uid(user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
}

function gid(user: string): number {
  return Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
}

export interface SoakServers {
  nats: PrivateServer;
  postgres: PrivateServer;
  redis: PrivateServer;
  stopAll(): Promise<void>;
}

export async function startSoakServers(dir: string): Promise<SoakServers> {
  const [natsPort, postgresPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const nats = new NatsServer(natsPort, path.join(dir, 'jetstream'));
  const postgres = new PostgresServer(postgresPort, path.join(dir, 'pgdata'));
  const redis = new RedisServer(redisPort);
  postgres.init();
  await Promise.all([nats.start(), postgres.start(), redis.start()]);
  return {
    nats,
    postgres,
    redis,
    async stopAll() {
      await Promise.allSettled([nats.stop('kill'), postgres.stop('kill'), redis.stop('kill')]);
    },
  };
}
