"""The Lua scripts that keep a shared cost window in Redis, each run atomically on the server.

Every script reads the time with ``TIME`` (Redis's clock, in microseconds), so hosts whose
clocks disagree still agree on the window. Keys of one API key share a hash tag
(``{<key hash>}``), so they sit on one Redis Cluster slot too.

A window's keys (``KEYS`` in this order):

1. ``window``: sorted set of admissions, score the microsecond they leave the window,
   member ``<id>:<units>:<risk-reducing 0/1>``;
2. ``state``: hash with ``total`` and ``prio`` (units in the window, all and risk-reducing),
   ``closed`` (no admission before this microsecond), ``seq`` (the line's ticket counter),
   ``admitted`` (units ever admitted) and ``epoch`` (who created this state: a Redis that
   restarted without its data has none, and the window it forgot must count as full);
3. ``line:0`` and 4. ``line:1``: the waiting lines of ordinary and risk-reducing calls,
   sorted sets of tickets scored by ticket number (first come, first served);
5. ``lease``: sorted set ``<line>:<ticket>`` scored by when the ticket expires (a waiter
   renews it on each poll; a process that died leaves the line when its lease runs out);
6. ``nonce``: the key's last nonce;
7. ``members``: sorted set of the processes on the key, scored by when each was last heard
   (every call and a heartbeat). One silent for longer than ``absent_after`` may be spending
   its fallback share (cut off from Redis alone, while the others still reach it), so the
   others' limit shrinks by that share until it is back or ``forget_after`` has passed;
8. ``slot_of``: hash member -> its fallback nonce residue (1..15, the lowest free one when it
   started). Shared nonces skip every residue in it, so no shared nonce can equal a nonce a
   process draws on its own while cut off, and they step by about 16 / (16 - processes)
   rather than 16 (a burst of 100 calls among 4 processes leads the clock by at most ~133 ms,
   not 1.6 s).
"""

from __future__ import annotations

__all__ = ["ADMIT", "COOL_DOWN", "HEARTBEAT", "INIT", "NONCE", "RELEASE", "REPLAY"]

#: Shared prologue: the time, forgetting what left the window, and a lost state noticed.
_PROLOGUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function forget(window, state, upto)
  local gone = redis.call('ZRANGEBYSCORE', window, '-inf', upto)
  if #gone > 0 then
    local units, prio = 0, 0
    for _, member in ipairs(gone) do
      local _, _, u, p = string.find(member, ':(%d+):(%d)$')
      units = units + tonumber(u)
      if p == '1' then prio = prio + tonumber(u) end
    end
    redis.call('ZREMRANGEBYSCORE', window, '-inf', upto)
    redis.call('HINCRBY', state, 'total', 0 - units)
    if prio > 0 then redis.call('HINCRBY', state, 'prio', 0 - prio) end
  end
end
local function ensure_epoch(window, state, epoch, capacity, period)
  local known = redis.call('HGET', state, 'epoch')
  if known then return known end
  -- Redis lost this window (a restart without its data): what it held is unknown, so it
  -- counts as full for one window.
  redis.call('HSET', state, 'epoch', epoch, 'total', capacity, 'prio', 0)
  redis.call('ZADD', window, now + period, 'lost:' .. capacity .. ':0')
  return epoch
end
local function draw_nonce(key, floor, slots)
  local last = tonumber(redis.call('GET', key) or '0')
  local n = math.max(last, math.floor(now / 1000), floor) + 1
  -- a process on its local fallback draws in its own residue modulo 16: shared nonces skip
  -- every residue a process holds (0 is never held), so the two never hand out one number
  local held = {}
  for _, slot in ipairs(redis.call('HVALS', slots)) do held[tonumber(slot)] = true end
  while held[n % 16] do n = n + 1 end
  redis.call('SET', key, string.format('%d', n))
  return n
end
"""

#: Take a ticket (or renew one) and, when it heads its line and the units fit, admit it.
#: ARGV: mode ('admit' or 'peek'), cost, priority (0/1), capacity, period_us, reserve,
#: priority_share, ticket ('' for a new one), lease_us, want_nonce (0/1), nonce_floor,
#: epoch (used when the state is lost), poll_us, member, absent_after_us, forget_after_us,
#: fallback_units (what an absent process may spend).
#: Returns {status (1 admitted, 2 ready but not taken, 0 wait), wait_us, ticket, total,
#: closed_for_us, epoch, nonce, now_us}.
ADMIT = (
    _PROLOGUE
    + """
local mode, cost, prio = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local capacity, period = tonumber(ARGV[4]), tonumber(ARGV[5])
local reserve, share = tonumber(ARGV[6]), tonumber(ARGV[7])
local ticket, lease = ARGV[8], tonumber(ARGV[9])
local poll = tonumber(ARGV[13])
local window, state, lease_key = KEYS[1], KEYS[2], KEYS[5]
local epoch = ensure_epoch(window, state, ARGV[12], capacity, period)
forget(window, state, now)
local stale = redis.call('ZRANGEBYSCORE', lease_key, '-inf', now)
for _, member in ipairs(stale) do
  local line = KEYS[3]
  if string.sub(member, 1, 1) == '1' then line = KEYS[4] end
  redis.call('ZREM', line, string.sub(member, 3))
end
if #stale > 0 then redis.call('ZREMRANGEBYSCORE', lease_key, '-inf', now) end
local line = KEYS[3]
if prio == 1 then line = KEYS[4] end
if ticket == '' then ticket = tostring(redis.call('HINCRBY', state, 'seq', 1)) end
redis.call('ZADD', line, tonumber(ticket), ticket)
redis.call('ZADD', lease_key, now + lease, prio .. ':' .. ticket)
local total = tonumber(redis.call('HGET', state, 'total') or '0')
local closed = tonumber(redis.call('HGET', state, 'closed') or '0')
local closed_for = math.max(0, closed - now)
local ready = now
if closed > now then ready = closed end
local limit = capacity - reserve
if prio == 1 then limit = capacity end
redis.call('ZADD', KEYS[7], now, ARGV[14])
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - tonumber(ARGV[16]))
local absent = redis.call('ZCOUNT', KEYS[7], '-inf', now - tonumber(ARGV[15]))
limit = limit - absent * tonumber(ARGV[17])
local excess = total + cost - limit
local entries = nil
if excess > 0 then
  entries = redis.call('ZRANGE', window, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    if excess <= 0 then break end
    local _, _, u = string.find(entries[i], ':(%d+):%d$')
    excess = excess - tonumber(u)
    ready = math.max(ready, tonumber(entries[i + 1]))
  end
end
local prio_total = tonumber(redis.call('HGET', state, 'prio') or '0')
if prio == 1 and prio_total > 0 and redis.call('ZCARD', KEYS[3]) > 0 then
  -- while ordinary calls wait, risk-reducing ones hold at most their share
  local own = prio_total + cost - share
  if own > 0 then
    entries = entries or redis.call('ZRANGE', window, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      if own <= 0 then break end
      local _, _, u, p = string.find(entries[i], ':(%d+):(%d)$')
      if p == '1' then
        own = own - tonumber(u)
        ready = math.max(ready, tonumber(entries[i + 1]))
      end
    end
  end
end
-- behind another process's call: look again when this one could fit, or soon
local head = redis.call('ZRANGE', line, 0, 0)[1]
if head ~= ticket then
  return {0, math.max(ready - now, poll), tonumber(ticket), total, closed_for, epoch, 0, now}
end
if ready > now then
  return {0, ready - now, tonumber(ticket), total, closed_for, epoch, 0, now}
end
if mode ~= 'admit' then
  return {2, 0, tonumber(ticket), total, closed_for, epoch, 0, now}
end
redis.call('ZREM', line, ticket)
redis.call('ZREM', lease_key, prio .. ':' .. ticket)
redis.call('ZADD', window, now + period, prio .. '.' .. ticket .. ':' .. cost .. ':' .. prio)
redis.call('HINCRBY', state, 'total', cost)
if prio == 1 then redis.call('HINCRBY', state, 'prio', cost) end
redis.call('HINCRBY', state, 'admitted', cost)
local nonce = 0
if ARGV[10] == '1' then nonce = draw_nonce(KEYS[6], tonumber(ARGV[11]), KEYS[8]) end
return {1, 0, tonumber(ticket), total + cost, closed_for, epoch, nonce, now}
"""
)

#: Leave a line without being admitted (a call cancelled or past its deadline).
#: KEYS: line, lease; ARGV: ticket, priority.
RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2] .. ':' .. ARGV[1])
return 1
"""

#: Close the window for a while (the exchange answered ``apiLimitExceeded``).
#: KEYS: window, state; ARGV: seconds_us.
COOL_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1])
local closed = tonumber(redis.call('HGET', KEYS[2], 'closed') or '0')
if until_us > closed then
  redis.call('HSET', KEYS[2], 'closed', string.format('%d', until_us))
end
return 1
"""

#: Put admissions made elsewhere (a process's local fallback) into the window.
#: KEYS: window, state; ARGV: epoch (if the state is lost), capacity, period_us, id, then
#: triples of (microseconds left, units, priority).
REPLAY = (
    _PROLOGUE
    + """
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
forget(KEYS[1], KEYS[2], now)
local units, prio = 0, 0
for i = 5, #ARGV, 3 do
  local left, u, p = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]
  redis.call('ZADD', KEYS[1], now + left, ARGV[4] .. '.' .. i .. ':' .. u .. ':' .. p)
  units = units + u
  if p == '1' then prio = prio + u end
end
redis.call('HINCRBY', KEYS[2], 'total', units)
if prio > 0 then redis.call('HINCRBY', KEYS[2], 'prio', prio) end
return epoch
"""
)

#: A new process: the window's epoch (created when Redis has none: the first process, not a
#: lost state), the time, and its fallback nonce residue: the lowest of 1..15 no member
#: holds (members gone are let go first), or a shared one past 15 processes.
#: KEYS: state, slot_of, members; ARGV: epoch, member.
INIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
redis.call('ZADD', KEYS[3], now, ARGV[2])
local held, count = {}, 0
local pairs_ = redis.call('HGETALL', KEYS[2])
for i = 1, #pairs_, 2 do
  if pairs_[i] ~= ARGV[2] then
    if redis.call('ZSCORE', KEYS[3], pairs_[i]) then
      held[tonumber(pairs_[i + 1])] = true
      count = count + 1
    else
      redis.call('HDEL', KEYS[2], pairs_[i])
    end
  end
end
local slot = count % 15 + 1
for r = 1, 15 do
  if not held[r] then slot = r break end
end
redis.call('HSET', KEYS[2], ARGV[2], slot)
return {epoch, now, slot}
"""

#: A nonce for a private call no window admits. KEYS: nonce, slot_of; ARGV: floor.
NONCE = (
    _PROLOGUE
    + """
return {draw_nonce(KEYS[1], tonumber(ARGV[1]), KEYS[2]), now}
"""
)

#: This process is alive and reaches Redis (``leave``: it closes cleanly, its residue free).
#: KEYS: members, slot_of; ARGV: member, 'beat' or 'leave'.
HEARTBEAT = """
if ARGV[2] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
return 1
"""
