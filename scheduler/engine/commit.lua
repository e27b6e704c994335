-- Stepline: apply engine steps of one execution atomically (see scheduler/engine/redis_store.py).
--
-- KEYS[1] execution hash (status, eid counter, transitions, end, record)
-- KEYS[2] runs hash (run id -> "seq|last_event_id|entered_event_id|json")
-- KEYS[3] events list ("id|previous_id|json")
-- KEYS[4] timers sorted set (member: message JSON, score: due epoch seconds)
-- KEYS[5] outbox sorted set (member: message JSON, score: lease deadline)
-- KEYS[6] fan-out ids set (parent run ids with a fan-out record)
-- KEYS[7] in-flight task calls hash (task key -> task call JSON)
-- ARGV[1] JSON array of controls, one per step of this execution, applied in order
--         (a batch of a fan-out's children commits in one call). A control holds only
--         Stepline's own fields; user payloads travel as opaque strings, so no number in
--         them is ever re-encoded here.
-- ARGV[2] key prefix of this execution ("<prefix>x:<arn>:")
--
-- Returns one entry per control: false (nil to the client) when that step is stale (the
-- run's seq moved, the run is gone, or the execution is no longer running), else the
-- list of messages the fan-in produced.

local exec_key, runs_key, events_key = KEYS[1], KEYS[2], KEYS[3]
local timers_key, outbox_key, fans_key, tasks_key = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local xp = ARGV[2]
local now = 0  -- the time of the step being applied (set by apply)

-- a fan-out that goes ends its map run (if it has one) with its counters: the same
-- rules as scheduler/engine/map_runs.py retire
local function retire(key)
  local f = redis.call('HMGET', key, 'map_run_arn', 'launched', 'finished', 'failed',
                       'joined', 'failure')
  if not f[1] or f[1] == '' then return end
  local mr = xp .. 'mr:' .. f[1]
  if redis.call('HGET', mr, 'status') ~= 'RUNNING' then return end
  local status = 'ABORTED'
  if f[5] == '1' then
    status = 'SUCCEEDED'
    if f[6] then status = 'FAILED' end
  end
  redis.call('HSET', mr, 'status', status, 'stop_date', now, 'launched', f[2],
             'finished', f[3], 'failed', f[4])
end

local function drop_fanout(parent)
  retire(xp .. 'fan:' .. parent)
  redis.call('DEL', xp .. 'fan:' .. parent, xp .. 'res:' .. parent)
  redis.call('SREM', fans_key, parent)
end

local function drop_children(parent)
  local prefix = parent .. '.'
  local cursor = '0'
  repeat
    local page = redis.call('HSCAN', runs_key, cursor, 'MATCH', prefix .. '*', 'COUNT', 1000)
    cursor = page[1]
    for i = 1, #page[2], 2 do redis.call('HDEL', runs_key, page[2][i]) end
  until cursor == '0'
  for _, id in ipairs(redis.call('SMEMBERS', fans_key)) do
    if string.sub(id, 1, #prefix) == prefix then drop_fanout(id) end
  end
end

-- one step; nil when it is stale
local function apply(c)
  now = c.now
  if c.create then
    if redis.call('EXISTS', exec_key) == 1 then return nil end
    redis.call('HSET', exec_key, 'record', c.record, 'status', 'RUNNING', 'eid', 1,
               'transitions', 0)
  elseif c.redrive then
    local status = redis.call('HGET', exec_key, 'status')
    if status ~= 'FAILED' and status ~= 'TIMED_OUT' and status ~= 'ABORTED' then
      return nil
    end
    redis.call('HSET', exec_key, 'status', 'RUNNING', 'record', c.record)
    redis.call('HDEL', exec_key, 'end')
  else
    if redis.call('HGET', exec_key, 'status') ~= 'RUNNING' then return nil end
    if c.run ~= '' then
      local current = redis.call('HGET', runs_key, c.run)
      if not current then return nil end
      local seq = tonumber(string.match(current, '^(%-?%d+)|'))
      if seq ~= c.seq then return nil end
    end
  end

  -- the message this step consumed is no longer in flight
  if c.consumed ~= '' then
    redis.call('ZREM', outbox_key, c.consumed)
    redis.call('HDEL', tasks_key, c.consumed)
  end

  -- event ids: given out here, so concurrent steps of one execution never contend
  local n = #c.events
  local base = redis.call('HINCRBY', exec_key, 'eid', n) - n
  local function real(v)
    if v < 0 then return base + (-v - 1) end
    return v
  end
  for _, e in ipairs(c.events) do
    redis.call('RPUSH', events_key, real(e[1]) .. '|' .. real(e[2]) .. '|' .. e[3])
  end
  if c.transitions > 0 then redis.call('HINCRBY', exec_key, 'transitions', c.transitions) end

  -- map runs a Distributed Map starts: settings and status, listed per execution, and
  -- found by ARN through the index (see redis_store.py)
  for _, m in ipairs(c.map_runs) do
    redis.call('HSET', xp .. 'mr:' .. m.arn, 'record', m.record, 'status', 'RUNNING',
               'max_concurrency', m.max_concurrency, 'tol_count', m.tol_count,
               'tol_pct', m.tol_pct)
    redis.call('RPUSH', xp .. 'mrs', m.arn)
    redis.call('HSET', c.map_run_index, m.arn, c.arn)
  end

  for _, parent in ipairs(c.drop_children_of) do drop_children(parent) end
  for _, parent in ipairs(c.drop_fanouts) do drop_fanout(parent) end

  if c.end_status ~= '' then
    redis.call('HSET', exec_key, 'status', c.end_status, 'end', c.end_blob)
    if c.forget_after ~= '' then
      -- an Express execution kept without history: only its end, and only for a while
      redis.call('DEL', events_key)
      redis.call('EXPIRE', exec_key, c.forget_after)
      for _, m in ipairs(redis.call('LRANGE', xp .. 'mrs', 0, -1)) do
        redis.call('DEL', xp .. 'mr:' .. m)
        redis.call('HDEL', c.map_run_index, m)
      end
      redis.call('DEL', xp .. 'mrs')
    end
    redis.call('PUBLISH', c.ends_channel, c.arn)
  end

  if c.drop_all then
    for _, id in ipairs(redis.call('SMEMBERS', fans_key)) do drop_fanout(id) end
    redis.call('DEL', runs_key, fans_key)
    if not c.keep_root then return {} end
  end

  for _, r in ipairs(c.runs) do
    redis.call('HSET', runs_key, r[1], r[2] .. '|' .. real(r[3]) .. '|' .. real(r[4]) .. '|' .. r[5])
  end

  if c.drop_all then return {} end

  for _, f in ipairs(c.fanouts) do
    local parent, fields = f[1], f[2]
    local key = xp .. 'fan:' .. parent
    redis.call('DEL', key, xp .. 'res:' .. parent)
    redis.call('HSET', key, 'kind', fields.kind, 'total', fields.total,
               'first_child', fields.first_child, 'launched', fields.launched,
               'parent_seq', fields.parent_seq, 'max_failures', fields.max_failures,
               'tolerance_set', fields.tolerance_set, 'finished', 0, 'failed', 0,
               'joined', 0, 'started_event_id', real(fields.started_event_id),
               'map_run_arn', fields.map_run_arn, 'max_concurrency', fields.max_concurrency)
    redis.call('SADD', fans_key, parent)
  end

  for _, t in ipairs(c.timers) do redis.call('ZADD', timers_key, t[1], t[2]) end
  for _, a in ipairs(c.activity_tasks) do redis.call('RPUSH', a[1], a[2]) end
  for _, m in ipairs(c.outbox) do redis.call('ZADD', outbox_key, c.lease, m) end
  for _, t in ipairs(c.tasks) do
    redis.call('HSET', tasks_key, t[1], t[2])
    redis.call('ZADD', outbox_key, c.lease, t[1])
  end

  -- fan-in: the same rules as scheduler/engine/fanin.py apply_report
  local produced = {}
  local report = c.report
  if report ~= cjson.null and report ~= nil then
    local key = xp .. 'fan:' .. report.parent
    local fan = redis.call('HMGET', key, 'joined', 'kind', 'total', 'first_child',
                           'launched', 'parent_seq', 'max_failures', 'tolerance_set',
                           'max_concurrency')
    if fan[1] == '0' then
      local kind, total = fan[2], tonumber(fan[3])
      local first_child, launched = tonumber(fan[4]), tonumber(fan[5])
      redis.call('HSET', xp .. 'res:' .. report.parent, report.index, report.blob)
      local finished = redis.call('HINCRBY', key, 'finished', 1)
      local failed_now = false
      if report.failure ~= '' then
        local failed = redis.call('HINCRBY', key, 'failed', 1)
        if kind == 'Parallel' or failed > tonumber(fan[7]) then
          local failure = report.failure
          if fan[8] == '1' then failure = report.threshold end
          redis.call('HSET', key, 'failure', failure)
          failed_now = true
        end
      end
      if not failed_now then
        -- launch while fewer than MaxConcurrency run (0: no limit); a fan-out written
        -- before max_concurrency was kept launches one child per child that ends
        local limit = tonumber(fan[9] or '') or (launched - finished + 1)
        local before = launched
        while launched < total and (limit <= 0 or launched - finished < limit) do
          local sibling = report.parent .. '.' .. (first_child + launched)
          launched = launched + 1
          table.insert(produced, sibling .. '|0|enter|' .. real(report.last_state_event))
        end
        if launched > before then redis.call('HSET', key, 'launched', launched) end
      end
      if failed_now or finished == total then
        redis.call('HSET', key, 'joined', 1)
        local after = real(report.last_event)
        if failed_now then after = real(report.last_state_event) end
        table.insert(produced, report.parent .. '|' .. fan[6] .. '|join|' .. after)
      end
    end
  end
  for _, m in ipairs(produced) do
    local run, seq, kind = string.match(m, '^(.-)|(%-?%d+)|(%a+)')
    redis.call('ZADD', outbox_key, c.lease, c.outbox_prefix .. run .. '|' .. seq .. '|' .. kind)
  end
  return produced
end

local results = {}
for i, c in ipairs(cjson.decode(ARGV[1])) do
  local produced = apply(c)
  if produced == nil then results[i] = false else results[i] = produced end
end
return results
