"""The bundle's TTL says what its definition says.

usage: check_ttl.py BUNDLE_DIR DEFINITION NAMES URI
Reads the bundle's TTL through sordi (N-Triples) and compares, for every
variant of ttl/bundle.json: each port (index, symbol, name, direction,
range, default, unit, properties, designation, scale points), the version,
license, project homepage and maintainer, and the presets (one per variant,
applying to it, with the definition's label and values). Prints one line
per mismatch; exit 1 when there is any.
"""
import os
import re
import subprocess
import sys

from bundle_def import Bundle

LV2 = "http://lv2plug.in/ns/lv2core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DOAP = "http://usefulinc.com/ns/doap#"
FOAF = "http://xmlns.com/foaf/0.1/"
UNITS = "http://lv2plug.in/ns/extensions/units#"
PSET = "http://lv2plug.in/ns/ext/presets#"
PREFIX = {"lv2": LV2, "units": UNITS}

TERM = r'(<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:\^\^<[^>]*>|@\S+)?)'
TRIPLE = re.compile(rf"^{TERM}\s+{TERM}\s+{TERM}\s*\.$")


def value(term):
    if term.startswith("<"):
        return term[1:-1]
    if term.startswith('"'):
        return re.match(r'"((?:[^"\\]|\\.)*)"', term).group(1).encode().decode("unicode_escape")
    return term


def load(path, base):
    out = subprocess.run(["sordi", "-i", "turtle", "-o", "ntriples", path, base],
                         check=True, capture_output=True, text=True).stdout
    triples = []
    for line in out.splitlines():
        m = TRIPLE.match(line.strip())
        if m:
            # Blank node labels are per file: keep them apart.
            triples.append(tuple(x.replace("_:", f"_:{os.path.basename(path)}.", 1)
                                 if x.startswith("_:") else x for x in m.groups()))
    return triples


class Graph:
    def __init__(self, triples):
        # manifest.ttl repeats what hosts need before loading the rest.
        self.t = sorted({(value(s), value(p), value(o)) for s, p, o in triples})

    def objects(self, s, p):
        return [o for (ss, pp, o) in self.t if ss == s and pp == p]

    def one(self, s, p):
        objs = self.objects(s, p)
        return objs[0] if len(objs) == 1 else None

    def subjects(self, p, o):
        return [s for (s, pp, oo) in self.t if pp == p and oo == o]


def expand(curie):
    prefix, local = curie.split(":", 1)
    return PREFIX[prefix] + local


def main():
    bundle_dir, definition, names, uri = sys.argv[1:5]
    model = os.path.join(bundle_dir, "model.safetensors")
    b = Bundle(definition, model, names, uri)
    base = "file://" + os.path.abspath(bundle_dir) + "/"
    triples = []
    for f in ("manifest.ttl", "genrescope.ttl", "presets.ttl"):
        triples += load(os.path.join(bundle_dir, f), base + f)
    g = Graph(triples)
    errors = []

    def expect(what, got, want):
        if got != want:
            errors.append(f"{what}: {got!r}, expected {want!r}")

    d = b.defn
    for v in b.variants():
        p = b.plugin_uri(v)
        expect(f"{v} name", g.one(p, DOAP + "name"), b.variant(v)["name"])
        expect(f"{v} minorVersion", g.one(p, LV2 + "minorVersion"), d["version"]["minor"])
        expect(f"{v} microVersion", g.one(p, LV2 + "microVersion"), d["version"]["micro"])
        expect(f"{v} license", g.one(p, DOAP + "license"), d["license"])
        project = g.one(p, LV2 + "project")
        expect(f"{v} project", project, d["homepage"])
        expect(f"{v} project homepage", g.one(project, DOAP + "homepage"), d["homepage"])
        maint = g.one(project, DOAP + "maintainer")
        expect(f"{v} maintainer", maint and g.one(maint, FOAF + "name"), d["maintainer"])

        ports = {}
        for node in g.objects(p, LV2 + "port"):
            ports[int(g.one(node, LV2 + "index"))] = node
        want = b.ports(v)
        expect(f"{v} port indices", sorted(ports), list(range(len(want))))
        for i, w in enumerate(want):
            node = ports.get(i)
            if node is None:
                continue
            what = f"{v} port {i} ({w['symbol']})"
            types = set(g.objects(node, RDF + "type"))
            io = LV2 + ("InputPort" if w["direction"] == "in" else "OutputPort")
            kind = LV2 + ("AudioPort" if w["kind"] == "audio" else "ControlPort")
            expect(f"{what} types", types, {io, kind})
            expect(f"{what} symbol", g.one(node, LV2 + "symbol"), w["symbol"])
            expect(f"{what} name", g.one(node, LV2 + "name"), w["name"])
            if w["kind"] == "audio":
                continue
            for k in ("default", "minimum", "maximum"):
                got = g.one(node, LV2 + k)
                expect(f"{what} {k}", got is not None and float(got), w[k])
            unit = g.one(node, UNITS + "unit")
            expect(f"{what} unit", unit, w["unit"] and UNITS + w["unit"])
            expect(f"{what} properties", set(g.objects(node, LV2 + "portProperty")),
                   {expand(x) for x in w["properties"]})
            expect(f"{what} designation", g.one(node, LV2 + "designation"),
                   w["designation"] and expand(w["designation"]))
            pts = sorted((float(g.one(sp, RDF + "value")), g.one(sp, RDFS + "label"))
                         for sp in g.objects(node, LV2 + "scalePoint"))
            expect(f"{what} scale points", pts, sorted(w["scale_points"] or []))

        for pid, label, values in b.presets():
            pu = b.preset_uri(pid, v)
            what = f"preset {pid} of {v}"
            expect(f"{what} type", PSET + "Preset" in g.objects(pu, RDF + "type"), True)
            expect(f"{what} applies to", g.objects(pu, LV2 + "appliesTo"), [p])
            expect(f"{what} label", g.one(pu, RDFS + "label"), label)
            got = {g.one(n, LV2 + "symbol"): float(g.one(n, PSET + "value"))
                   for n in g.objects(pu, LV2 + "port")}
            expect(f"{what} values", got, values)
        expect(f"{v}: presets", len(g.subjects(LV2 + "appliesTo", p)), len(b.presets()))

    for e in errors:
        print("FAIL:", e)
    print(f"check_ttl: {len(b.variants())} variants, {len(b.controls)} controls, "
          f"{len(b.presets())} presets checked against {definition}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
