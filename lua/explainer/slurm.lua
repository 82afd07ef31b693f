--- `explainer slurm`: a workflow run as Slurm jobs. A job array runs one
-- `--shard K/N` per task over a shared output folder, then a job that depends
-- on the whole array (`--dependency=afterok:<id>`) runs the workflow's
-- `finish` once, on every shard's scenes (`--finish-only`). Slurm does the
-- scheduling; this module only fills two job scripts and calls `sbatch`.
-- @module explainer.slurm

local explainer = require "explainer"
local argparse = require "explainer.args"

local M = {}

M.USAGE = [[
usage: explainer slurm SCRIPT.lua FILE.txt ... [--tasks N] [--print] [run options]
                       [sbatch options as --name=value] [-- sbatch options]

Submits a Slurm job array of N tasks (default: one per scene, at most 100;
never more than the scenes a FILE has to run), task K running SCRIPT.lua on
each FILE with --shard K/N --no-finish, then a job that runs once the whole
array succeeded (--dependency=afterok) with --finish-only. Run options
(--output-dir, --jobs, ...) go to both jobs; other options and everything
after -- go to sbatch. --print shows both jobs and submits nothing. The output
folder must be on a file system all nodes share (docs/cluster.md).
]]

--- At most this many array tasks unless `--tasks` says otherwise.
M.DEFAULT_MAX_TASKS = 100

--- Quote one word for /bin/sh (plain words stay as they are).
-- @tparam string s
-- @treturn string
function M.shell_quote(s)
  if s:match("^[%w%-_./=:,+@]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function command_line(spec, extra)
  local words = { M.shell_quote(spec.executable), M.shell_quote(spec.workflow) }
  for _, f in ipairs(spec.files) do words[#words + 1] = M.shell_quote(f) end
  for _, a in ipairs(spec.options) do words[#words + 1] = M.shell_quote(a) end
  return table.concat(words, " ") .. extra
end

--- The two job scripts.
-- @tparam table spec executable, workflow, files (list), options (explainer
--   options, a list of words), tasks (N)
-- @treturn string the array job's script (task K runs shard K/N)
-- @treturn string the finish job's script
function M.job_scripts(spec)
  local array = table.concat({
    "#!/bin/sh",
    ("# explainer: shard $SLURM_ARRAY_TASK_ID of %d (a task of the array)"):format(spec.tasks),
    "exec " .. command_line(spec, (' --no-finish --shard "$SLURM_ARRAY_TASK_ID/%d"'):format(spec.tasks)),
    "" }, "\n")
  local finish = table.concat({
    "#!/bin/sh",
    "# explainer: the workflow's finish, once every shard has succeeded",
    "exec " .. command_line(spec, " --finish-only"),
    "" }, "\n")
  return array, finish
end

--- The two sbatch command lines (argument vectors, no shell).
-- @tparam table spec as for job_scripts, plus name (for the job names) and
--   sbatch (a list of the user's sbatch options, given after ours so they win)
-- @tparam string array_id the array's job id (known once it is submitted)
-- @treturn table argv of the array job
-- @treturn table argv of the finish job
function M.sbatch_argv(spec, array_id)
  local array = { "sbatch", "--parsable", ("--array=1-%d"):format(spec.tasks),
    "--job-name=explainer-" .. spec.name }
  local finish = { "sbatch", "--parsable", "--dependency=afterok:" .. array_id,
    "--job-name=explainer-" .. spec.name .. "-finish" }
  for _, o in ipairs(spec.sbatch) do
    array[#array + 1] = o
    finish[#finish + 1] = o
  end
  return array, finish
end

-- Options of the run that `slurm` sets itself.
local OWN = { ["--shard"] = true, ["--finish-only"] = true, ["--no-finish"] = true,
  ["--dry-run"] = true, ["--json"] = true }

-- slurm's own options (none is the value of an option before it).
local OWN_FLAGS = { ["--tasks"] = true, ["--print"] = true, ["--help"] = true, ["-h"] = true }

-- --tasks N: a whole number (capped at the scene count when the jobs are made).
local tasks_flag = argparse.number { 1, 2147483647, true }

--- Split `explainer slurm` arguments.
-- @tparam table args the words after `slurm`
-- @tparam table cli the explainer.cli module (its RUN_FLAGS, usage_error)
-- @treturn table positional, options (explainer words), sbatch (words),
--   tasks (or nil), print and help (booleans)
function M.parse_args(args, cli)
  local r = { positional = {}, options = {}, sbatch = {}, print = false }
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, value = a:match("^(%-%-[^=]+)=(.*)$")
    name = name or a
    if a == "--" then
      table.move(args, i + 1, #args, #r.sbatch + 1, r.sbatch)
      break
    elseif name == "--tasks" then
      if r.tasks then cli.usage_error("--tasks is given twice") end
      value, i = argparse.value_of(args, i, name, value, OWN_FLAGS, cli.RUN_FLAGS)
      r.tasks = tasks_flag(value, name)
    elseif name == "--print" then
      r.print = true
    elseif name == "--help" or name == "-h" then
      r.help = true
    elseif OWN[name] or name == "--array" then
      cli.usage_error("slurm: " .. name .. " is set by 'explainer slurm' itself (use --tasks N)")
    elseif cli.RUN_FLAGS[name] then
      r.options[#r.options + 1] = a
      if cli.RUN_FLAGS[name][2] and value == nil then
        value, i = argparse.value_of(args, i, name, value, OWN_FLAGS, cli.RUN_FLAGS)
        r.options[#r.options + 1] = value
      end
    elseif a:sub(1, 1) == "-" and #a > 1 then
      r.sbatch[#r.sbatch + 1] = a
    else
      r.positional[#r.positional + 1] = a
    end
    i = i + 1
  end
  cli.parse_args(r.options, cli.RUN_FLAGS) -- bad values are found now, not in the jobs
  return r
end

local function submit(argv, script)
  local r, err = explainer.exec(argv, { stdin = script, timeout = 120 })
  if not r then return nil, err end
  if not r.ok then
    local why = (r.stderr or ""):gsub("%s+$", "")
    return nil, argv[1] .. ": " .. (why ~= "" and why or ("exit status " .. tostring(r.status)))
  end
  local id = (r.stdout or ""):match("^%s*(%d+)")
  if not id then return nil, "sbatch answered no job id: " .. (r.stdout or "") end
  return id
end

--- `explainer slurm WORKFLOW FILE... [--tasks N] [--print] [options] [sbatch options]`.
-- @tparam table args the words after `slurm`
-- @tparam table cli the explainer.cli module
-- @tparam table host what the host binary said (executable)
-- @treturn integer exit status
function M.command(args, cli, host)
  local r = M.parse_args(args, cli)
  if r.help then
    io.stdout:write(M.USAGE)
    return 0
  end
  if #r.positional < 2 then
    cli.usage_error("slurm takes SCRIPT.lua and at least one FILE.txt")
  end
  local workflow, err = cli.load_workflow(cli.find_workflow(r.positional[1]))
  if not workflow then
    io.stderr:write("explainer: ", err, "\n")
    return 2
  end
  -- Every file as its jobs will find it (scenes, duplicate numbers, --strict,
  -- the journal), before anything is submitted.
  local _, overrides = cli.parse_args(r.options, cli.RUN_FLAGS)
  local files = { table.unpack(r.positional, 2) }
  -- (and the most scenes a FILE's run would do: more tasks would have none)
  local usable, most = cli.files_usable(r.positional[1], workflow, overrides, files, true)
  if not usable then return 2 end
  if type(workflow.finish) ~= "function" then
    io.stderr:write(("explainer: note: %s has no finish hook; the finish job only counts the scenes\n")
      :format(r.positional[1]))
  end
  if r.tasks and r.tasks > math.max(1, most) then
    io.stderr:write(("explainer: note: --tasks %d is more than the %s to run: %d tasks\n")
      :format(r.tasks, most == 1 and "1 scene" or most .. " scenes", math.max(1, most)))
    r.tasks = math.max(1, most)
  end
  local spec = {
    executable = host.executable or "explainer",
    -- A bundled script by its name: the jobs find it where they run.
    workflow = r.positional[1],
    files = files,
    options = r.options,
    sbatch = r.sbatch,
    tasks = r.tasks or math.max(1, math.min(most, M.DEFAULT_MAX_TASKS)),
    name = (explainer.core.path_stem(files[1]):gsub("[^%w_.-]", "_")),
  }
  local array_script, finish_script = M.job_scripts(spec)
  if r.print then
    local array_argv, finish_argv = M.sbatch_argv(spec, "$ARRAY_JOB_ID")
    io.stdout:write("# array job: ", table.concat(array_argv, " "), "\n", array_script,
      "# finish job: ", table.concat(finish_argv, " "), "\n", finish_script)
    return 0
  end
  local array_argv = M.sbatch_argv(spec, "")
  local array_id, serr = submit(array_argv, array_script)
  if not array_id then
    io.stderr:write("explainer: ", serr, "\n")
    return 2
  end
  local _, finish_argv = M.sbatch_argv(spec, array_id)
  local finish_id, ferr = submit(finish_argv, finish_script)
  if not finish_id then
    io.stderr:write(("explainer: job array %s is submitted, but not its finish job: %s\n"
      .. "  (run it by hand once the array is done: %s)\n")
      :format(array_id, ferr, command_line(spec, " --finish-only")))
    return 1
  end
  io.stdout:write(("Submitted job array %s (%d tasks) and finish job %s (after the array succeeds)\n")
    :format(array_id, spec.tasks, finish_id))
  return 0
end

return M
