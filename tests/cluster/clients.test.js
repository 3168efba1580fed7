'use strict';
// Troupe in cluster mode driven by the two Node.js cluster clients, used as they ship:
// ioredis `Cluster` and node-redis `createCluster`. Thousands of keys of every type the server has
// (lists and sorted sets only if COMMAND INFO knows LPUSH and ZADD), hash-tagged multi-key
// commands, CROSSSLOT for keys of different slots, and pub/sub across nodes.
//
// Needs a running cluster (three masters, any number of replicas); the seed is given by
//   TROUPE_CLUSTER_PORT (required) and TROUPE_CLUSTER_HOST (default 127.0.0.1).
// Run: TROUPE_CLUSTER_PORT=7000 node --test tests/cluster/clients.test.js
// (tests/cluster/test_node_clients.py starts a six-node cluster and runs this.)
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Cluster, Redis } = require('ioredis');
const { createCluster } = require('redis');

const HOST = process.env.TROUPE_CLUSTER_HOST || '127.0.0.1';
const PORT = Number(process.env.TROUPE_CLUSTER_PORT);
if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error('set TROUPE_CLUSTER_PORT to the port of a node of a running cluster');
  process.exit(2);
}
// A prefix of this run, so that runs against a long-lived cluster (scripts/cluster-up) do not meet.
const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const N_STRINGS = 3000;
const N_OTHERS = 1000;
const CROSSSLOT = { message: /^CROSSSLOT Keys in request don't hash to the same slot/ };
const TIMEOUT = { timeout: 60000 };

// Runs fn over items, `width` at a time (every call in a chunk is in flight at once).
async function inChunks(items, fn, width = 250) {
  const out = [];
  for (let i = 0; i < items.length; i += width) {
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  }
  return out;
}

const range = (n, from = 0) => Array.from({ length: n }, (_, i) => from + i);

async function waitFor(what, cond, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// One plain (non-cluster) ioredis connection to host:port, that does not reconnect.
function plain(port, host = HOST) {
  return new Redis({ host, port, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 5000 });
}

// Fails at once (instead of letting the cluster clients retry for ever) when the seed is not there.
async function seedReachable() {
  const seed = plain(PORT);
  seed.on('error', () => {});
  try {
    const info = await seed.call('CLUSTER', 'INFO');
    assert.match(info, /cluster_state:ok/, `the node on ${HOST}:${PORT} is not in a working cluster:\n${info}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    throw new Error(`cannot reach a cluster node on ${HOST}:${PORT} (TROUPE_CLUSTER_PORT): ${e.message}`);
  } finally {
    seed.disconnect();
  }
}

// Closes a client that may be half open, without waiting for ever.
async function close(client) {
  if (!client) return;
  let timer;
  await Promise.race([client.quit().catch(() => {}), new Promise((r) => { timer = setTimeout(r, 2000); })]);
  clearTimeout(timer);
  try {
    Promise.resolve(client.disconnect()).catch(() => {}); // node-redis: rejects once closed
  } catch {
    // ioredis: nothing to do
  }
}

// The cluster as the seed sees it: [{id, host, port, master: bool}].
async function clusterNodes() {
  const seed = plain(PORT);
  try {
    const text = await seed.call('CLUSTER', 'NODES');
    return text.trim().split('\n').map((line) => {
      const f = line.split(' ');
      const addr = f[1].split('@')[0];
      const colon = addr.lastIndexOf(':');
      return { id: f[0], host: addr.slice(0, colon) || HOST, port: Number(addr.slice(colon + 1)),
        master: f[2].split(',').includes('master') };
    });
  } finally {
    seed.disconnect();
  }
}

// Which of the optional types the server has: COMMAND INFO answers nil for an unknown command.
let typesPromise;
function availableTypes() {
  typesPromise ??= (async () => {
    const seed = plain(PORT);
    try {
      const [lpush, zadd] = await seed.call('COMMAND', 'INFO', 'lpush', 'zadd');
      return { lists: lpush != null, zsets: zadd != null };
    } finally {
      seed.disconnect();
    }
  })();
  return typesPromise;
}

async function skipUnless(t, type) {
  const types = await availableTypes();
  if (!types[type]) {
    const msg = `the server has no ${type === 'lists' ? 'list commands (COMMAND INFO lpush is nil)'
      : 'sorted-set commands (COMMAND INFO zadd is nil)'}: skipped`;
    console.log(msg);
    t.skip(msg);
    return true;
  }
  return false;
}

describe('ioredis Cluster', () => {
  let rc;
  before(async () => {
    await seedReachable();
    rc = new Cluster([{ host: HOST, port: PORT }], { enableAutoPipelining: true });
    rc.on('error', (e) => console.error('ioredis cluster error:', e.message));
    await new Promise((resolve, reject) => {
      rc.once('ready', resolve);
      rc.once('end', () => reject(new Error('ioredis could not connect to the cluster')));
    });
  }, TIMEOUT);
  after(() => close(rc));

  it('sees three masters and cluster_state:ok', TIMEOUT, async () => {
    assert.match(await rc.cluster('INFO'), /cluster_state:ok/);
    assert.equal(rc.nodes('master').length, 3);
  });

  it('strings: writes and reads back thousands of keys spread over every master', TIMEOUT, async () => {
    const key = (i) => `io:${RUN}:s:${i}`;
    const sizesBefore = await Promise.all(rc.nodes('master').map((n) => n.dbsize()));
    assert.deepEqual(new Set(await inChunks(range(N_STRINGS), (i) => rc.set(key(i), `value-${i}`))), new Set(['OK']));
    const got = await inChunks(range(N_STRINGS), (i) => rc.get(key(i)));
    assert.deepEqual(got, range(N_STRINGS).map((i) => `value-${i}`));
    assert.deepEqual(await inChunks(range(100), (i) => rc.incrby(`io:${RUN}:n:${i}`, i)), range(100));
    assert.equal(await rc.type(key(7)), 'string');
    assert.equal(await rc.append(key(7), '!'), 'value-7!'.length);
    assert.equal(await rc.getrange(key(7), 0, 4), 'value');
    assert.equal(await rc.set(key(8), 'x', 'PX', 60000), 'OK');
    assert.ok((await rc.pttl(key(8))) > 50000);
    // Every master got a fair share (the hash slots are split three ways).
    const sizesAfter = await Promise.all(rc.nodes('master').map((n) => n.dbsize()));
    const added = sizesAfter.map((a, i) => a - sizesBefore[i]);
    assert.ok(added.every((a) => a > N_STRINGS / 6), `keys per master: ${added}`);
    assert.equal(await rc.get(`io:${RUN}:missing`), null);
    assert.deepEqual(await inChunks(range(N_STRINGS), (i) => rc.del(key(i))), range(N_STRINGS).map(() => 1));
    assert.equal(await rc.exists(key(0)), 0);
  });

  it('hashes', TIMEOUT, async () => {
    const key = (i) => `io:${RUN}:h:${i}`;
    await inChunks(range(N_OTHERS), (i) => rc.hset(key(i), { name: `n${i}`, count: i, blob: 'x'.repeat(i % 50) }));
    const all = await inChunks(range(N_OTHERS), (i) => rc.hgetall(key(i)));
    all.forEach((h, i) => assert.deepEqual(h, { name: `n${i}`, count: `${i}`, blob: 'x'.repeat(i % 50) }));
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.hincrby(key(i), 'count', 1)), range(N_OTHERS).map((i) => i + 1));
    assert.equal(await rc.hlen(key(3)), 3);
    assert.deepEqual(await rc.hmget(key(3), 'name', 'nope'), ['n3', null]);
    assert.equal(await rc.type(key(3)), 'hash');
    assert.equal(await rc.hdel(key(3), 'blob', 'nope'), 1);
    assert.deepEqual((await rc.hkeys(key(3))).sort(), ['count', 'name']);
  });

  it('sets', TIMEOUT, async () => {
    const key = (i) => `io:${RUN}:set:${i}`;
    const members = (i) => range(5).map((j) => `m${i + j}`);
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.sadd(key(i), ...members(i))), range(N_OTHERS).map(() => 5));
    const got = await inChunks(range(N_OTHERS), (i) => rc.smembers(key(i)));
    got.forEach((m, i) => assert.deepEqual(m.sort(), members(i).sort()));
    assert.equal(await rc.scard(key(10)), 5);
    assert.equal(await rc.sismember(key(10), 'm12'), 1);
    assert.equal(await rc.sismember(key(10), 'm99'), 0);
    assert.equal(await rc.srem(key(10), 'm12'), 1);
    assert.equal(await rc.type(key(10)), 'set');
  });

  it('lists (if the server has them)', TIMEOUT, async (t) => {
    if (await skipUnless(t, 'lists')) return;
    const key = (i) => `io:${RUN}:l:${i}`;
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.rpush(key(i), 'a', 'b', `c${i}`)), range(N_OTHERS).map(() => 3));
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.lpush(key(i), 'z')), range(N_OTHERS).map(() => 4));
    const got = await inChunks(range(N_OTHERS), (i) => rc.lrange(key(i), 0, -1));
    got.forEach((l, i) => assert.deepEqual(l, ['z', 'a', 'b', `c${i}`]));
    assert.equal(await rc.llen(key(5)), 4);
    assert.equal(await rc.lpop(key(5)), 'z');
    assert.equal(await rc.rpop(key(5)), 'c5');
    assert.equal(await rc.lindex(key(5), 1), 'b');
    assert.equal(await rc.type(key(5)), 'list');
  });

  it('sorted sets (if the server has them)', TIMEOUT, async (t) => {
    if (await skipUnless(t, 'zsets')) return;
    const key = (i) => `io:${RUN}:z:${i}`;
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.zadd(key(i), 1, 'a', 2, 'b', i + 0.5, 'c')),
      range(N_OTHERS).map(() => 3));
    const got = await inChunks(range(N_OTHERS), (i) => rc.zrange(key(i), 0, -1, 'WITHSCORES'));
    got.forEach((z, i) => {
      const expected = [['a', 1], ['b', 2], ['c', i + 0.5]].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
      assert.deepEqual(z, expected.flatMap(([m, s]) => [m, String(s)]));
    });
    assert.equal(await rc.zscore(key(9), 'c'), '9.5');
    assert.equal(await rc.zcard(key(9)), 3);
    assert.equal(await rc.zincrby(key(9), 10, 'a'), '11');
    assert.deepEqual(await rc.zrangebyscore(key(9), 2, 10), ['b', 'c']);
    assert.equal(await rc.zrank(key(9), 'a'), 2);
    assert.equal(await rc.type(key(9)), 'zset');
  });

  it('hash-tagged multi-key commands', TIMEOUT, async () => {
    const tags = range(100).map((i) => `{io:${RUN}:u${i}}`);
    await inChunks(tags, (tag) => rc.mset(`${tag}:a`, `${tag}1`, `${tag}:b`, `${tag}2`, `${tag}:c`, `${tag}3`));
    const got = await inChunks(tags, (tag) => rc.mget(`${tag}:a`, `${tag}:b`, `${tag}:c`, `${tag}:none`));
    got.forEach((v, i) => assert.deepEqual(v, [`${tags[i]}1`, `${tags[i]}2`, `${tags[i]}3`, null]));
    const tag = tags[0];
    assert.equal(await rc.msetnx(`${tag}:a`, 'x', `${tag}:d`, 'y'), 0);
    assert.equal(await rc.exists(`${tag}:a`, `${tag}:b`, `${tag}:d`), 2);
    assert.equal(await rc.rename(`${tag}:c`, `${tag}:renamed`), 'OK');
    assert.equal(await rc.get(`${tag}:renamed`), `${tag}3`);
    await rc.sadd(`${tag}:s1`, 'a', 'b', 'c');
    await rc.sadd(`${tag}:s2`, 'b', 'c', 'd');
    assert.deepEqual((await rc.sinter(`${tag}:s1`, `${tag}:s2`)).sort(), ['b', 'c']);
    assert.equal(await rc.sunionstore(`${tag}:s3`, `${tag}:s1`, `${tag}:s2`), 4);
    assert.equal(await rc.del(`${tag}:a`, `${tag}:b`, `${tag}:renamed`, `${tag}:s3`), 4);
  });

  it('a multi-key command over keys of different slots gets CROSSSLOT', TIMEOUT, async () => {
    // Without auto-pipelining: with it, ioredis refuses such a command itself, before the server sees it.
    const direct = new Cluster([{ host: HOST, port: PORT }]);
    try {
      const a = `io:${RUN}:cross:a`;
      const b = `io:${RUN}:cross:b`;
      assert.notEqual(await direct.cluster('KEYSLOT', a), await direct.cluster('KEYSLOT', b));
      await assert.rejects(direct.mset(a, '1', b, '2'), CROSSSLOT);
      await assert.rejects(direct.mget(a, b), CROSSSLOT);
      await assert.rejects(direct.del(a, b), CROSSSLOT);
      await assert.rejects(direct.sunionstore(a, b), CROSSSLOT);
      // Nothing was written by the refused MSET.
      assert.equal(await direct.exists(a), 0);
      assert.equal(await direct.exists(b), 0);
    } finally {
      await close(direct);
    }
  });
});

describe('ioredis pub/sub across nodes', () => {
  let nodes;
  const conns = [];
  // A connection once ioredis has found it ready. A SUBSCRIBE issued earlier goes out at once (it
  // may be sent while a server loads) and puts the connection in subscriber mode, and ioredis then
  // refuses its own ready check (INFO) and drops the connection: under load a subscriber vanished
  // that way ("Connection in subscriber mode, only subscriber commands may be used").
  const open = async (port, host) => {
    const c = plain(port, host);
    conns.push(c);
    if (c.status !== 'ready')
      await new Promise((resolve, reject) => {
        c.once('ready', resolve);
        c.once('error', reject);
      });
    return c;
  };
  before(async () => {
    await seedReachable();
    nodes = await clusterNodes();
    assert.ok(nodes.length >= 3, `CLUSTER NODES lists ${nodes.length} nodes`);
  }, TIMEOUT);
  after(() => {
    for (const c of conns) c.disconnect();
  });

  it('a message published on one node reaches subscribers on every node', TIMEOUT, async () => {
    const channel = `news:${RUN}`;
    const received = nodes.map(() => []);
    const subs = await Promise.all(nodes.map(async (n, i) => {
      const s = await open(n.port, n.host);
      s.on('message', (ch, msg) => received[i].push([ch, msg]));
      return s;
    }));
    for (const s of subs) assert.equal(await s.subscribe(channel), 1);
    // Publish through each node in turn: every subscriber, wherever it is, sees all of them. (Not
    // necessarily in publishing order: Redis orders messages only per publishing node.) PUBLISH
    // counts only the node's own subscribers (as Redis does): one on every node here.
    for (const [i, n] of nodes.entries()) {
      const pub = await open(n.port, n.host);
      assert.equal(await pub.publish(channel, `hello from ${n.port}`), 1, `PUBLISH via node ${i}`);
    }
    const expected = nodes.map((n) => `${channel} hello from ${n.port}`).sort();
    await waitFor('every subscriber to get every message',
      () => received.every((r) => r.length >= expected.length));
    await new Promise((r) => setTimeout(r, 100));
    received.forEach((r, i) => assert.deepEqual(r.map((m) => m.join(' ')).sort(), expected,
      `subscriber on ${nodes[i].port}`));
  });

  it('pattern subscriptions on one node see messages published on another', TIMEOUT, async () => {
    const [a, b] = nodes.filter((n) => n.master);
    const sub = await open(a.port, a.host);
    const got = [];
    sub.on('pmessage', (pattern, ch, msg) => got.push([pattern, ch, msg]));
    assert.equal(await sub.psubscribe(`sport:${RUN}:*`), 1);
    const pub = await open(b.port, b.host);
    assert.equal(await pub.publish(`sport:${RUN}:tennis`, 'set point'), 0); // no subscriber on b itself
    assert.equal(await pub.publish(`weather:${RUN}`, 'rain'), 0);
    await waitFor('the pmessage', () => got.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got, [[`sport:${RUN}:*`, `sport:${RUN}:tennis`, 'set point']]);
  });

  it('messages published on one node arrive in order on another', TIMEOUT, async () => {
    const [a, b] = nodes.filter((n) => n.master);
    const channel = `ordered:${RUN}`;
    const sub = await open(a.port, a.host);
    const got = [];
    sub.on('message', (ch, msg) => got.push(msg));
    await sub.subscribe(channel);
    const pub = await open(b.port, b.host);
    await Promise.all(range(500).map((i) => pub.publish(channel, `m${i}`))); // pipelined
    for (const i of range(100, 500)) await pub.publish(channel, `m${i}`);
    await waitFor('600 messages', () => got.length >= 600);
    assert.deepEqual(got, range(600).map((i) => `m${i}`));
  });

  it('with Cluster clients: every message arrives', TIMEOUT, async () => {
    // The Cluster client sends each PUBLISH to a node of its choice, and Redis keeps the order of
    // messages only per publishing node, so the order is not checked here.
    const channel = `feed:${RUN}`;
    const sub = new Cluster([{ host: HOST, port: PORT }]);
    const pub = new Cluster([{ host: HOST, port: PORT }]);
    try {
      const got = [];
      sub.on('message', (ch, msg) => got.push(msg));
      assert.equal(await sub.subscribe(channel), 1);
      for (const i of range(200)) await pub.publish(channel, `m${i}`);
      await waitFor('200 messages', () => got.length >= 200);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got.slice().sort(), range(200).map((i) => `m${i}`).sort());
    } finally {
      await Promise.all([close(sub), close(pub)]);
    }
  });
});

describe('node-redis createCluster', () => {
  let rc;
  before(async () => {
    await seedReachable();
    rc = createCluster({ rootNodes: [{ url: `redis://${HOST}:${PORT}` }] });
    rc.on('error', (e) => console.error('node-redis cluster error:', e.message));
    await rc.connect();
  }, TIMEOUT);
  after(() => close(rc));

  it('sees three masters', TIMEOUT, async () => {
    assert.equal(rc.masters.length, 3);
  });

  it('strings', TIMEOUT, async () => {
    const key = (i) => `nr:${RUN}:s:${i}`;
    assert.deepEqual(new Set(await inChunks(range(N_STRINGS), (i) => rc.set(key(i), `value-${i}`))), new Set(['OK']));
    const got = await inChunks(range(N_STRINGS), (i) => rc.get(key(i)));
    assert.deepEqual(got, range(N_STRINGS).map((i) => `value-${i}`));
    assert.deepEqual(await inChunks(range(100), (i) => rc.incrBy(`nr:${RUN}:n:${i}`, i)), range(100));
    assert.equal(await rc.set(key(1), 'new', { GET: true }), 'value-1');
    assert.equal(await rc.getDel(key(1)), 'new');
    assert.equal(await rc.get(key(1)), null);
    assert.equal(await rc.set(key(2), 'x', { EX: 100 }), 'OK');
    assert.ok((await rc.ttl(key(2))) > 90);
    assert.equal(await rc.type(key(3)), 'string');
    assert.equal(await rc.strLen(key(3)), 'value-3'.length);
  });

  it('hashes', TIMEOUT, async () => {
    const key = (i) => `nr:${RUN}:h:${i}`;
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.hSet(key(i), { name: `n${i}`, count: i })),
      range(N_OTHERS).map(() => 2));
    const got = await inChunks(range(N_OTHERS), (i) => rc.hGetAll(key(i)));
    got.forEach((h, i) => assert.deepEqual({ ...h }, { name: `n${i}`, count: `${i}` }));
    assert.equal(await rc.hGet(key(4), 'name'), 'n4');
    assert.equal(await rc.hExists(key(4), 'nope'), false);
    assert.equal(await rc.hIncrByFloat(key(4), 'count', 0.5), '4.5');
  });

  it('sets', TIMEOUT, async () => {
    const key = (i) => `nr:${RUN}:set:${i}`;
    const members = (i) => [`a${i}`, `b${i}`, `c${i}`, 'shared'];
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.sAdd(key(i), members(i))), range(N_OTHERS).map(() => 4));
    const got = await inChunks(range(N_OTHERS), (i) => rc.sMembers(key(i)));
    got.forEach((m, i) => assert.deepEqual(m.sort(), members(i).sort()));
    assert.equal(await rc.sIsMember(key(1), 'shared'), true);
    assert.equal(await rc.sCard(key(1)), 4);
  });

  it('lists (if the server has them)', TIMEOUT, async (t) => {
    if (await skipUnless(t, 'lists')) return;
    const key = (i) => `nr:${RUN}:l:${i}`;
    assert.deepEqual(await inChunks(range(N_OTHERS), (i) => rc.rPush(key(i), ['1', '2', `${i}`])), range(N_OTHERS).map(() => 3));
    const got = await inChunks(range(N_OTHERS), (i) => rc.lRange(key(i), 0, -1));
    got.forEach((l, i) => assert.deepEqual(l, ['1', '2', `${i}`]));
    assert.equal(await rc.lLen(key(7)), 3);
    assert.equal(await rc.lPop(key(7)), '1');
  });

  it('sorted sets (if the server has them)', TIMEOUT, async (t) => {
    if (await skipUnless(t, 'zsets')) return;
    const key = (i) => `nr:${RUN}:z:${i}`;
    assert.deepEqual(await inChunks(range(N_OTHERS),
      (i) => rc.zAdd(key(i), [{ score: i, value: 'x' }, { score: -1, value: 'y' }])), range(N_OTHERS).map(() => 2));
    const got = await inChunks(range(N_OTHERS), (i) => rc.zRangeWithScores(key(i), 0, -1));
    got.forEach((z, i) => assert.deepEqual(z.map((e) => ({ ...e })), [{ value: 'y', score: -1 }, { value: 'x', score: i }]));
    assert.equal(await rc.zScore(key(12), 'x'), 12);
    assert.equal(await rc.zCard(key(12)), 2);
  });

  it('hash-tagged multi-key commands', TIMEOUT, async () => {
    const tags = range(100).map((i) => `{nr:${RUN}:u${i}}`);
    await inChunks(tags, (tag) => rc.mSet([[`${tag}:a`, '1'], [`${tag}:b`, '2'], [`${tag}:c`, tag]]));
    const got = await inChunks(tags, (tag) => rc.mGet([`${tag}:a`, `${tag}:b`, `${tag}:c`, `${tag}:none`]));
    got.forEach((v, i) => assert.deepEqual(v, ['1', '2', tags[i], null]));
    assert.equal(await rc.del([`${tags[0]}:a`, `${tags[0]}:b`]), 2);
  });

  it('a multi-key command over keys of different slots gets CROSSSLOT', TIMEOUT, async () => {
    const a = `nr:${RUN}:cross:a`;
    const b = `nr:${RUN}:cross:b`;
    await assert.rejects(rc.mSet([[a, '1'], [b, '2']]), CROSSSLOT);
    await assert.rejects(rc.mGet([a, b]), CROSSSLOT);
    await assert.rejects(rc.del([a, b]), CROSSSLOT);
    assert.equal(await rc.exists(a), 0);
  });

  it('reads what ioredis wrote, and the other way round', TIMEOUT, async () => {
    const io = new Cluster([{ host: HOST, port: PORT }]);
    try {
      const key = (i) => `both:${RUN}:${i}`;
      await inChunks(range(500), (i) => io.set(key(i), `io${i}`));
      assert.deepEqual(await inChunks(range(500), (i) => rc.get(key(i))), range(500).map((i) => `io${i}`));
      await inChunks(range(500), (i) => rc.hSet(`${key(i)}:h`, 'f', `nr${i}`));
      assert.deepEqual(await inChunks(range(500), (i) => io.hget(`${key(i)}:h`, 'f')), range(500).map((i) => `nr${i}`));
    } finally {
      await close(io);
    }
  });

  it('pub/sub and sharded pub/sub', TIMEOUT, async () => {
    const sub = rc.duplicate();
    sub.on('error', (e) => console.error('node-redis subscriber error:', e.message));
    await sub.connect();
    try {
      const got = [];
      await sub.subscribe(`nr-news:${RUN}`, (msg, ch) => got.push([ch, msg]));
      const sgot = [];
      const schannel = `nr-shard:${RUN}`;
      await sub.sSubscribe(schannel, (msg, ch) => sgot.push([ch, msg]));
      // PUBLISH goes to a node of node-redis's choice: order is kept only per publishing node (as in
      // Redis), so only the set of messages is checked. SPUBLISH goes to the channel's shard: in order.
      for (const i of range(20)) await rc.publish(`nr-news:${RUN}`, `p${i}`);
      for (const i of range(20)) assert.equal(await rc.sPublish(schannel, `s${i}`), 1);
      await waitFor('the messages', () => got.length >= 20 && sgot.length >= 20);
      assert.deepEqual(got.map((m) => m.join(' ')).sort(), range(20).map((i) => `nr-news:${RUN} p${i}`).sort());
      assert.deepEqual(sgot, range(20).map((i) => [schannel, `s${i}`]));
    } finally {
      await close(sub);
    }
  });
});
