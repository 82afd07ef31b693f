--- What the online backends cost, for `explainer estimate`: a dated table of
-- list prices in US dollars, by kind of request and `backend/model`.
--
-- These are estimates, read from the services' pricing pages on the date
-- below; they change, and an account's plan may differ. Override or extend
-- them with `EXPLAINER_PRICES=FILE` (a Lua file returning a table, or a JSON
-- file, of the same shape): its `date`, `source` and each entry it names
-- replace these.
--
-- Each entry is `{unit = ..., price = ...}` with `unit` one of `image`,
-- `megapixel` (of the image asked for, each started one counted), `million
-- characters`, `thousand characters`, `second` (of video asked for) or
-- `video`; `by_size` gives other prices for some image sizes.
-- @module explainer.prices

return {
  date = "2026-11-30",
  currency = "USD",
  source = "openai.com/api/pricing, fal.ai model pages, elevenlabs.io/pricing/api",

  --- A first image, from a prompt.
  image = {
    ["openai/gpt-image-1"] = { unit = "image", price = 0.063, by_size = { ["1024x1024"] = 0.042 },
                               note = "medium quality" },
    ["openai/gpt-image-1-mini"] = { unit = "image", price = 0.015, by_size = { ["1024x1024"] = 0.011 },
                                    note = "medium quality" },
    ["openai/dall-e-3"] = { unit = "image", price = 0.08, by_size = { ["1024x1024"] = 0.04 } },
    ["openai/dall-e-2"] = { unit = "image", price = 0.02 },
    ["fal/fal-ai/flux/schnell"] = { unit = "megapixel", price = 0.003 },
    ["fal/fal-ai/flux/dev"] = { unit = "megapixel", price = 0.025 },
    ["fal/fal-ai/nano-banana"] = { unit = "image", price = 0.039 },
  },

  --- An edit of the image before (an iteration, a final prompt).
  edit = {
    ["openai/gpt-image-1"] = { unit = "image", price = 0.07, by_size = { ["1024x1024"] = 0.049 },
                               note = "medium quality, with the input image" },
    ["openai/gpt-image-1-mini"] = { unit = "image", price = 0.017, by_size = { ["1024x1024"] = 0.013 } },
    ["openai/dall-e-2"] = { unit = "image", price = 0.02 },
    ["fal/fal-ai/nano-banana/edit"] = { unit = "image", price = 0.039 },
  },

  --- Narration, by the characters sent.
  speech = {
    ["openai/gpt-4o-mini-tts"] = { unit = "million characters", price = 15, note = "about $0.015 a minute" },
    ["openai/tts-1"] = { unit = "million characters", price = 15 },
    ["openai/tts-1-hd"] = { unit = "million characters", price = 30 },
    ["elevenlabs/eleven_multilingual_v2"] = { unit = "thousand characters", price = 0.30 },
    ["elevenlabs/eleven_v3"] = { unit = "thousand characters", price = 0.30 },
    ["elevenlabs/eleven_turbo_v2_5"] = { unit = "thousand characters", price = 0.15 },
    ["elevenlabs/eleven_flash_v2_5"] = { unit = "thousand characters", price = 0.15 },
  },

  --- Image-to-video, by the seconds asked for (or the video).
  video = {
    ["openai/sora-2"] = { unit = "second", price = 0.10 },
    ["openai/sora-2-pro"] = { unit = "second", price = 0.30 },
    ["fal/fal-ai/kling-video/v2.1/standard/image-to-video"] = { unit = "second", price = 0.056 },
    ["fal/fal-ai/kling-video/v2.5-turbo/standard/image-to-video"] = { unit = "second", price = 0.042 },
    ["fal/fal-ai/minimax/video-01/image-to-video"] = { unit = "video", price = 0.50 },
  },
}
