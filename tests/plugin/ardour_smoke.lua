-- Ardour headless (ardour7-lua) smoke test: a session on the Dummy backend
-- with pink noise on its inputs, a stereo track monitoring its input, and
-- Genrescope (stereo) inserted on it. After ~5 s with a 3 s window the
-- plugin must have answered with a full window and latency 0: pink noise is
-- not music, so the genre is "none" (-1) with confidence 0 and the not-music
-- probability at least 0.5 (a model without a not-music label must report
-- some genre with confidence > 0 instead).
-- GS_SESSION_DIR and GS_PLUGIN_URI come from the environment.
local dir = os.getenv("GS_SESSION_DIR")
local uri = os.getenv("GS_PLUGIN_URI") .. "#stereo"

ARDOUR.config():set_hide_dummy_backend(false)
assert(AudioEngine:set_backend("None (Dummy)", "", ""), "no dummy backend")
AudioEngine:set_device_name("Pink Noise")
AudioEngine:set_sample_rate(48000)
AudioEngine:set_buffer_size(1024)

local s = create_session(dir, "gs", 48000)
assert(s, "cannot create session")
local tl = Session:new_audio_track(2, 2, nil, 1, "gs",
  ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
local track = tl:front()
track:monitoring_control():set_value(ARDOUR.MonitorChoice.MonitorInput,
  PBD.GroupControlDisposition.NoGroup)
-- Feed the generated capture signal to the track.
track:input():disconnect_all(nil)
track:input():audio(0):connect("system:capture_1")
track:input():audio(1):connect("system:capture_2")

local proc = ARDOUR.LuaAPI.new_plugin(Session, uri, ARDOUR.PluginType.LV2, "")
assert(not proc:isnil(), "Ardour cannot load " .. uri)
assert(track:add_processor_by_index(proc, 0, nil, true) == 0, "cannot insert the plugin")
-- control inputs in port order: window, update, smoothing
ARDOUR.LuaAPI.set_processor_param(proc, 0, 3.0)
ARDOUR.LuaAPI.set_processor_param(proc, 1, 0.5)
ARDOUR.LuaAPI.set_processor_param(proc, 2, 0.0)

ARDOUR.LuaAPI.usleep(6000000)

local pi = proc:to_insert()
-- n counts control ports: window 0, update 1, smoothing 2, genre 3,
-- confidence 4, fill 5, latency 6
local function get(n)
  local v = ARDOUR.LuaAPI.get_plugin_insert_param(pi, n, false)
  return v
end
local genre, conf, fill, lat = get(3), get(4), get(5), get(6)
local nm_port = tonumber(os.getenv("GS_NOT_MUSIC_PORT") or "-1")
local not_music = nm_port >= 0 and get(nm_port) or -1
print(string.format("ardour: genre=%g confidence=%g fill=%g latency=%g not_music=%g", genre, conf, fill, lat,
                    not_music))
local answered
if nm_port >= 0 then
  answered = genre == -1 and conf == 0 and not_music >= 0.5
else
  answered = genre >= 0 and genre == math.floor(genre) and conf > 0 and conf <= 1
end
local ok = answered and fill == 1 and lat == 0
Session:save_state("", false, false, false, false, false)
close_session()
if ok then print("GS_ARDOUR_OK") else print("GS_ARDOUR_FAIL") end
quit()
