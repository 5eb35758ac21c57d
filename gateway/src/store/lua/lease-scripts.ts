// Lua scripts for ordered-mode partition leases. KEYS come in groups of five
// per partition (state, inFlight, retry, dead, delivery), all under one group's hash tag.

/**
 * ARGV: instance, now, ttl, share. Renews this instance's live leases up to
 * `share`, releases the rest, and takes free or expired partitions until it
 * holds `share`. A partition taken over from another holder resumes from its
 * lowest unresolved offset: the previous holder's in-flight records come back
 * due now (attempts kept), so they are delivered again first, in offset
 * order; records already acked stay acked (I5).
 * Returns {released, movedHere, partitionIndex1, epoch1, partitionIndex2, epoch2, ...} (0-based).
 */
export const LEASES = `
local inst, now, ttl, share = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 5
local mine, free = {}, {}
for i = 0, n - 1 do
  local s = redis.call('HMGET', KEYS[5 * i + 1], 'lease', 'leaseExp')
  local live = s[1] and tonumber(s[2] or '0') >= now
  if live and s[1] == inst then table.insert(mine, i) elseif not live then table.insert(free, i) end
end
local held, released, moved = {}, 0, 0
for idx, i in ipairs(mine) do
  if idx > share then
    redis.call('HSET', KEYS[5 * i + 1], 'leaseExp', '0')
    released = released + 1
  else
    redis.call('HSET', KEYS[5 * i + 1], 'leaseExp', now + ttl)
    table.insert(held, i)
  end
end
for _, i in ipairs(free) do
  if #held >= share then break end
  local state, inflight, retry, delivery = KEYS[5 * i + 1], KEYS[5 * i + 2], KEYS[5 * i + 3], KEYS[5 * i + 5]
  local prev = redis.call('HGET', state, 'lease')
  redis.call('HINCRBY', state, 'epoch', 1)
  redis.call('HSET', state, 'lease', inst, 'leaseExp', now + ttl)
  if prev and prev ~= inst then
    moved = moved + 1
    for _, o in ipairs(redis.call('ZRANGE', inflight, 0, -1)) do
      redis.call('HDEL', delivery, 'h:' .. o)
      redis.call('ZADD', retry, now, o)
    end
    redis.call('DEL', inflight)
  end
  table.insert(held, i)
end
local out = {released, moved}
for _, i in ipairs(held) do
  table.insert(out, i)
  table.insert(out, redis.call('HGET', KEYS[5 * i + 1], 'epoch'))
end
return out
`;
