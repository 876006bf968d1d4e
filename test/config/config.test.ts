import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors/index.ts';

describe('configuration', () => {
  it('has working defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.nats.url).toBe('nats://127.0.0.1:4222');
    expect(config.models.executionProviders).toEqual(['cuda', 'cpu']);
    expect(config.sampleFps).toBe(5);
    expect(config.httpPort).toBe(9464);
    expect(config.cache).toEqual({ ttlSeconds: 300, indexSize: 50 });
    expect(config.models.detector.modelPath).toMatch(/models\/build\/paddock_detector\.onnx$/);
  });

  it('reads values and lists', () => {
    const config = loadConfig({ PADDOCK_EP: 'cpu', PADDOCK_SAMPLE_FPS: '2.5', REDIS_URL: 'redis://127.0.0.1:6379/1', PADDOCK_CACHE_TTL_S: '60' });
    expect(config.models.executionProviders).toEqual(['cpu']);
    expect(config.sampleFps).toBe(2.5);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379/1');
    expect(config.cache.ttlSeconds).toBe(60);
  });

  it.each([
    ['PADDOCK_SAMPLE_FPS', 'fast'],
    ['PADDOCK_HTTP_PORT', '70000'],
    ['PADDOCK_EP', 'tpu,cpu'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'not a url'],
    ['PADDOCK_CACHE_INDEX_SIZE', '0'],
    ['PADDOCK_LOG_LEVEL', 'loud'],
  ])('refuses a bad %s, naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(variable));
  });

  it('never quotes a password or token in a config error', () => {
    const messageOf = (env: Record<string, string>): string => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    const badScheme = messageOf({ DATABASE_URL: 'postgress://u:S3cretPW@h/db' });
    expect(badScheme).toContain('DATABASE_URL');
    expect(badScheme).toContain('postgress://u:***@h/db');
    expect(badScheme).not.toContain('S3cretPW');
    expect(messageOf({ REDIS_URL: 'http://:S3cretPW@h:6379' })).not.toContain('S3cretPW');
    expect(messageOf({ DATABASE_URL: 'mysql://h/db?password=S3cretPW&x=1' })).not.toContain('S3cretPW');
    expect(messageOf({ NATS_PASSWORD: '' , PADDOCK_NATS_ACK_WAIT_S: 'x', NATS_TOKEN: 'T0ken' })).not.toContain('T0ken');
  });

  it('names the variable of a URL with a malformed %-escape (clients would only say "URI malformed")', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://:%zz@127.0.0.1:6379' })).toThrow(/invalid REDIS_URL: has a malformed %-escape/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@h/%zz' })).toThrow(/invalid DATABASE_URL/);
  });

  it('binds the HTTP server to PADDOCK_HTTP_HOST (default every address)', () => {
    expect(loadConfig({}).httpHost).toBe('0.0.0.0');
    expect(loadConfig({ PADDOCK_HTTP_HOST: '127.0.0.1' }).httpHost).toBe('127.0.0.1');
    expect(() => loadConfig({ PADDOCK_HTTP_HOST: 'http://x/' })).toThrow(/PADDOCK_HTTP_HOST/);
  });

  it('refuses unknown PADDOCK_ variables (typos)', () => {
    expect(() => loadConfig({ PADDOCK_SAMPLE_FSP: '5' })).toThrow(/PADDOCK_SAMPLE_FSP/);
  });
});
