"""What hosts must see of the LV2 bundle, read from its one definition.

ttl/bundle.json and presets/presets.json plus the bundled model's labels and the display names of
models/genre-names.conf give, per variant, the full port list (audio ports,
then the control ports with the per-label ones expanded) and the presets.
The tests compare what lilv, lv2info or Carla report with this; written
apart from plugin/gen_bundle.cmake so a generator bug cannot hide itself.
"""
import json
import os
import re
import struct


def model_meta(model_path):
    with open(model_path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))["__metadata__"]


def display_names(conf_path):
    names = {}
    with open(conf_path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                label, name = (s.strip() for s in line.split("=", 1))
                names[label.lower()] = name
    return names


def display_name(names, label):
    return names.get(label.lower(), label[:1].upper() + label[1:])


class Bundle:
    """definition: ttl/bundle.json (its presets from presets/presets.json
    beside ttl/, unless it has its own); model: the bundle's
    model.safetensors; names: models/genre-names.conf; uri: the configured
    base URI."""

    def __init__(self, definition, model, names, uri):
        with open(definition, encoding="utf-8") as f:
            self.defn = json.load(f)
        if "presets" not in self.defn:
            presets = os.path.join(os.path.dirname(os.path.abspath(definition)), "..", "presets", "presets.json")
            with open(presets, encoding="utf-8") as f:
                self.defn["presets"] = json.load(f)["presets"]
        meta = model_meta(model)
        self.labels = json.loads(meta["labels"])
        nm = meta.get("not_music_label", "").strip('"')
        self.not_music = self.labels.index(nm) if nm in self.labels else -1
        self.names = display_names(names)
        self.uri = uri
        self.controls = self._controls()

    def _controls(self):
        out = []
        for c in self.defn["controls"]:
            maximum = c["maximum"]
            if maximum == "last_label":
                maximum = str(len(self.labels) - 1)
            base = {
                "direction": c["direction"],
                "default": float(c["default"]),
                "minimum": float(c["minimum"]),
                "maximum": float(maximum),
                "unit": c.get("unit"),
                "properties": c.get("properties", []),
                "designation": c.get("designation"),
                "comment": c.get("comment"),
                "scale_points": None,
            }
            if c.get("scale_points") == "genres":
                pts = [(-1.0, "none")]
                pts += [(float(i), display_name(self.names, l)) for i, l in enumerate(self.labels)
                        if i != self.not_music]
                base["scale_points"] = pts
            if c.get("per_label"):
                for label in self.labels:
                    sym = (c["symbol"] + re.sub(r"[^A-Za-z0-9_]", "_", label)).lower()
                    name = c["name"].replace("%s", display_name(self.names, label))
                    out.append(dict(base, symbol=sym, name=name))
            else:
                out.append(dict(base, symbol=c["symbol"], name=c["name"]))
        return out

    def variants(self):
        return [v["id"] for v in self.defn["variants"]]

    def plugin_uri(self, variant):
        return f"{self.uri}#{variant}"

    def variant(self, variant):
        return next(v for v in self.defn["variants"] if v["id"] == variant)

    def audio(self, variant):
        return self.variant(variant)["audio"]

    def ports(self, variant):
        """Every port of a variant in index order: audio ports as dicts with
        symbol/name/direction and kind 'audio', controls with kind 'control'."""
        ports = [dict(a, kind="audio") for a in self.audio(variant)]
        ports += [dict(c, kind="control") for c in self.controls]
        return ports

    def presets(self):
        """(id, label, {symbol: value}) for each preset."""
        return [(p["id"], p["label"], {k: float(v) for k, v in p["values"].items()})
                for p in self.defn["presets"]]

    def preset_uri(self, preset_id, variant):
        return f"{self.uri}/presets#{preset_id}-{variant}"
