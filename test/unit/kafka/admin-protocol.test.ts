import type { Server } from 'node:net';
import { closeServers, hex, scriptedBroker } from '../../support/scripted-broker.js';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminReadClient } from '../../../gateway/src/kafka/admin-reads.js';
import { pickVersion } from '../../../gateway/src/kafka/protocol/api-versions.js';
import {
  DESCRIBE_CONFIGS,
  decodeDescribeConfigsResponse,
  encodeDescribeConfigsRequest,
} from '../../../gateway/src/kafka/protocol/describe-configs.js';
import { ProtocolError } from '../../../gateway/src/kafka/protocol/errors.js';
import { encodeRequest } from '../../../gateway/src/kafka/protocol/framing.js';
import {
  LIST_GROUPS,
  decodeListGroupsResponse,
} from '../../../gateway/src/kafka/protocol/list-groups.js';
import { encodeOffsetFetchRequest } from '../../../gateway/src/kafka/protocol/offset-fetch.js';
import { ResponseReader } from '../../../gateway/src/kafka/protocol/reader.js';
import { RequestWriter } from '../../../gateway/src/kafka/protocol/writer.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';

const str = (s: string): string =>
  `${Buffer.byteLength(s).toString(16).padStart(4, '0')} ${Buffer.from(s).toString('hex')}`;

describe('DescribeConfigs', () => {
  const topic = [{ type: 2, name: 't', keys: null }];

  it('encodes a v3 request for every config of a topic to the exact bytes', () => {
    const frame = encodeRequest(
      { apiKey: 32, apiVersion: 3, correlationId: 1, clientId: 'c' },
      (w) => encodeDescribeConfigsRequest(w, 3, topic, true),
    );
    expect(frame).toEqual(
      hex(`
        00000019                      # size: 25 bytes follow
        0020 0003 00000001 0001 63    # header: api key 32, v3, correlation 1, client 'c'
        00000001                      # resources: 1
        02 0001 74                    # resource_type TOPIC, resource_name 't'
        ffffffff                      # configuration_keys null: all of them
        01                            # include_synonyms
        00                            # include_documentation
      `),
    );
  });

  it('writes no include_documentation before v3, and named keys', () => {
    const w = new RequestWriter();
    encodeDescribeConfigsRequest(w, 1, [{ type: 2, name: 't', keys: ['a'] }], false);
    expect(w.toBuffer()).toEqual(hex('00000001 02 0001 74 00000001 0001 61 00'));
  });

  it('decodes a v3 answer: values, sources, sensitive entries and synonyms', () => {
    const body = hex(`
      00000000                                   # throttle_time_ms
      00000001                                   # results: 1
      0000 ffff 02 0001 74                       # no error, topic 't'
      00000002                                   # configs: 2
      ${str('retention.ms')} ${str('1000')} 00 01 00   # value, not read-only, DYNAMIC_TOPIC_CONFIG, not sensitive
        00000002                                 # synonyms: 2
        ${str('retention.ms')} ${str('1000')} 01
        ${str('log.retention.ms')} ffff 05
        05 ffff                                  # config_type LONG, documentation null
      ${str('sasl.x')} ffff 01 04 01              # hidden value, read-only, STATIC_BROKER_CONFIG, sensitive
        00000000
        09 ffff
    `);
    expect(decodeDescribeConfigsResponse(new ResponseReader(body), 3)).toEqual([
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: 't',
        configs: [
          {
            name: 'retention.ms',
            value: '1000',
            readOnly: false,
            source: 1,
            sensitive: false,
            synonyms: [
              { name: 'retention.ms', value: '1000', source: 1 },
              { name: 'log.retention.ms', value: null, source: 5 },
            ],
          },
          { name: 'sasl.x', value: null, readOnly: true, source: 4, sensitive: true, synonyms: [] },
        ],
      },
    ]);
  });

  it('decodes a v1 answer (no type or documentation) and a per-resource error', () => {
    const body = hex(`00000000 00000001 0003 ${str('gone')} 02 0001 74 00000000`);
    expect(decodeDescribeConfigsResponse(new ResponseReader(body), 1)).toEqual([
      { errorCode: 3, errorMessage: 'gone', resourceType: 2, resourceName: 't', configs: [] },
    ]);
  });

  it('negotiates within v1-v3, the non-flexible versions Kafka 4 still serves', () => {
    expect(pickVersion(DESCRIBE_CONFIGS, new Map([[32, { min: 1, max: 4 }]]))).toBe(3);
    expect(() => pickVersion(DESCRIBE_CONFIGS, new Map([[32, { min: 4, max: 4 }]]))).toThrow(
      ProtocolError,
    );
  });
});

describe('ListGroups', () => {
  it('decodes v0 (no throttle time) and v2', () => {
    expect(
      decodeListGroupsResponse(
        new ResponseReader(hex(`0000 00000001 0001 67 ${str('consumer')}`)),
        0,
      ),
    ).toEqual({ errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer' }] });
    expect(
      decodeListGroupsResponse(new ResponseReader(hex('00000000 000e 00000001 0001 68 0000')), 2),
    ).toEqual({ errorCode: 14, groups: [{ groupId: 'h', protocolType: '' }] });
  });

  it('negotiates v0-v2, never a flexible version', () => {
    expect(pickVersion(LIST_GROUPS, new Map([[16, { min: 0, max: 5 }]]))).toBe(2);
  });
});

describe('OffsetFetch for every committed partition', () => {
  it('writes a null topic list from v2 on and refuses it in v1', () => {
    const w = new RequestWriter();
    encodeOffsetFetchRequest(w, 5, 'g', null);
    expect(w.toBuffer()).toEqual(hex('0001 67 ffffffff'));
    expect(() => encodeOffsetFetchRequest(new RequestWriter(), 1, 'g', null)).toThrow(
      ProtocolError,
    );
  });
});

describe('AdminReadClient against scripted brokers', () => {
  const servers: Server[] = [];
  const clients: AdminReadClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await closeServers(servers);
  });

  /**
   * A broker advertising ListGroups v0-v5 and DescribeConfigs v1-v4 (as Kafka 4.1 does);
   * `answer` writes the body of any other request, given its key, version and body reader.
   */
  async function broker(
    answer: (apiKey: number, version: number, body: ResponseReader, w: RequestWriter) => void,
  ): Promise<string> {
    const port = await scriptedBroker(
      servers,
      ({ apiKey, apiVersion, correlationId, body }, socket) => {
        const w = new RequestWriter().int32(0).int32(correlationId);
        if (apiKey === 18) {
          w.int16(0).array(
            [
              [16, 0, 5],
              [32, 1, 4],
            ],
            (x, [key, min, max]) => x.int16(key!).int16(min!).int16(max!),
          );
        } else {
          answer(apiKey, apiVersion, body, w);
        }
        socket.write(w.patchInt32(0, w.length - 4).toBuffer());
      },
    );
    return `127.0.0.1:${port}`;
  }

  function client(bootstrap: string): AdminReadClient {
    const c = new AdminReadClient({
      brokers: [bootstrap],
      clientId: 'test',
      timeoutMs: 2000,
      logger: createLogger('silent'),
    });
    clients.push(c);
    return c;
  }

  it('asks every broker for its groups and merges the answers', async () => {
    const groups =
      (names: string[]) => (key: number, version: number, _r: ResponseReader, w: RequestWriter) => {
        expect([key, version]).toEqual([16, 2]);
        w.int32(0)
          .int16(0)
          .array(names, (x, g) => x.string(g).string('consumer'));
      };
    const a = await broker(groups(['b', 'shared']));
    const b = await broker(groups(['a', 'shared']));
    expect(await client(a).listGroups([a, b])).toEqual([
      { groupId: 'a', protocolType: 'consumer' },
      { groupId: 'b', protocolType: 'consumer' },
      { groupId: 'shared', protocolType: 'consumer' },
    ]);
  });

  it('hides sensitive values, names sources, and maps an unknown topic to KGW_TOPIC_NOT_FOUND', async () => {
    const address = await broker((key, version, r, w) => {
      expect([key, version]).toEqual([32, 3]);
      r.int32();
      r.int8();
      const name = r.string();
      w.int32(0).int32(1);
      if (name !== 'known') {
        w.int16(3).nullableString('unknown').int8(2).string(name).int32(0);
        return;
      }
      w.int16(0).nullableString(null).int8(2).string(name).int32(2);
      w.string('retention.ms').string('1000').boolean(false).int8(1).boolean(false);
      w.array([['retention.ms', 1]] as const, (x, [n, s]) => x.string(n).string('1000').int8(s));
      w.int8(5).nullableString(null);
      // A broker that (wrongly) sent a sensitive value: the client still hides it.
      w.string('a.secret').string('hunter2').boolean(true).int8(4).boolean(true);
      w.array(['a.secret'], (x, n) => x.string(n).string('hunter2').int8(4));
      w.int8(9).nullableString(null);
    });
    const c = client(address);
    expect(await c.topicConfigs('known')).toEqual([
      {
        name: 'a.secret',
        value: null,
        isDefault: false,
        isReadOnly: true,
        isSensitive: true,
        source: 'STATIC_BROKER_CONFIG',
        synonyms: [{ name: 'a.secret', value: null, source: 'STATIC_BROKER_CONFIG' }],
      },
      {
        name: 'retention.ms',
        value: '1000',
        isDefault: false,
        isReadOnly: false,
        isSensitive: false,
        source: 'DYNAMIC_TOPIC_CONFIG',
        synonyms: [{ name: 'retention.ms', value: '1000', source: 'DYNAMIC_TOPIC_CONFIG' }],
      },
    ]);
    await expect(c.topicConfigs('missing')).rejects.toMatchObject({
      code: 'KGW_TOPIC_NOT_FOUND',
      details: { kafkaCode: 3, topic: 'missing' },
    });
  });
});
