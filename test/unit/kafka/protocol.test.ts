import type { Server, Socket } from 'node:net';
import { closeServers, hex, scriptedBroker } from '../../support/scripted-broker.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import {
  decodeApiVersionsResponse,
  pickVersion,
} from '../../../gateway/src/kafka/protocol/api-versions.js';
import { GroupCoordinatorClient } from '../../../gateway/src/kafka/group-coordinator.js';
import { BrokerConnection } from '../../../gateway/src/kafka/protocol/broker-connection.js';
import { decodeDescribeGroupsResponse } from '../../../gateway/src/kafka/protocol/describe-groups.js';
import {
  BrokerAuthenticationError,
  BrokerConnectionError,
  ProtocolError,
} from '../../../gateway/src/kafka/protocol/errors.js';
import {
  FIND_COORDINATOR,
  decodeFindCoordinatorResponse,
  encodeFindCoordinatorRequest,
} from '../../../gateway/src/kafka/protocol/find-coordinator.js';
import { FrameSplitter, encodeRequest } from '../../../gateway/src/kafka/protocol/framing.js';
import {
  OFFSET_COMMIT,
  decodeOffsetCommitResponse,
  encodeOffsetCommitRequest,
} from '../../../gateway/src/kafka/protocol/offset-commit.js';
import {
  OFFSET_FETCH,
  decodeOffsetFetchResponse,
} from '../../../gateway/src/kafka/protocol/offset-fetch.js';
import { ResponseReader } from '../../../gateway/src/kafka/protocol/reader.js';
import {
  firstPartitionError,
  translateGroupError,
} from '../../../gateway/src/kafka/protocol/translate-error.js';
import { RequestWriter } from '../../../gateway/src/kafka/protocol/writer.js';

describe('primitive writer and reader', () => {
  it('round-trips every primitive type', () => {
    const w = new RequestWriter(4); // tiny on purpose: exercises growth
    w.int8(-5)
      .boolean(true)
      .int16(-300)
      .int32(2_000_000_000)
      .int64(-(2n ** 63n))
      .int64(Number.MAX_SAFE_INTEGER)
      .string('héllo ✓')
      .nullableString(null)
      .nullableString('')
      .bytes(Buffer.from([1, 2, 3]))
      .bytes(null)
      .array([7, -1], (aw, n) => aw.int32(n));
    const r = new ResponseReader(w.toBuffer());
    expect(r.int8()).toBe(-5);
    expect(r.boolean()).toBe(true);
    expect(r.int16()).toBe(-300);
    expect(r.int32()).toBe(2_000_000_000);
    expect(r.int64()).toBe(-(2n ** 63n));
    expect(r.int64Number()).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.string()).toBe('héllo ✓');
    expect(r.nullableString()).toBeNull();
    expect(r.nullableString()).toBe('');
    expect(r.bytes()).toEqual(Buffer.from([1, 2, 3]));
    expect(r.bytes()).toBeNull();
    expect(r.array((ar) => ar.int32())).toEqual([7, -1]);
    expect(r.remaining).toBe(0);
  });

  it('writes STRING as an int16 byte length then UTF-8', () => {
    expect(new RequestWriter().string('é').toBuffer()).toEqual(hex('0002 c3a9'));
    expect(new RequestWriter().nullableString(null).toBuffer()).toEqual(hex('ffff'));
  });

  it('refuses values the wire format cannot carry', () => {
    expect(() => new RequestWriter().string('x'.repeat(32768))).toThrow(RangeError);
    expect(() => new RequestWriter().int64(2 ** 53)).toThrow(RangeError);
  });

  it('reports short frames and unsafe int64s as ProtocolError', () => {
    expect(() => new ResponseReader(hex('0005 6162')).string()).toThrow(ProtocolError);
    expect(() => new ResponseReader(hex('0020000000000000')).int64Number()).toThrow(ProtocolError);
    expect(() => new ResponseReader(hex('7fffffff')).array((r) => r.int8())).toThrow(ProtocolError);
  });
});

describe('framing', () => {
  it('cuts a byte stream into frames whatever the chunking', () => {
    const stream = hex('00000006 00000007 abcd  00000004 00000008');
    const splitter = new FrameSplitter();
    const frames = [...stream].flatMap((byte) => splitter.push(Buffer.from([byte])));
    expect(frames.map((f) => f.correlationId)).toEqual([7, 8]);
    expect(frames[0]!.body.int16()).toBe(0xabcd - 0x10000);
    expect(frames[1]!.body.remaining).toBe(0);
  });

  it('rejects a frame size out of range', () => {
    expect(() => new FrameSplitter().push(hex('ffffffff'))).toThrow(ProtocolError);
  });
});

describe('OffsetCommit', () => {
  const topics = [{ topic: 't', partitions: [{ partition: 0, offset: 5, metadata: 'm' }] }];

  it('encodes a v7 request to the exact bytes', () => {
    const frame = encodeRequest(
      { apiKey: 8, apiVersion: 7, correlationId: 1, clientId: 'c' },
      (w) => encodeOffsetCommitRequest(w, 7, 'g', topics),
    );
    expect(frame).toEqual(
      hex(`
        00000034                      # size: 52 bytes follow
        0008 0007 00000001 0001 63    # header: api key 8, v7, correlation 1, client 'c'
        0001 67                       # group_id 'g'
        ffffffff                      # generation_id -1
        0000                          # member_id ''
        ffff                          # group_instance_id null
        00000001 0001 74              # topics: 1, name 't'
        00000001 00000000             # partitions: 1, partition_index 0
        0000000000000005              # committed_offset 5
        ffffffff                      # committed_leader_epoch -1
        0001 6d                       # committed_metadata 'm'
      `),
    );
  });

  it('writes retention_time_ms and no leader epoch or instance id in v2', () => {
    const w = new RequestWriter();
    encodeOffsetCommitRequest(w, 2, 'g', topics);
    expect(w.toBuffer()).toEqual(
      hex(
        '0001 67  ffffffff  0000  ffffffffffffffff  00000001 0001 74  00000001 00000000  0000000000000005  0001 6d',
      ),
    );
  });

  it('decodes per-partition error codes, and a member-only error means the group is in use', () => {
    const body = hex(`
      00000000
      00000001 0001 74
      00000002
      00000000 0000
      00000001 0019
    `);
    const results = decodeOffsetCommitResponse(new ResponseReader(body), 7);
    expect(results).toEqual([
      { topic: 't', partition: 0, errorCode: 0 },
      { topic: 't', partition: 1, errorCode: 25 },
    ]);
    const err = translateGroupError(firstPartitionError(OFFSET_COMMIT.name, results), 'g', 'x');
    expect(err.code).toBe('KGW_GROUP_IN_USE');
    expect(err.details).toEqual({ kafkaCode: 25, group: 'g' });
  });

  it('prefers a retriable partition error, and maps metadata too large and unknown topics', () => {
    const results = [
      { topic: 'a', partition: 0, errorCode: 12 },
      { topic: 'b', partition: 0, errorCode: 16 },
    ];
    expect(firstPartitionError('OffsetCommit', results)?.kafkaCode).toBe(16);
    const tooLarge = firstPartitionError('OffsetCommit', results.slice(0, 1));
    expect(translateGroupError(tooLarge, 'g', 'x').code).toBe('KGW_INVALID_REQUEST');
    const unknown = firstPartitionError('OffsetCommit', [
      { topic: 'z', partition: 3, errorCode: 3 },
    ]);
    expect(translateGroupError(unknown, 'g', 'x')).toMatchObject({
      code: 'KGW_TOPIC_NOT_FOUND',
      message: "Kafka does not know topic 'z' partition 3",
    });
    const other = firstPartitionError('OffsetCommit', [
      { topic: 'z', partition: 3, errorCode: 87 },
    ]);
    expect(translateGroupError(other, 'g', 'commit').message).toMatch(/error code 87/);
  });
});

describe('OffsetFetch', () => {
  it('decodes v5 offsets, metadata, a missing commit and a per-partition error', () => {
    const body = hex(`
      00000000
      00000001 0001 74
      00000003
      00000000 000000000000002a ffffffff 0002 6869 0000
      00000001 ffffffffffffffff ffffffff ffff     0000
      00000002 ffffffffffffffff ffffffff ffff     0003
      0000
    `);
    const result = decodeOffsetFetchResponse(new ResponseReader(body), 5);
    expect(result).toEqual({
      errorCode: 0,
      partitions: [
        { topic: 't', partition: 0, offset: 42, metadata: 'hi', errorCode: 0 },
        { topic: 't', partition: 1, offset: -1, metadata: null, errorCode: 0 },
        { topic: 't', partition: 2, offset: -1, metadata: null, errorCode: 3 },
      ],
    });
    expect(firstPartitionError(OFFSET_FETCH.name, result.partitions)?.kafkaCode).toBe(3);
  });

  it('decodes v1, which has neither throttle time, leader epoch nor top-level error', () => {
    const body = hex('00000001 0001 74 00000001 00000000 0000000000000007 0000 000e');
    expect(decodeOffsetFetchResponse(new ResponseReader(body), 1)).toEqual({
      errorCode: 0,
      partitions: [{ topic: 't', partition: 0, offset: 7, metadata: '', errorCode: 14 }],
    });
  });
});

describe('DescribeGroups and FindCoordinator', () => {
  it('decodes a v4 group with one member', () => {
    const body = hex(`
      00000000
      00000001
      0000 0001 67 0006 ${Buffer.from('Stable').toString('hex')}
      0008 ${Buffer.from('consumer').toString('hex')} 0005 ${Buffer.from('range').toString('hex')}
      00000001
      0002 6d31 ffff 0002 6331 000a ${Buffer.from('/127.0.0.1').toString('hex')}
      00000001 00 ffffffff
      80000000
    `);
    expect(decodeDescribeGroupsResponse(new ResponseReader(body), 4)).toEqual([
      {
        errorCode: 0,
        groupId: 'g',
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'range',
        members: [
          { memberId: 'm1', groupInstanceId: null, clientId: 'c1', clientHost: '/127.0.0.1' },
        ],
      },
    ]);
  });

  it('encodes a v1 request and decodes its answer', () => {
    const w = new RequestWriter();
    encodeFindCoordinatorRequest(w, 'g1');
    expect(w.toBuffer()).toEqual(hex('0002 6731 00'));
    const body = hex('00000000 0000 ffff 00000001 0009 3132372e302e302e31 00002384');
    expect(decodeFindCoordinatorResponse(new ResponseReader(body))).toEqual({
      errorCode: 0,
      nodeId: 1,
      host: '127.0.0.1',
      port: 9092,
    });
  });
});

describe('version negotiation', () => {
  const supported = decodeApiVersionsResponse(
    new ResponseReader(hex('0000 00000002  0008 0002 0009  000a 0000 0006')),
  );

  it('picks the highest version both sides speak', () => {
    expect(pickVersion(OFFSET_COMMIT, supported)).toBe(7);
    expect(pickVersion(FIND_COORDINATOR, supported)).toBe(2);
  });

  it('fails clearly when there is no common version or the API is missing', () => {
    const newOnly = new Map([[8, { min: 8, max: 9 }]]);
    expect(() => pickVersion(OFFSET_COMMIT, newOnly)).toThrow(
      'the broker supports OffsetCommit v8-v9; this client implements v2-v7',
    );
    expect(() => pickVersion(OFFSET_FETCH, supported)).toThrow(ProtocolError);
  });
});

/** FindCoordinator on one connection; the scripted brokers answer with the key as host. */
const find = (c: BrokerConnection, group: string): Promise<string> =>
  c
    .request(
      FIND_COORDINATOR,
      (w) => encodeFindCoordinatorRequest(w, group),
      decodeFindCoordinatorResponse,
      Date.now() + 2000,
    )
    .then((found) => found.host);

describe('BrokerConnection against a scripted broker', () => {
  const servers: Server[] = [];
  const connections: BrokerConnection[] = [];
  afterEach(async () => {
    connections.splice(0).forEach((c) => c.close());
    await closeServers(servers);
  });

  interface SeenRequest {
    readonly apiKey: number;
    readonly apiVersion: number;
    readonly correlationId: number;
    /** The first field: FindCoordinator's key or OffsetCommit's group id. */
    readonly groupKey: string;
  }

  /** A broker that answers ApiVersions, then hands every other request to `onRequests`. */
  function scripted(onRequests: (socket: Socket, seen: SeenRequest[]) => void): Promise<number> {
    const seenBy = new WeakMap<Socket, SeenRequest[]>();
    return scriptedBroker(servers, ({ apiKey, apiVersion, correlationId, body }, socket) => {
      if (apiKey === 18) {
        // FindCoordinator v0-v6 and OffsetCommit v2-v9, as Kafka 4.1 advertises them.
        socket.write(frame(correlationId, hex('0000 00000002 000a 0000 0006 0008 0002 0009')));
        return;
      }
      const seen = seenBy.get(socket) ?? [];
      seenBy.set(socket, seen);
      seen.push({ apiKey, apiVersion, correlationId, groupKey: body.string() });
      onRequests(socket, seen);
    });
  }

  function frame(correlationId: number, body: Buffer): Buffer {
    return Buffer.concat([
      new RequestWriter()
        .int32(4 + body.length)
        .int32(correlationId)
        .toBuffer(),
      body,
    ]);
  }

  /** A FindCoordinator answer whose host echoes the requested key, to check matching. */
  function coordinatorAnswer(request: SeenRequest): Buffer {
    const w = new RequestWriter().int32(0).int16(0).nullableString(null).int32(1);
    return frame(request.correlationId, w.string(request.groupKey).int32(9092).toBuffer());
  }

  function open(port: number): BrokerConnection {
    const connection = new BrokerConnection({
      host: '127.0.0.1',
      port,
      clientId: 'test',
      connectTimeoutMs: 2000,
      logger: createLogger('silent'),
    });
    connections.push(connection);
    return connection;
  }

  it('pipelines requests on one socket and matches answers by correlation id', async () => {
    const port = await scripted((socket, seen) => {
      // Answer only once both arrived, and in reverse order.
      if (seen.length === 2) seen.reverse().forEach((s) => socket.write(coordinatorAnswer(s)));
    });
    const c = open(port);
    expect(await Promise.all([find(c, 'first'), find(c, 'second')])).toEqual(['first', 'second']);
  });

  it('rejects pending requests when the connection breaks, and reconnects for the next', async () => {
    let calls = 0;
    const port = await scripted((socket, seen) => {
      calls += 1;
      if (calls === 1) socket.destroy();
      else socket.write(coordinatorAnswer(seen.at(-1)!));
    });
    const c = open(port);
    await expect(find(c, 'lost')).rejects.toBeInstanceOf(BrokerConnectionError);
    expect(await find(c, 'again')).toBe('again');
  });

  it('rejects at the deadline when the broker never answers', async () => {
    const port = await scripted(() => undefined);
    const c = open(port);
    const started = Date.now();
    await expect(
      c.request(
        FIND_COORDINATOR,
        (w) => encodeFindCoordinatorRequest(w, 'g'),
        decodeFindCoordinatorResponse,
        Date.now() + 300,
      ),
    ).rejects.toBeInstanceOf(BrokerConnectionError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  describe('GroupCoordinatorClient retries', () => {
    const coordinators: GroupCoordinatorClient[] = [];
    afterEach(async () => {
      await Promise.all(coordinators.splice(0).map((c) => c.close()));
    });

    /** A broker that is its own coordinator and answers OffsetCommit with `codes` in turn. */
    async function coordinatorBroker(
      codes: number[],
    ): Promise<{ port: number; seen: SeenRequest[] }> {
      const all: SeenRequest[] = [];
      const port: number = await scripted((socket, seen) => {
        const request = seen.at(-1)!;
        all.push(request);
        const w = new RequestWriter().int32(0);
        if (request.apiKey === FIND_COORDINATOR.key) {
          w.int16(0).nullableString(null).int32(1).string('127.0.0.1').int32(port);
        } else {
          expect(request.apiVersion).toBe(7);
          const code = codes.length > 1 ? codes.shift()! : codes[0]!;
          w.int32(1).string('t').int32(1).int32(0).int16(code);
        }
        socket.write(frame(request.correlationId, w.toBuffer()));
      });
      return { port, seen: all };
    }

    function coordinator(port: number, timeoutMs: number): GroupCoordinatorClient {
      const c = new GroupCoordinatorClient({
        brokers: [`127.0.0.1:${port}`],
        clientId: 'test',
        timeoutMs,
        logger: createLogger('silent'),
      });
      coordinators.push(c);
      return c;
    }

    const entry = { topic: 't', partition: 0, offset: 1, metadata: '' };

    it('forgets the coordinator after NOT_COORDINATOR on a partition, finds it again and retries', async () => {
      const { port, seen } = await coordinatorBroker([16, 0]);
      await coordinator(port, 2000).commit('g', [entry]);
      expect(seen.map((r) => r.apiKey)).toEqual([10, 8, 10, 8]);
    });

    it('rejects with KGW_TIMEOUT when the coordinator keeps loading past timeoutMs', async () => {
      const { port } = await coordinatorBroker([14]);
      const started = Date.now();
      await expect(coordinator(port, 500).commit('g', [entry])).rejects.toMatchObject({
        code: 'KGW_TIMEOUT',
      });
      expect(Date.now() - started).toBeLessThan(500 + 250);
    });

    it('does not retry an error a retry cannot cure', async () => {
      const { port, seen } = await coordinatorBroker([25]);
      await expect(coordinator(port, 2000).commit('g', [entry])).rejects.toMatchObject({
        code: 'KGW_GROUP_IN_USE',
      });
      expect(seen.map((r) => r.apiKey)).toEqual([10, 8]);
    });
  });
});

describe('BrokerConnection SASL against a scripted broker', () => {
  const servers: Server[] = [];
  const connections: BrokerConnection[] = [];
  afterEach(async () => {
    connections.splice(0).forEach((c) => c.close());
    await closeServers(servers);
  });

  /**
   * A broker speaking PLAIN: it checks the credentials, grants sessions of `lifetimeMs`
   * (KIP-368) and answers FindCoordinator with the key; it counts sockets opened and closed.
   */
  async function saslBroker(lifetimeMs: number): Promise<{
    port: number;
    opened: () => number;
    closed: () => number;
  }> {
    let opened = 0;
    let closed = 0;
    const port = await scriptedBroker(
      servers,
      ({ apiKey, correlationId, body: r }, socket) => {
        const w = new RequestWriter().int32(0).int32(correlationId);
        if (apiKey === 18) {
          // FindCoordinator v0-v6, SaslHandshake v0-v1, SaslAuthenticate v0-v2.
          w.int16(0).array(
            [
              [10, 0, 6],
              [17, 0, 1],
              [36, 0, 2],
            ],
            (x, [key, min, max]) => x.int16(key!).int16(min!).int16(max!),
          );
        } else if (apiKey === 17) {
          const mechanism = r.string();
          w.int16(mechanism === 'PLAIN' ? 0 : 33).array(['PLAIN'], (x, m) => x.string(m));
        } else if (apiKey === 36) {
          const ok = r.bytes()!.toString('utf8') === '\0alice\0secret';
          w.int16(ok ? 0 : 58)
            .nullableString(ok ? null : 'Invalid username or password')
            .bytes(Buffer.alloc(0))
            .int64(ok ? lifetimeMs : 0);
        } else {
          w.int32(0).int16(0).nullableString(null).int32(1).string(r.string()).int32(9092);
        }
        socket.write(w.patchInt32(0, w.length - 4).toBuffer());
      },
      (socket) => {
        opened += 1;
        socket.on('close', () => (closed += 1));
      },
    );
    return {
      port,
      opened: () => opened,
      closed: () => closed,
    };
  }

  function open(port: number, password: string, mechanism: 'PLAIN' | 'SCRAM-SHA-256' = 'PLAIN') {
    const connection = new BrokerConnection({
      host: '127.0.0.1',
      port,
      clientId: 'test',
      connectTimeoutMs: 2000,
      logger: createLogger('silent'),
      sasl: { mechanism, username: 'alice', password },
    });
    connections.push(connection);
    return connection;
  }

  it('authenticates once per connection and replaces a session before the broker expires it', async () => {
    const broker = await saslBroker(400);
    const c = open(broker.port, 'secret');
    expect(await find(c, 'a')).toBe('a');
    expect(await find(c, 'b')).toBe('b');
    expect(broker.opened()).toBe(1);
    // Retired at 80% of its lifetime (320 ms): the next request opens a new session.
    await new Promise((resolve) => setTimeout(resolve, 360));
    expect(broker.closed()).toBe(1);
    expect(await find(c, 'c')).toBe('c');
    expect(broker.opened()).toBe(2);
  });

  it('refuses wrong credentials and an unsupported mechanism as not retriable, saying why', async () => {
    const broker = await saslBroker(0);
    await expect(find(open(broker.port, 'wrong'), 'a')).rejects.toThrow(
      /SASL PLAIN authentication of 'alice' failed: Invalid username or password/,
    );
    await expect(find(open(broker.port, 'secret', 'SCRAM-SHA-256'), 'a')).rejects.toThrow(
      /SCRAM-SHA-256 is not enabled on the broker \(it offers PLAIN\)/,
    );
    const err = await find(open(broker.port, 'wrong'), 'a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerAuthenticationError);
    expect(translateGroupError(err, 'g', 'commit').code).toBe('KGW_KAFKA_UNAVAILABLE');
  });
});
