// Lua scripts of the partition ledger. Single-partition scripts get the five
// keys of one partition (KEYS[1..5] = state, inFlight, retry, dead, delivery);
// multi-partition scripts get them in groups of five after their own keys.
// Offsets are decimal strings; Kafka offsets stay below 2^53, which Lua
// numbers (doubles) represent exactly. Every script keeps the invariants
// written at the top of partition-ledger.ts.

/** Helpers over the five keys of one partition, passed as a table k. */
const PRELUDE = `
local function fmt(n) return string.format('%d', n) end
local function unresolved(k)
  return redis.call('ZCARD', k[2]) + redis.call('ZCARD', k[3]) + redis.call('ZCARD', k[4])
end
-- The lowest offset not yet resolved: min(next, every offset in flight, retrying or dead).
local function lowest(k)
  local low = tonumber(redis.call('HGET', k[1], 'next'))
  for i = 2, 4 do
    for _, o in ipairs(redis.call('ZRANGE', k[i], 0, -1)) do
      local n = tonumber(o)
      if low == nil or n < low then low = n end
    end
  end
  return low
end
-- Whether this holder has this delivery (want '0' accepts any attempt): its
-- ack deadline if so (a string, so truthy), else false.
local function holds(k, o, holder, want)
  local deadline = redis.call('ZSCORE', k[2], o)
  if not deadline then return false end
  local d = redis.call('HMGET', k[5], 'h:' .. o, 'a:' .. o)
  return d[1] == holder and (want == '0' or d[2] == want) and deadline
end
local function forget(k, o)
  redis.call('HDEL', k[5], 'a:' .. o, 'h:' .. o, 'e:' .. o, 'b:' .. o)
end
-- A record that comes back: retry at dueAt, or dead when it used all its attempts.
local function comeback(k, o, dueAt, maxAttempts)
  local a = tonumber(redis.call('HGET', k[5], 'a:' .. o) or '0')
  redis.call('HDEL', k[5], 'h:' .. o)
  if a >= maxAttempts then
    redis.call('ZADD', k[4], 0, o)
    return 1
  end
  redis.call('ZADD', k[3], dueAt, o)
  return 0
end
local K = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]}
`;

/**
 * KEYS: the partition's five, then the group's partition set.
 * ARGV: next, committed offset, committed metadata, now, member ('topic:partition'),
 * then offsets to deliver again (unresolved when the state was lost).
 * Sets the state unless another instance did first; returns next.
 */
export const INIT = `${PRELUDE}
redis.call('SADD', KEYS[6], ARGV[5])
if redis.call('HEXISTS', K[1], 'next') == 1 then return redis.call('HGET', K[1], 'next') end
redis.call('HSET', K[1], 'next', ARGV[1], 'kc', ARGV[2], 'km', ARGV[3])
for i = 6, #ARGV do redis.call('ZADD', K[3], tonumber(ARGV[4]), ARGV[i]) end
return ARGV[1]
`;

/**
 * state(K, now, maxDue, maxAttempts) of one partition's five keys.
 * Expired deliveries come back (retry now, or dead past maxAttempts); then reports
 * {next|false, unresolved, nextWake|-1, dead, due offsets..., '|', their attempts...}.
 */
const STATE_FN = `
local function state(K, now, maxDue, maxAttempts)
  -- Cheap reads first: the earliest deadline and retry say whether anything is due at all.
  local first = redis.call('ZRANGE', K[2], 0, 0, 'WITHSCORES')
  if first[2] and tonumber(first[2]) <= now then
    for _, o in ipairs(redis.call('ZRANGEBYSCORE', K[2], '-inf', now)) do
      redis.call('ZREM', K[2], o)
      if redis.call('HEXISTS', K[5], 'e:' .. o) == 0 then redis.call('HSET', K[5], 'e:' .. o, 'ack timeout') end
      comeback(K, o, now, maxAttempts)
    end
    first = redis.call('ZRANGE', K[2], 0, 0, 'WITHSCORES')
  end
  local wake = -1
  if first[2] then wake = tonumber(first[2]) end
  -- Every due retry is looked at (the window bounds them), so one that used all its
  -- attempts (a lease takeover keeps attempts) turns dead whatever maxDue is.
  local due, attempts = {}, {}
  local later = redis.call('ZRANGE', K[3], 0, 0, 'WITHSCORES')
  if later[2] and tonumber(later[2]) <= now then
    for _, o in ipairs(redis.call('ZRANGEBYSCORE', K[3], '-inf', now)) do
      local a = tonumber(redis.call('HGET', K[5], 'a:' .. o) or '0')
      if a >= maxAttempts then
        redis.call('ZREM', K[3], o)
        redis.call('ZADD', K[4], 0, o)
      elseif #due < maxDue then
        table.insert(due, o)
        table.insert(attempts, fmt(a))
      end
    end
    later = redis.call('ZRANGEBYSCORE', K[3], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  end
  if later[2] and (wake < 0 or tonumber(later[2]) < wake) then wake = tonumber(later[2]) end
  local inFlight, retrying, deadCount = redis.call('ZCARD', K[2]), redis.call('ZCARD', K[3]), redis.call('ZCARD', K[4])
  local dead = 0
  if deadCount > 0 then dead = redis.call('ZCOUNT', K[4], '-inf', now) end
  local out = {redis.call('HGET', K[1], 'next') or false, inFlight + retrying + deadCount, fmt(wake), dead}
  for _, o in ipairs(due) do table.insert(out, o) end
  table.insert(out, '|')
  for _, a in ipairs(attempts) do table.insert(out, a) end
  return out, #due
end
`;

/**
 * KEYS: five per partition, partition after partition.
 * ARGV: now, maxDue, maxAttempts, want, window, then each partition's high
 * watermark as the gateway last saw it ('' = not known).
 * One reply per partition, in KEYS order (see STATE_FN). want = 0 reads every
 * partition; want > 0 stops once the partitions read offer that many records
 * (due retries, plus offsets below the high watermark, within the window's
 * room; window 0 = no window): the partitions after that get an empty reply, so
 * a one-record poll reads one or two partitions, not all of them.
 */
export const STATES = `${PRELUDE}${STATE_FN}local replies, offered = {}, 0
local want, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local p = 0
for i = 1, #KEYS, 5 do
  p = p + 1
  if want > 0 and offered >= want then
    table.insert(replies, {})
  else
    local out, dueCount = state({KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4]},
      tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
    table.insert(replies, out)
    if want > 0 then
      local fresh = want
      local high = ARGV[5 + p]
      if out[1] ~= false and high ~= nil and high ~= '' then
        fresh = math.max(0, tonumber(high) - tonumber(out[1]))
      end
      local room = dueCount + fresh
      if window > 0 then room = math.min(room, math.max(0, window - out[2])) end
      offered = offered + room
    end
  end
end
return replies
`;

/**
 * KEYS: the group's sessions hash and in-use key, then five per partition.
 * ARGV: holder, now, deadline, window, maxSpan, want, maxAttempts, then each
 * partition's fetched end (offsets below it were returned by a fetch of this
 * instance or are gaps of the log; '' = none).
 * A poll's read and claim in one call, for a session that polled here before
 * (shared mode, assignments; never auto-commit): only while the holder's
 * session exists and the group is not in native use ({'invalid'} otherwise,
 * nothing claimed). Partition after partition, in KEYS order, until `want`
 * records are taken: the state as STATES reads it, then due retries, then new
 * offsets from next below the fetched end, within the window and the span (as
 * CLAIM). Returns one reply per partition: {} when not read, else {state,
 * {offset, attempt, ...} taken, next after}.
 */
export const TAKE = `${PRELUDE}${STATE_FN}
local holder, now, deadline = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('HEXISTS', KEYS[1], holder) == 0 or redis.call('EXISTS', KEYS[2]) == 1 then
  return {'invalid'}
end
local window, span, want, maxAttempts = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local replies, taken, p = {}, 0, 0
for i = 3, #KEYS, 5 do
  p = p + 1
  if taken >= want then
    table.insert(replies, {})
  else
    local k = {KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4]}
    local out, dueCount = state(k, now, want - taken, maxAttempts)
    local got = {}
    local function deliver(o)
      local a = tonumber(redis.call('HGET', k[5], 'a:' .. o) or '0') + 1
      redis.call('ZADD', k[2], deadline, o)
      redis.call('HSET', k[5], 'a:' .. o, a, 'h:' .. o, holder)
      table.insert(got, o)
      table.insert(got, fmt(a))
      taken = taken + 1
    end
    for d = 1, dueCount do
      if taken >= want then break end
      redis.call('ZREM', k[3], out[4 + d])
      deliver(out[4 + d])
    end
    local cur = out[1]
    local fetched = ARGV[7 + p]
    if cur ~= false and fetched ~= nil and fetched ~= '' and taken < want then
      local room, low = window - unresolved(k), lowest(k)
      local last = nil
      for o = tonumber(cur), tonumber(fetched) - 1 do
        if taken >= want or room <= 0 or o - low >= span then break end
        deliver(fmt(o))
        room = room - 1
        last = o
      end
      if last then
        cur = fmt(last + 1)
        redis.call('HSET', k[1], 'next', cur)
      end
    end
    table.insert(replies, {out, got, cur or '-1'})
  end
end
return replies
`;

/**
 * ARGV: now, deadline, holder, leaseOwner ('' = no lease check), leaseEpoch,
 * autoCommit ('1'|'0'), newStart, window, maxSpan, retryCount, retry offsets..., new offsets...
 * Claims due retries, and new offsets only if next still equals newStart (nobody
 * took them meanwhile), only while the window has room (I2) and only within
 * maxSpan of the lowest unresolved offset (so the commit metadata can carry
 * every ack above it). next moves past the last new offset taken; offsets a
 * compacted log lacks between them count as resolved.
 * Returns {'fenced'} when the lease is not held, else {next, offset1, attempt1, ...}.
 */
export const CLAIM = `${PRELUDE}
local now = tonumber(ARGV[1])
if ARGV[4] ~= '' then
  local s = redis.call('HMGET', K[1], 'lease', 'epoch', 'leaseExp')
  if s[1] ~= ARGV[4] or s[2] ~= ARGV[5] or tonumber(s[3] or '0') < now then return {'fenced'} end
end
local auto = ARGV[6] == '1'
local out = {}
local function deliver(o)
  local a = tonumber(redis.call('HGET', K[5], 'a:' .. o) or '0') + 1
  if auto then
    forget(K, o)
  else
    redis.call('ZADD', K[2], tonumber(ARGV[2]), o)
    redis.call('HSET', K[5], 'a:' .. o, a, 'h:' .. o, ARGV[3])
  end
  table.insert(out, o)
  table.insert(out, fmt(a))
end
local retries = tonumber(ARGV[10])
for i = 11, 10 + retries do
  local o = ARGV[i]
  local due = redis.call('ZSCORE', K[3], o)
  if due and tonumber(due) <= now then
    redis.call('ZREM', K[3], o)
    deliver(o)
  end
end
local cur = redis.call('HGET', K[1], 'next')
if #ARGV > 10 + retries and cur == ARGV[7] then
  local room, low = tonumber(ARGV[8]) - unresolved(K), lowest(K)
  local span = tonumber(ARGV[9])
  local last = nil
  for i = 11 + retries, #ARGV do
    local o = tonumber(ARGV[i])
    if not auto and (room <= 0 or o - low >= span) then break end
    deliver(ARGV[i])
    room = room - 1
    last = o
  end
  if last then
    cur = fmt(last + 1)
    redis.call('HSET', K[1], 'next', cur)
  end
end
table.insert(out, 1, cur or '-1')
return out
`;

/**
 * KEYS: the partition's five, then the group's sessions hash and partition set.
 * ARGV: holder, window, upTo ('' = only the listed offsets), commitTo ('1' or
 * ''), maxSpan, member ('topic:partition'), then pairs offset, attempt ('0' = any).
 * Resolves records this holder has in flight (the current delivery only: I1).
 * With commitTo (a Confluent commit naming upTo as the last record processed,
 * and only while the holder's session exists) it also resolves what nobody
 * holds up to upTo: waiting retries, and offsets never handed out (next moves
 * to upTo + 1, within maxSpan of the lowest record still unresolved, I5; a
 * partition without state starts there). Records other holders have in flight
 * and dead records stay. Returns {acked, fenced, freed (1 when the window was
 * full before), skipped, deadlines...}.
 */
export const ACK = `${PRELUDE}
local holder = ARGV[1]
local full = unresolved(K) >= tonumber(ARGV[2])
local acked, fenced, skipped = 0, 0, 0
local deadlines = {}
local function ack(o, want)
  local deadline = holds(K, o, holder, want)
  if deadline then
    table.insert(deadlines, deadline)
    redis.call('ZREM', K[2], o)
    forget(K, o)
    acked = acked + 1
  else
    fenced = fenced + 1
  end
end
if ARGV[3] ~= '' then
  local upto = tonumber(ARGV[3])
  for _, o in ipairs(redis.call('ZRANGE', K[2], 0, -1)) do
    if tonumber(o) <= upto and redis.call('HGET', K[5], 'h:' .. o) == holder then ack(o, '0') end
  end
end
for i = 7, #ARGV, 2 do ack(ARGV[i], ARGV[i + 1]) end
if ARGV[4] == '1' and redis.call('HEXISTS', KEYS[6], holder) == 1 then
  local upto = tonumber(ARGV[3])
  for _, o in ipairs(redis.call('ZRANGE', K[3], 0, -1)) do
    if tonumber(o) <= upto then
      redis.call('ZREM', K[3], o)
      forget(K, o)
      skipped = skipped + 1
    end
  end
  local cur = redis.call('HGET', K[1], 'next')
  if not cur then
    redis.call('HSET', K[1], 'next', fmt(upto + 1), 'kc', '-1', 'km', '')
    redis.call('SADD', KEYS[7], ARGV[6])
  elseif tonumber(cur) <= upto then
    local to = upto + 1
    local low = lowest(K)
    if low < tonumber(cur) then to = math.min(to, low + tonumber(ARGV[5])) end
    if to > tonumber(cur) then
      skipped = skipped + to - tonumber(cur)
      redis.call('HSET', K[1], 'next', fmt(to))
    end
  end
end
local out = {acked, fenced, (full and unresolved(K) < tonumber(ARGV[2])) and 1 or 0, skipped}
for _, d in ipairs(deadlines) do table.insert(out, d) end
return out
`;

/**
 * ARGV: holder, dueAt, error, maxAttempts, then pairs offset, attempt ('0' = any).
 * Records this holder has in flight come back at dueAt (dead past maxAttempts).
 * Returns {nacked, fenced, dead}.
 */
export const NACK = `${PRELUDE}
local nacked, fenced, dead = 0, 0, 0
for i = 5, #ARGV, 2 do
  local o = ARGV[i]
  if holds(K, o, ARGV[1], ARGV[i + 1]) then
    redis.call('ZREM', K[2], o)
    redis.call('HSET', K[5], 'e:' .. o, ARGV[3])
    dead = dead + comeback(K, o, tonumber(ARGV[2]), tonumber(ARGV[4]))
    nacked = nacked + 1
  else
    fenced = fenced + 1
  end
end
return {nacked, fenced, dead}
`;

/**
 * ARGV: holder, new deadline, then pairs offset, attempt ('0' = any).
 * Moves the ack deadline of records this holder has in flight. Returns {extended, fenced}.
 */
export const EXTEND = `${PRELUDE}
local extended, fenced = 0, 0
for i = 3, #ARGV, 2 do
  if holds(K, ARGV[i], ARGV[1], ARGV[i + 1]) then
    redis.call('ZADD', K[2], 'XX', tonumber(ARGV[2]), ARGV[i])
    extended = extended + 1
  else
    fenced = fenced + 1
  end
end
return {extended, fenced}
`;

/**
 * ARGV: holder, now, then pairs offset, attempt.
 * The client left before it got these records: they come back due now and the
 * attempt they were given is taken back (nothing was spent). Returns the count.
 */
export const UNCLAIM = `${PRELUDE}
local n = 0
for i = 3, #ARGV, 2 do
  local o = ARGV[i]
  if holds(K, o, ARGV[1], ARGV[i + 1]) then
    redis.call('ZREM', K[2], o)
    local a = tonumber(ARGV[i + 1]) - 1
    if a > 0 then redis.call('HSET', K[5], 'a:' .. o, a) else redis.call('HDEL', K[5], 'a:' .. o) end
    redis.call('HDEL', K[5], 'h:' .. o)
    redis.call('ZADD', K[3], tonumber(ARGV[2]), o)
    n = n + 1
  end
end
return n
`;

/**
 * ARGV: now, token, claimUntil, max.
 * Takes up to max dead records nobody is writing to the dead-letter topic (or
 * whose writer's claim ran out), for this token until claimUntil.
 * Returns {offset, attempts, lastError, ...}.
 */
export const BURY_CLAIM = `${PRELUDE}
local out = {}
for _, o in ipairs(redis.call('ZRANGEBYSCORE', K[4], '-inf', tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[4]))) do
  redis.call('ZADD', K[4], tonumber(ARGV[3]), o)
  redis.call('HSET', K[5], 'b:' .. o, ARGV[2])
  local d = redis.call('HMGET', K[5], 'a:' .. o, 'e:' .. o)
  table.insert(out, o)
  table.insert(out, d[1] or '0')
  table.insert(out, d[2] or '')
end
return out
`;

/**
 * ARGV: token, retryAt ('' = written: resolve them), offsets...
 * Ends this token's claim on dead records: written ones are resolved (they
 * count as acked), failed ones become claimable again at retryAt. Returns the count.
 */
export const BURY_END = `${PRELUDE}
local n = 0
for i = 3, #ARGV do
  local o = ARGV[i]
  if redis.call('ZSCORE', K[4], o) and redis.call('HGET', K[5], 'b:' .. o) == ARGV[1] then
    if ARGV[2] == '' then
      redis.call('ZREM', K[4], o)
      forget(K, o)
    else
      redis.call('ZADD', K[4], tonumber(ARGV[2]), o)
      redis.call('HDEL', K[5], 'b:' .. o)
    end
    n = n + 1
  end
end
return n
`;

/**
 * ARGV: reason (for the caller's log and metric, not stored), offsets...
 * Records Kafka no longer has (retention, compaction) are resolved wherever
 * they wait. Returns the count.
 */
export const SKIP = `${PRELUDE}
local n = 0
for i = 2, #ARGV do
  local o = ARGV[i]
  local found = 0
  for j = 2, 4 do found = found + redis.call('ZREM', K[j], o) end
  if found > 0 then
    forget(K, o)
    n = n + 1
  end
end
return n
`;

/**
 * KEYS: the commit lock, then five per partition. ARGV: token, lockTtlMs.
 * Takes the group's commit lock (commits are serialised across gateways, so
 * Kafka's committed offset never moves backward: I3) and reports, per partition,
 * {lowest unresolved|-1, next|-1, last committed, last metadata, n, unresolved offsets (n, sorted)}.
 * Returns {'busy', pttl} when another instance holds the lock.
 */
export const COMMIT_BEGIN = `
local function fmt(n) return string.format('%d', n) end
local lock = redis.call('GET', KEYS[1])
if lock and lock ~= ARGV[1] then return {'busy', redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
local out = {'ok'}
for p = 0, (#KEYS - 1) / 5 - 1 do
  local b = 1 + 5 * p
  local s = redis.call('HMGET', KEYS[b + 1], 'next', 'kc', 'km')
  local offsets = {}
  for i = 2, 4 do
    for _, o in ipairs(redis.call('ZRANGE', KEYS[b + i], 0, -1)) do table.insert(offsets, tonumber(o)) end
  end
  table.sort(offsets)
  local low = tonumber(s[1])
  if offsets[1] and (low == nil or offsets[1] < low) then low = offsets[1] end
  table.insert(out, low and fmt(low) or '-1')
  table.insert(out, s[1] or '-1')
  table.insert(out, s[2] or '-1')
  table.insert(out, s[3] or '')
  table.insert(out, #offsets)
  for _, o in ipairs(offsets) do table.insert(out, fmt(o)) end
end
return out
`;

/**
 * KEYS: the commit lock, then the state key of each committed partition.
 * ARGV: token, then per partition: offset, metadata.
 * Records what Kafka now holds and releases the lock, only if this token still
 * holds it (a holder whose lock ran out must not overwrite a newer commit). Returns 1 or 0.
 */
export const COMMIT_END = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], 'kc', ARGV[2 * i - 2], 'km', ARGV[2 * i - 1])
end
redis.call('DEL', KEYS[1])
return 1
`;

/** KEYS: the commit lock. ARGV: token. Releases it without recording anything. */
export const COMMIT_ABORT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * ARGV: offset. Seek: next = offset and everything unresolved is dropped (the
 * new position decides what comes next). The last commit is forgotten so the
 * next one writes the new position even when it is lower: a seek is the one
 * explicit way back.
 */
export const SEEK = `
redis.call('HSET', KEYS[1], 'next', ARGV[1], 'kc', '-1', 'km', '')
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
`;

/**
 * ARGV: holder, now, maxAttempts. A session is leaving: its in-flight records
 * come back now (attempts kept) and its lease lapses. Returns the count.
 */
export const RELEASE_HOLDER = `${PRELUDE}
local n = 0
for _, o in ipairs(redis.call('ZRANGE', K[2], 0, -1)) do
  if redis.call('HGET', K[5], 'h:' .. o) == ARGV[1] then
    redis.call('ZREM', K[2], o)
    comeback(K, o, tonumber(ARGV[2]), tonumber(ARGV[3]))
    n = n + 1
  end
end
if redis.call('HGET', K[1], 'lease') == ARGV[1] then redis.call('HSET', K[1], 'leaseExp', '0') end
return n
`;

/** Read-only: {lowest unresolved|-1, last committed, unresolved count, in flight}. */
export const SNAPSHOT = `${PRELUDE}
local low = lowest(K)
return {low and fmt(low) or '-1', redis.call('HGET', K[1], 'kc') or '-1', unresolved(K), redis.call('ZCARD', K[2])}
`;
