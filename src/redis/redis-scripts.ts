/**
 * The Lua scripts of the Redis run log. Each runs atomically on the run's slot, so two writers
 * racing on one run cannot interleave: the second sees the first's `lastSeq` and is refused.
 *
 * @module
 */

/**
 * Creates a run. KEYS: meta, lease. ARGV: id, agent, createdAt, status, lastSeq, hasOwner (`1`/`0`),
 * owner, endedAt (`''` when none), gatewayId, leaseMs.
 */
export const CREATE_RUN = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('AW_EXISTS run ' .. ARGV[1] .. ' already exists')
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'agent', ARGV[2], 'createdAt', ARGV[3], 'status', ARGV[4], 'lastSeq', ARGV[5])
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'owner', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'endedAt', ARGV[8]) end
if ARGV[4] == 'running' and ARGV[9] ~= '' then
  redis.call('SET', KEYS[2], ARGV[9], 'PX', ARGV[10])
end
return 1
`;

/**
 * Appends a batch of events. KEYS: meta, events, lease, cancel, subscribers, snapshot. ARGV: maxLen,
 * retentionMs, requireNoLease (`1`: refuse while a lease exists — the survivor's fence), count,
 * then per event: seq, type, json, at.
 *
 * Returns 1 when appended, 0 when the very same events are already stored (a retry after a lost
 * reply), and an error reply `AW_SEQ …`, `AW_ENDED …`, `AW_RUN_NOT_FOUND …` or `AW_LEASE_HELD`.
 * A terminal event records the status and end time and puts the retention TTL on the run's keys.
 * Beyond `maxLen` events the oldest are trimmed, but never past the run's snapshot (`snapshotSeq`
 * in meta), so a reader that is behind always gets a snapshot followed by every later event.
 */
export const APPEND = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return redis.error_reply('AW_RUN_NOT_FOUND run not found') end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq'))
local count = tonumber(ARGV[4])
local first = tonumber(ARGV[5])
if first <= last then
  for i = 0, count - 1 do
    local seq = ARGV[5 + i * 4]
    local stored = redis.call('XRANGE', KEYS[2], '0-' .. seq, '0-' .. seq)
    if #stored == 0 or stored[1][2][2] ~= ARGV[7 + i * 4] then
      return redis.error_reply('AW_SEQ expected seq ' .. (last + 1) .. ', got ' .. first)
    end
  end
  return 0
end
if status ~= 'running' then return redis.error_reply('AW_ENDED run already ended (' .. status .. ')') end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return redis.error_reply('AW_LEASE_HELD a producer holds the run') end
local expected = last + 1
local ended = false
for i = 0, count - 1 do
  if ended then return redis.error_reply('AW_ENDED an event follows the terminal event') end
  local seq = tonumber(ARGV[5 + i * 4])
  if seq ~= expected then return redis.error_reply('AW_SEQ expected seq ' .. expected .. ', got ' .. seq) end
  local kind = ARGV[6 + i * 4]
  ended = kind == 'run.finished' or kind == 'run.failed' or kind == 'run.cancelled'
  expected = expected + 1
end
for i = 0, count - 1 do
  redis.call('XADD', KEYS[2], '0-' .. ARGV[5 + i * 4], 'j', ARGV[7 + i * 4])
end
local lastIndex = count - 1
local newLast = tonumber(ARGV[5 + lastIndex * 4])
redis.call('HSET', KEYS[1], 'lastSeq', newLast)
local snapshotSeq = tonumber(redis.call('HGET', KEYS[1], 'snapshotSeq') or '0')
local minSeq = math.min(newLast - tonumber(ARGV[1]) + 1, snapshotSeq + 1)
if minSeq > 1 then redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. minSeq) end
if ended then
  local kind = ARGV[6 + lastIndex * 4]
  local final = 'finished'
  if kind == 'run.failed' then final = 'failed' elseif kind == 'run.cancelled' then final = 'cancelled' end
  redis.call('HSET', KEYS[1], 'status', final, 'endedAt', ARGV[8 + lastIndex * 4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  redis.call('PEXPIRE', KEYS[6], ARGV[2])
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
end
return 1
`;

/**
 * Stores a snapshot (the reduced state of events 1…seq) unless a newer one is stored. KEYS: meta,
 * snapshot. ARGV: seq, JSON `{ seq, state }`. An ended run's snapshot gets the run's remaining TTL.
 */
export const SET_SNAPSHOT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'snapshotSeq') or '0')
if tonumber(ARGV[1]) <= current or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[1], 'snapshotSeq', ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;

/**
 * Counts a new run against its owner's limit, atomically. KEYS: the owner's live set. ARGV: run id,
 * limit, now (epoch ms), lease expiry (epoch ms). Entries whose lease expired (their producer is
 * gone) are dropped first. Returns the owner's running runs before this one, and -1 when they
 * are at the limit (nothing is added).
 */
export const RESERVE_RUN = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local running = redis.call('ZCARD', KEYS[1])
if running >= tonumber(ARGV[2]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return running
`;

/**
 * Claims an idempotency key. KEYS: the key. ARGV: JSON of the claim, its TTL in ms. Returns the
 * stored JSON when the key was used already, or false when this call claimed it.
 */
export const CLAIM_KEY = `
local used = redis.call('GET', KEYS[1])
if used then return used end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;
