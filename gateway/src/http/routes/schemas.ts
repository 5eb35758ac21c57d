/** JSON schemas shared by routes; they validate requests and feed the OpenAPI document. */

/** Kafka's legal topic names. */
export const topicName = { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,249}$' } as const;

export const deliveryQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    delivery: {
      type: 'string',
      enum: ['idempotent', 'fast'],
      default: 'idempotent',
      description:
        'idempotent: enable.idempotence + acks=all; fast: acks=all without idempotence, may duplicate on retry.',
    },
  },
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,255}$',
      description: 'Replays the stored response for a repeated request instead of writing again.',
    },
  },
} as const;

const errorBody = {
  type: 'object',
  properties: {
    error_code: { type: 'integer' },
    message: { type: 'string' },
    code: { type: 'string', description: 'Stable KGW_* code (docs/ERRORS.md).' },
  },
} as const;

/** The error statuses every produce route may answer with. */
export const errorResponses = {
  '4xx': errorBody,
  '5xx': errorBody,
} as const;
