-- bench/noop.lua -- the no-op processor of `make bench`: the orchestrator still
-- plans, creates every scene's folder, records and counts; the scene does nothing.
return {
  process_scene = function(scene, output_dir) end,
}
