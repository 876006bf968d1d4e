import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPaddockError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { connectNats, natsConnectionOptions, redactNatsUrl } from '../../src/sources/index.ts';
import type { NatsSettings } from '../../src/sources/index.ts';
import { TEST_NATS_URL, serviceAvailable } from '../helpers/services.ts';

const natsUp = await serviceAvailable('nats');

function settings(overrides: Partial<NatsSettings> = {}): NatsSettings {
  return { url: 'nats://127.0.0.1:4222', user: undefined, password: undefined, token: undefined, credsFile: undefined, tls: { ca: undefined, cert: undefined, key: undefined }, ...overrides };
}

describe('NATS connection options', () => {
  it('logs server URLs without credentials', () => {
    expect(redactNatsUrl('nats://alice:s3cret@nats-1:4222, tls://tok@nats-2:4443,nats-3:4222')).toBe('nats://nats-1:4222,tls://nats-2:4443,nats://nats-3:4222');
  });

  it('reconnects forever and passes user/password, token or TLS files', () => {
    const plain = natsConnectionOptions(settings({ url: 'nats://a:4222,nats://b:4222' }));
    expect(plain).toMatchObject({ servers: ['nats://a:4222', 'nats://b:4222'], reconnect: true, maxReconnectAttempts: -1 });
    expect(natsConnectionOptions(settings({ user: 'paddock', password: 'pw' }))).toMatchObject({ user: 'paddock', pass: 'pw' });
    expect(natsConnectionOptions(settings({ token: 'tok' }))).toMatchObject({ token: 'tok' });
    expect(natsConnectionOptions(settings({ tls: { ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' } })).tls).toEqual({ caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' });
  });

  it('refuses an unreadable creds file and half a client certificate as configuration errors', async () => {
    expect(() => natsConnectionOptions(settings({ credsFile: '/nonexistent/paddock.creds' }))).toThrow(/NATS_CREDS_FILE/);
    expect(() => natsConnectionOptions(settings({ tls: { ca: undefined, cert: '/c.pem', key: undefined } }))).toThrow(/NATS_TLS_CERT/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-creds-'));
    const creds = path.join(dir, 'user.creds');
    await writeFile(creds, 'not a creds file');
    expect(typeof natsConnectionOptions(settings({ credsFile: creds })).authenticator).toBe('function');
  });

  it('fails with NATS_UNAVAILABLE and no secret in the message when the server is unreachable', async () => {
    const error = await connectNats(settings({ url: 'nats://bob:hunter2@127.0.0.1:1' }), { logger: silentLogger(), timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(isPaddockError(error) && error.code).toBe('NATS_UNAVAILABLE');
    expect((error as Error).message).toContain('nats://127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe.skipIf(!natsUp)('NATS connection (real NATS)', () => {
  it('reports connected until closed', async () => {
    const link = await connectNats(settings({ url: TEST_NATS_URL }), { logger: silentLogger() });
    expect(link.isConnected()).toBe(true);
    await link.close();
    await link.close();
    expect(link.isConnected()).toBe(false);
  });
});
