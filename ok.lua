return { output_filname = "x", proces_scene = 1, process_scene = function() end }
