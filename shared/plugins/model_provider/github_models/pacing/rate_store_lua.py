"""The Lua scripts that make every shared rate-limit decision atomic inside Redis/Valkey.

Each script reads the time from the store (``TIME``), so processes on machines with skewed clocks
agree, and touches only the keys of one scope (they share a ``{hash tag}``, so a Redis Cluster
keeps them on one node). Times and windows are store seconds (floats); limits of ``-1`` mean
unlimited. Numbers go back as strings: Lua numbers would reach the client truncated to integers.

Keys of a scope (``<scope>`` is ``jaato:rl:{<endpoint>:<billed party>:<model>}``):

* ``<scope>:m`` sorted set: request id -> start time, the last minute;
* ``<scope>:d`` sorted set: request id -> start time, the last day (kept only under a day limit);
* ``<scope>:c`` sorted set: request id -> lease end, the requests in flight (a slot whose process
  died expires at its lease end);
* ``<scope>:b`` hash: ``until`` (store time) and ``kind`` of a server-imposed wait (a 429);
* ``<scope>:t`` sorted set and ``<scope>:tv`` hash: request id -> start time and token count,
  the last minute of a tokens-per-minute budget.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "BLOCK", "BUDGET", "RELEASE", "SUFFIXES"]

# Order of the keys passed to ACQUIRE and BUDGET (RELEASE: m, d, c, t, tv; BLOCK: b).
SUFFIXES = ("m", "d", "c", "b", "t", "tv")

_NOW = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
"""

# ARGV: id, rpm, rpd, concurrent, tpm, tokens, minute window, day window, lease
# Returns {'ok', now} | {'wait', seconds, why} | {'busy', seconds} | {'day', seconds}
ACQUIRE = _NOW + """
local id = ARGV[1]
local rpm, rpd = tonumber(ARGV[2]), tonumber(ARGV[3])
local conc, tpm, tokens = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local mw, dw, lease = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - mw)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - dw)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now - mw)
for _, old in ipairs(gone) do redis.call('HDEL', KEYS[6], old) end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - mw)

local function nth(key, n)
  local row = redis.call('ZRANGE', key, n, n, 'WITHSCORES')
  return tonumber(row[2])
end

if rpd >= 0 then
  local n = redis.call('ZCARD', KEYS[2])
  if n >= rpd then
    if rpd == 0 then return {'day', tostring(dw)} end
    return {'day', tostring(nth(KEYS[2], n - rpd) + dw - now)}
  end
end
local wait, why = 0, ''
local blocked = tonumber(redis.call('HGET', KEYS[4], 'until') or '0')
if blocked > now then
  wait = blocked - now
  why = 'server:' .. (redis.call('HGET', KEYS[4], 'kind') or 'unknown')
end
if rpm >= 0 then
  local n = redis.call('ZCARD', KEYS[1])
  if n >= rpm then
    local w = mw
    if rpm > 0 then w = nth(KEYS[1], n - rpm) + mw - now end
    if w > wait then wait, why = w, 'per_minute' end
  end
end
if tpm >= 0 then
  local used = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[6])) do used = used + tonumber(v) end
  if used > 0 and used + tokens > tpm then
    local rows = redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES')
    local left, w = used, mw
    for i = 1, #rows, 2 do
      left = left - tonumber(redis.call('HGET', KEYS[6], rows[i]) or '0')
      if left <= 0 or left + tokens <= tpm then
        w = tonumber(rows[i + 1]) + mw - now
        break
      end
    end
    if w > wait then wait, why = w, 'tokens_per_minute' end
  end
end
if wait > 0 then return {'wait', tostring(wait), why} end
if conc >= 0 and redis.call('ZCARD', KEYS[3]) >= conc then
  local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  local w = lease
  if first[2] then w = tonumber(first[2]) - now end
  return {'busy', tostring(w)}
end
local mttl, dttl = math.ceil(mw * 1000) + 1000, math.ceil(dw * 1000) + 1000
redis.call('ZADD', KEYS[1], now, id)
redis.call('PEXPIRE', KEYS[1], mttl)
if rpd >= 0 then  -- without a day limit, a day of stamps would only cost memory
  redis.call('ZADD', KEYS[2], now, id)
  redis.call('PEXPIRE', KEYS[2], dttl)
end
redis.call('ZADD', KEYS[3], now + lease, id)
redis.call('PEXPIRE', KEYS[3], math.ceil(lease * 1000) + 1000)
if tpm >= 0 and tokens > 0 then
  redis.call('ZADD', KEYS[5], now, id)
  redis.call('HSET', KEYS[6], id, tokens)
  redis.call('PEXPIRE', KEYS[5], mttl)
  redis.call('PEXPIRE', KEYS[6], mttl)
end
return {'ok', tostring(now)}
"""

# ARGV: id, refused (1/0), seconds since the response answered, used tokens (-1: unknown),
# minute window, day window. The start stamp moves to when the server had surely counted the
# request (its answer); a refused request (429) was not counted there, so it leaves the windows.
RELEASE = _NOW + """
local id = ARGV[1]
local mw, dw = tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREM', KEYS[3], id)
if ARGV[2] == '1' then
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  return 1
end
local stamp = now - tonumber(ARGV[3])
local windows = {{KEYS[1], mw}, {KEYS[2], dw}, {KEYS[4], mw}}
for _, kw in ipairs(windows) do
  local old = redis.call('ZSCORE', kw[1], id)
  if old and tonumber(old) < stamp then
    redis.call('ZADD', kw[1], stamp, id)
    redis.call('PEXPIRE', kw[1], math.ceil(kw[2] * 1000) + 1000)
  end
end
local used = tonumber(ARGV[4])
if used >= 0 and redis.call('HEXISTS', KEYS[5], id) == 1 then
  redis.call('HSET', KEYS[5], id, used)
  redis.call('PEXPIRE', KEYS[5], math.ceil(mw * 1000) + 1000)
end
return 1
"""

# ARGV: seconds, kind. Returns the pause left (seconds).
BLOCK = _NOW + """
local untilv = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untilv > current then
  redis.call('HSET', KEYS[1], 'until', tostring(untilv), 'kind', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
  current = untilv
end
return tostring(current - now)
"""

# ARGV: minute window, day window. Read-only.
# Returns {starts in the minute, starts in the day, in flight, pause left, tokens in the minute}
BUDGET = _NOW + """
local mw, dw = tonumber(ARGV[1]), tonumber(ARGV[2])
local m = redis.call('ZCOUNT', KEYS[1], '(' .. tostring(now - mw), '+inf')
local d = redis.call('ZCOUNT', KEYS[2], '(' .. tostring(now - dw), '+inf')
local c = redis.call('ZCOUNT', KEYS[3], '(' .. tostring(now), '+inf')
local blocked = tonumber(redis.call('HGET', KEYS[4], 'until') or '0') - now
if blocked < 0 then blocked = 0 end
local tokens = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '(' .. tostring(now - mw), '+inf')) do
  tokens = tokens + tonumber(redis.call('HGET', KEYS[6], id) or '0')
end
return {tostring(m), tostring(d), tostring(c), tostring(blocked), tostring(tokens)}
"""
