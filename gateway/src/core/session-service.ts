import type { Access } from '../auth/access.js';
import { currentPrincipal } from '../auth/request-context.js';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { ALL_TOPICS, type KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';
import type { PartitionLedger, TopicPartition } from '../store/partition-ledger.js';
import type { SessionConfig, SessionStore, Subscription } from '../store/session-store.js';
import { TopicPattern } from './topic-pattern.js';

/** Names of groups, instances and topics: Kafka's legal characters, safe inside Redis hash tags. */
export const NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export type SessionOptions = Omit<SessionConfig, 'group' | 'id' | 'createdAt'> & {
  readonly name?: string;
};

/** Most topics one subscription names. */
export const MAX_SUBSCRIPTION_TOPICS = 1000;
/** Most partitions one manual assignment holds (each poll walks them all). */
export const MAX_ASSIGNMENT_PARTITIONS = 1000;

export interface SessionServiceDeps {
  /** When set: groups need consume, topics consume, dead-letter topics (explicit or `<topic>.dlq`) produce. */
  readonly access?: Access;
  readonly limits: {
    readonly maxSessionsPerGroup: number;
    readonly maxGroups: number;
    /** Per authenticated principal, across instances (0: no cap). */
    readonly maxSessionsPerPrincipal?: number;
  };
  readonly sessions: SessionStore;
  readonly partitions: PartitionLedger;
  readonly metadata: TopicMetadataCache;
  readonly metadataClient: KafkaMetadataClient;
  readonly kafkaTimeoutMs: number;
}

/** Creating, finding, subscribing and deleting consumer sessions. */
export class SessionService {
  readonly #deps: SessionServiceDeps;
  #patternTopics: { names: string[]; at: number; matches: Map<string, string[]> } | undefined;

  constructor(deps: SessionServiceDeps) {
    this.#deps = deps;
  }

  async create(group: string, options: SessionOptions): Promise<SessionConfig> {
    const id = options.name ?? `rest-consumer-${randomUUID()}`;
    if (!NAME.test(group)) throw invalid(`group name '${group}' must match ${NAME.source}`);
    if (!NAME.test(id)) throw invalid(`consumer name '${id}' must match ${NAME.source}`);
    const { name: _ignored, ...settings } = options;
    const { access } = this.#deps;
    access?.require('consume', 'group', group);
    if (settings.deadLetterTopic) {
      access?.require('produce', 'topic', settings.deadLetterTopic);
      // The gateway never creates topics: a named dead-letter topic must exist now.
      if ((await this.#deps.metadata.topic(settings.deadLetterTopic)) === null)
        throw new GatewayError(
          'KGW_DEAD_LETTER_TOPIC_NOT_FOUND',
          `dead-letter topic '${settings.deadLetterTopic}' does not exist; create it first (the gateway never creates topics)`,
        );
    }
    const config: SessionConfig = {
      ...settings,
      group,
      id,
      createdAt: Date.now(),
      owner: currentPrincipal().name,
    };
    const { maxSessionsPerGroup, maxGroups, maxSessionsPerPrincipal = 0 } = this.#deps.limits;
    // Only an authenticated principal is capped: with authentication off everyone is 'anonymous'.
    const capped = currentPrincipal().via !== 'anonymous' && maxSessionsPerPrincipal > 0;
    const outcome = await this.#deps.sessions.create(config, {
      maxPerGroup: maxSessionsPerGroup,
      maxGroups,
      ...(capped ? { maxPerPrincipal: maxSessionsPerPrincipal } : {}),
    });
    switch (outcome) {
      case 'exists':
        throw new GatewayError(
          'KGW_CONSUMER_EXISTS',
          `consumer instance '${id}' already exists in group '${group}'`,
        );
      case 'group_full':
        throw new GatewayError(
          'KGW_TOO_MANY_SESSIONS',
          `group '${group}' already has ${maxSessionsPerGroup} consumer instances (KGW_MAX_SESSIONS_PER_GROUP); delete unused ones or wait for idle ones to expire`,
          { details: { retryAfterSeconds: 5 } },
        );
      case 'principal_full':
        throw new GatewayError(
          'KGW_TOO_MANY_SESSIONS',
          `'${config.owner}' already has ${maxSessionsPerPrincipal} consumer instances (KGW_MAX_SESSIONS_PER_PRINCIPAL); delete unused ones or wait for idle ones to expire`,
          { details: { retryAfterSeconds: 5 } },
        );
      case 'too_many_groups':
        throw new GatewayError(
          'KGW_TOO_MANY_SESSIONS',
          `the gateway already serves ${maxGroups} consumer groups (KGW_MAX_GROUPS)`,
          { details: { retryAfterSeconds: 5 } },
        );
      case 'created':
        return config;
    }
  }

  /** The session, or KGW_CONSUMER_NOT_FOUND. */
  async get(group: string, id: string): Promise<SessionConfig> {
    const session = await this.#deps.sessions.get(group, id);
    // Another principal's instance is not found: no way to use, or learn of, it.
    if (!session || !ownedByCaller(session)) {
      throw new GatewayError(
        'KGW_CONSUMER_NOT_FOUND',
        `consumer instance '${id}' not found in group '${group}'`,
      );
    }
    return session;
  }

  /** Deletes the session; its in-flight records become deliverable to the others at once. */
  async delete(group: string, id: string): Promise<void> {
    const session = await this.get(group, id);
    const tps = await this.#deps.partitions.partitions(group);
    await this.#deps.partitions.releaseHolder(group, tps, id, session.maxAttempts);
    await this.#deps.sessions.delete(group, id, session.owner);
    await this.#deps.partitions.wakeMember(group, id);
  }

  async subscribe(group: string, id: string, subscription: Subscription): Promise<void> {
    const session = await this.get(group, id);
    if (subscription.kind === 'topics' && subscription.topics.length > MAX_SUBSCRIPTION_TOPICS)
      throw invalid(`a subscription names at most ${MAX_SUBSCRIPTION_TOPICS} topics`);
    if (
      subscription.kind === 'assigned' &&
      subscription.partitions.length > MAX_ASSIGNMENT_PARTITIONS
    )
      throw invalid(`an assignment holds at most ${MAX_ASSIGNMENT_PARTITIONS} partitions`);
    const { access } = this.#deps;
    const named =
      subscription.kind === 'topics'
        ? subscription.topics
        : subscription.kind === 'assigned'
          ? [...new Set(subscription.partitions.map((p) => p.topic))]
          : [];
    for (const t of named) {
      access?.require('consume', 'topic', t);
      // Dead-lettering writes as the consumer's creator: the default `<topic>.dlq` is
      // checked like an explicit dead-letter topic (that one was checked at creation).
      if (session.deadLetterTopic === null) access?.require('produce', 'topic', `${t}.dlq`);
    }
    const current = await this.#deps.sessions.subscription(group, id);
    // Confluent: subscribe and assign are exclusive until the current one is deleted.
    if (current !== null && (current.kind === 'assigned') !== (subscription.kind === 'assigned')) {
      throw new GatewayError(
        'KGW_CONSUMER_STATE',
        'subscription and manual assignment are mutually exclusive; delete the current one first',
      );
    }
    if (subscription.kind === 'topics') {
      for (const t of subscription.topics)
        if (!NAME.test(t)) throw invalid(`topic name '${t}' is not valid`);
    }
    // Compiled by a linear-time matcher: a hostile pattern cannot stall the process (ReDoS).
    if (subscription.kind === 'pattern') TopicPattern.compile(subscription.pattern);
    if (subscription.kind === 'assigned') await this.requireExisting(subscription.partitions);
    await this.#deps.sessions.setSubscription(group, id, subscription);
    await this.#deps.partitions.wakeMember(group, id);
  }

  /**
   * Refuses partitions Kafka does not have (404 naming the first one), so an
   * assignment or a seek never points at nothing and every later poll fails.
   */
  async requireExisting(tps: readonly TopicPartition[]): Promise<void> {
    for (const tp of tps) {
      const info = await this.#deps.metadata.topic(tp.topic);
      if (!info) throw new GatewayError('KGW_TOPIC_NOT_FOUND', `topic '${tp.topic}' not found`);
      if (!info.partitions.some((p) => p.id === tp.partition)) {
        throw new GatewayError(
          'KGW_PARTITION_NOT_FOUND',
          `partition ${tp.partition} not found in topic '${tp.topic}' (it has ${info.partitions.length})`,
        );
      }
    }
  }

  /**
   * Refuses (409, Confluent's "Illegal state") partitions the session neither
   * subscribes to nor is assigned: the gateway's sessions share every
   * partition of their subscribed topics, so those all count as assigned.
   */
  async requireAssigned(session: SessionConfig, tps: readonly TopicPartition[]): Promise<void> {
    const subscription = await this.#deps.sessions.subscription(session.group, session.id);
    const { partitions } = await this.resolve(subscription, session);
    const held = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    const missing = tps.find((tp) => !held.has(`${tp.topic}\u0000${tp.partition}`));
    if (missing)
      throw new GatewayError(
        'KGW_CONSUMER_STATE',
        `no current assignment for partition ${missing.topic}-${missing.partition}: subscribe to its topic or assign it first`,
      );
  }

  async subscription(group: string, id: string): Promise<Subscription | null> {
    await this.get(group, id);
    return this.#deps.sessions.subscription(group, id);
  }

  async unsubscribe(group: string, id: string): Promise<void> {
    const session = await this.get(group, id);
    await this.#deps.sessions.setSubscription(group, id, null);
    const tps = await this.#deps.partitions.partitions(group);
    await this.#deps.partitions.releaseHolder(group, tps, id, session.maxAttempts);
    await this.#deps.partitions.wakeMember(group, id);
  }

  /**
   * The partitions a subscription reads now (topic metadata from the cache).
   * A pattern reads only the topics the caller may consume and, for a session
   * without an explicit dead-letter topic, whose `<topic>.dlq` it may produce to.
   */
  async resolve(
    subscription: Subscription | null,
    session?: Pick<SessionConfig, 'deadLetterTopic'>,
  ): Promise<{ manual: boolean; partitions: TopicPartition[] }> {
    if (!subscription) {
      throw new GatewayError(
        'KGW_CONSUMER_STATE',
        'the consumer has neither a subscription nor an assignment',
      );
    }
    if (subscription.kind === 'assigned')
      return { manual: true, partitions: [...subscription.partitions] };
    const { access } = this.#deps;
    const topics =
      subscription.kind === 'topics'
        ? subscription.topics
        : access
          ? access
              .filter('consume', 'topic', await this.#matching(subscription.pattern))
              .filter(
                (t) =>
                  (session?.deadLetterTopic ?? null) !== null ||
                  access.allowed('produce', 'topic', `${t}.dlq`),
              )
          : await this.#matching(subscription.pattern);
    const partitions: TopicPartition[] = [];
    for (const topic of topics) {
      const info = await this.#deps.metadata.topic(topic);
      for (const p of info?.partitions ?? []) partitions.push({ topic, partition: p.id });
    }
    return { manual: false, partitions };
  }

  /** The topics a subscription reads now: its own list, or what its pattern matches (filtered as resolve does). */
  async subscribedTopics(group: string, id: string, subscription: Subscription): Promise<string[]> {
    if (subscription.kind === 'topics') return [...subscription.topics];
    if (subscription.kind === 'assigned')
      return [...new Set(subscription.partitions.map((p) => p.topic))];
    const session = await this.get(group, id);
    const { partitions } = await this.resolve(subscription, session);
    return [...new Set(partitions.map((p) => p.topic))].sort();
  }

  async #matching(source: string): Promise<string[]> {
    if (!this.#patternTopics || Date.now() - this.#patternTopics.at > 10_000) {
      const metadata = await this.#deps.metadataClient.fetch(this.#deps.kafkaTimeoutMs, ALL_TOPICS);
      this.#patternTopics = {
        names: metadata.topics.map((t) => t.name),
        at: Date.now(),
        matches: new Map(),
      };
    }
    // Matched once per pattern per metadata refresh, not on every poll.
    const known = this.#patternTopics.matches.get(source);
    if (known) return known;
    const pattern = TopicPattern.compile(source);
    const names = this.#patternTopics.names.filter(
      (name) => !name.startsWith('__') && pattern.matches(name),
    );
    if (this.#patternTopics.matches.size >= 1000) this.#patternTopics.matches.clear();
    this.#patternTopics.matches.set(source, names);
    return names;
  }
}

function invalid(message: string): GatewayError {
  return new GatewayError('KGW_INVALID_REQUEST', message);
}

/** Whether the running request's principal created the session (sessions from before ownership: anyone's). */
export function ownedByCaller(session: SessionConfig): boolean {
  const principal = currentPrincipal();
  // No identity (authentication off, or the worker): ownership is not enforced.
  if (principal.via === 'anonymous') return true;
  return session.owner === undefined || session.owner === principal.name;
}
