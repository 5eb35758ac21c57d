// Lua scripts over one partition's state (KEYS: state, inFlight, retry, delivery).
// Offsets are kept as decimal strings; Kafka offsets stay below 2^53, which Lua
// numbers (doubles) represent exactly.

/** Shared helper: the lowest offset not yet acked = min(next, in-flight, retry). */
const LOWEST_UNACKED = `
local function lowest_unacked()
  local low = tonumber(redis.call('HGET', KEYS[1], 'next'))
  for _, key in ipairs({KEYS[2], KEYS[3]}) do
    for _, o in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      local n = tonumber(o)
      if low == nil or n < low then low = n end
    end
  end
  return low
end
`;

/** ARGV: start offset. Sets next if unset; returns next. */
export const INIT = `
redis.call('HSETNX', KEYS[1], 'next', ARGV[1])
return redis.call('HGET', KEYS[1], 'next')
`;

/**
 * ARGV: now, maxDue, maxAttempts.
 * Moves expired in-flight records to retry (due now), then reports:
 * {next|false, inFlightCount, nextWake|-1, due offsets..., '|', their deliveries..., '|', dead offsets...}
 * A due record already delivered maxAttempts times is "dead" (for the DLQ), not due.
 */
export const STATE = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, o in ipairs(expired) do
  redis.call('ZREM', KEYS[2], o)
  redis.call('HDEL', KEYS[4], 'h:' .. o)
  redis.call('ZADD', KEYS[3], now, o)
  if redis.call('HEXISTS', KEYS[4], 'e:' .. o) == 0 then
    redis.call('HSET', KEYS[4], 'e:' .. o, 'ack timeout')
  end
end
local due, deliveries, dead = {}, {}, {}
for _, o in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local a = tonumber(redis.call('HGET', KEYS[4], 'a:' .. o) or '0')
  if a >= tonumber(ARGV[3]) then
    table.insert(dead, o)
  else
    table.insert(due, o)
    table.insert(deliveries, tostring(a))
  end
end
local wake = -1
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] then wake = tonumber(first[2]) end
local later = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if later[2] and (wake < 0 or tonumber(later[2]) < wake) then wake = tonumber(later[2]) end
local out = {redis.call('HGET', KEYS[1], 'next') or false, redis.call('ZCARD', KEYS[2]), tostring(wake)}
for _, o in ipairs(due) do table.insert(out, o) end
table.insert(out, '|')
for _, a in ipairs(deliveries) do table.insert(out, a) end
table.insert(out, '|')
for _, o in ipairs(dead) do table.insert(out, o) end
return out
`;

/**
 * ARGV: now, deadline, holder, leaseOwner ('' = no lease check), leaseEpoch,
 * autoCommit ('1'|'0'), newStart, newNext, retryCount, retry offsets..., new offsets...
 * Claims due retries and, only if next still equals newStart (nobody else
 * took them meanwhile), the fetched new offsets, moving next to newNext
 * (offsets between them that a compacted log lacks count as acked).
 * Returns {'fenced'} when the lease is not held, else {next, offset1, delivery1, ...}.
 */
export const CLAIM = `
local now = tonumber(ARGV[1])
if ARGV[4] ~= '' then
  local s = redis.call('HMGET', KEYS[1], 'lease', 'epoch', 'leaseExp')
  if s[1] ~= ARGV[4] or s[2] ~= ARGV[5] or tonumber(s[3] or '0') < now then return {'fenced'} end
end
local auto = ARGV[6] == '1'
local out = {}
local function deliver(o)
  local a = tonumber(redis.call('HGET', KEYS[4], 'a:' .. o) or '0') + 1
  if auto then
    redis.call('HDEL', KEYS[4], 'a:' .. o, 'h:' .. o, 'e:' .. o)
  else
    redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), o)
    redis.call('HSET', KEYS[4], 'a:' .. o, a, 'h:' .. o, ARGV[3])
  end
  table.insert(out, o)
  table.insert(out, tostring(a))
end
local retries = tonumber(ARGV[9])
for i = 10, 9 + retries do
  local o = ARGV[i]
  local due = redis.call('ZSCORE', KEYS[3], o)
  if due and tonumber(due) <= now then
    redis.call('ZREM', KEYS[3], o)
    deliver(o)
  end
end
local cur = redis.call('HGET', KEYS[1], 'next')
if #ARGV > 9 + retries and cur == ARGV[7] then
  for i = 10 + retries, #ARGV do deliver(ARGV[i]) end
  redis.call('HSET', KEYS[1], 'next', ARGV[8])
  cur = ARGV[8]
end
table.insert(out, 1, cur or '-1')
return out
`;

/**
 * ARGV: holder, upTo ('' = only the listed offsets), then pairs offset, deliveries ('0' = any).
 * Acks records this holder has in flight. Returns {acked, fenced, lowestUnacked}.
 */
export const ACK = `${LOWEST_UNACKED}
local holder = ARGV[1]
local acked, fenced = 0, 0
local deadlines = {}
local function ack(o, want)
  local d = redis.call('HMGET', KEYS[4], 'h:' .. o, 'a:' .. o)
  local deadline = redis.call('ZSCORE', KEYS[2], o)
  if deadline and d[1] == holder and (want == '0' or d[2] == want) then
    table.insert(deadlines, deadline)
    redis.call('ZREM', KEYS[2], o)
    redis.call('HDEL', KEYS[4], 'a:' .. o, 'h:' .. o, 'e:' .. o)
    acked = acked + 1
  else
    fenced = fenced + 1
  end
end
if ARGV[2] ~= '' then
  local upto = tonumber(ARGV[2])
  for _, o in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if tonumber(o) <= upto and redis.call('HGET', KEYS[4], 'h:' .. o) == holder then ack(o, '0') end
  end
end
for i = 3, #ARGV, 2 do ack(ARGV[i], ARGV[i + 1]) end
local out = {acked, fenced, string.format('%d', lowest_unacked() or -1)}
for _, d in ipairs(deadlines) do table.insert(out, d) end
return out
`;

/**
 * ARGV: holder, dueAt, error, then pairs offset, deliveries ('0' = any).
 * Makes records this holder has in flight deliverable again at dueAt. Returns {nacked, fenced}.
 */
export const NACK = `
local nacked, fenced = 0, 0
for i = 4, #ARGV, 2 do
  local o, want = ARGV[i], ARGV[i + 1]
  local d = redis.call('HMGET', KEYS[4], 'h:' .. o, 'a:' .. o)
  if redis.call('ZSCORE', KEYS[2], o) and d[1] == ARGV[1] and (want == '0' or d[2] == want) then
    redis.call('ZREM', KEYS[2], o)
    redis.call('HDEL', KEYS[4], 'h:' .. o)
    redis.call('HSET', KEYS[4], 'e:' .. o, ARGV[3])
    redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), o)
    nacked = nacked + 1
  else
    fenced = fenced + 1
  end
end
return {nacked, fenced}
`;

/** ARGV: offsets written to the dead-letter topic. They count as acked. Returns lowestUnacked. */
export const BURY = `${LOWEST_UNACKED}
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[4], 'a:' .. ARGV[i], 'h:' .. ARGV[i], 'e:' .. ARGV[i])
end
return string.format('%d', lowest_unacked() or -1)
`;

/** ARGV: offsets. Returns {deliveries, lastError} pairs for dead-letter headers. */
export const DELIVERY_INFO = `
local out = {}
for i = 1, #ARGV do
  local d = redis.call('HMGET', KEYS[4], 'a:' .. ARGV[i], 'e:' .. ARGV[i])
  table.insert(out, d[1] or '0')
  table.insert(out, d[2] or '')
end
return out
`;

/** Returns {lowestUnacked|-1, lastCommittedToKafka|-1, inFlightCount}. */
export const COMMIT_POINT = `${LOWEST_UNACKED}
return {string.format('%d', lowest_unacked() or -1), redis.call('HGET', KEYS[1], 'kc') or '-1', redis.call('ZCARD', KEYS[2])}
`;

/** ARGV: offset committed to Kafka. Records it if higher than the last one. */
export const MARK_COMMITTED = `
local kc = tonumber(redis.call('HGET', KEYS[1], 'kc') or '-1')
if tonumber(ARGV[1]) > kc then redis.call('HSET', KEYS[1], 'kc', ARGV[1]) end
return 1
`;

/**
 * ARGV: offset. Seek: next = offset; everything in flight or waiting for retry
 * is dropped (the new position decides what is delivered next).
 */
export const SEEK = `
redis.call('HSET', KEYS[1], 'next', ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return 1
`;

/**
 * ARGV: holder. A session is leaving: its in-flight records become due now.
 * Returns the count.
 */
export const RELEASE_HOLDER = `
local now = tonumber(ARGV[2])
local n = 0
for _, o in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('HGET', KEYS[4], 'h:' .. o) == ARGV[1] then
    redis.call('ZREM', KEYS[2], o)
    redis.call('HDEL', KEYS[4], 'h:' .. o)
    redis.call('ZADD', KEYS[3], now, o)
    n = n + 1
  end
end
if redis.call('HGET', KEYS[1], 'lease') == ARGV[1] then redis.call('HSET', KEYS[1], 'leaseExp', '0') end
return n
`;
