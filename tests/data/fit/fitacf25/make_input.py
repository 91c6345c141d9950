#!/usr/bin/env python3
"""Derive a small rawacf test input from an existing one (used by make_references.sh).

usage: make_input.py IN OUT [--records A:B] [--nrang N] [--scale F] [--set name=value ...] [--rec I name=value ...]

  --records A:B       keep records A..B-1 (Python slice of the input's records)
  --nrang N           keep the first N ranges (nrang, pwr0, and the slist entries below N with their
                      acfd/xcfd columns)
  --scale F           multiply pwr0, acfd, xcfd and noise.search/noise.mean by F (float32 result)
  --set name=value    rewrite a scalar in every record (its type is kept)
  --rec I name=value  rewrite a scalar in record I (after --records) only
Needs dmap.py from ../shared/spec/tools (found through $RSTX_SHARED or ../shared beside the repo).
"""
import argparse, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get('RSTX_SHARED', os.path.join(here, '..', '..', '..', '..', '..', 'shared'))
sys.path.insert(0, os.path.join(shared, 'spec', 'tools'))
import dmap  # noqa: E402

f32 = lambda x: struct.unpack('<f', struct.pack('<f', x))[0]


def convert(t, v):
    if t == 9:
        return v
    return float(v) if t in (4, 8) else int(v)


def truncate_ranges(ar, n):
    """First n ranges only: pwr0[:n], slist entries < n and their acfd/xcfd columns."""
    by = {x[0]: x for x in ar}
    keep = [i for i, r in enumerate(by['slist'][3]) if r < n] if 'slist' in by else []
    out = []
    for name, t, dims, v in ar:
        if name == 'pwr0':
            dims, v = (n,), list(v[:n])
        elif name == 'slist':
            dims, v = (len(keep),), [v[i] for i in keep]
        elif name in ('acfd', 'xcfd'):
            per = dims[0] * dims[1]
            v = [x for i in keep for x in v[i * per:(i + 1) * per]]
            dims = (dims[0], dims[1], len(keep))
        out.append((name, t, dims, v))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--records', default=None)
    ap.add_argument('--nrang', type=int, default=None)
    ap.add_argument('--scale', type=float, default=None)
    ap.add_argument('--set', action='append', default=[])
    ap.add_argument('--rec', nargs=2, action='append', default=[])
    a = ap.parse_args()
    recs = dmap.parse(open(a.inp, 'rb').read())
    if a.records:
        lo, hi = (int(x) if x else None for x in a.records.split(':'))
        recs = recs[lo:hi]
    mods_all = dict(s.split('=', 1) for s in a.set)
    mods_rec = {}
    for i, s in a.rec:
        mods_rec.setdefault(int(i), {}).update([s.split('=', 1)])
    out = []
    for i, (code, size, sc, ar) in enumerate(recs):
        mods = dict(mods_all)
        mods.update(mods_rec.get(i, {}))
        sc2 = []
        for name, t, v in sc:
            if name in mods:
                v = convert(t, mods[name])
            if a.scale is not None and name in ('noise.search', 'noise.mean'):
                v = f32(v * a.scale)
            sc2.append((name, t, v))
        if a.nrang is not None:
            sc2 = [(n, t, a.nrang if n == 'nrang' else v) for n, t, v in sc2]
            ar = truncate_ranges(ar, a.nrang)
        ar2 = []
        for name, t, dims, v in ar:
            if a.scale is not None and name in ('pwr0', 'acfd', 'xcfd'):
                v = [f32(x * a.scale) for x in v]
            ar2.append((name, t, dims, v))
        out.append(dmap.encode(sc2, ar2))
    open(a.out, 'wb').write(b''.join(out))


if __name__ == '__main__':
    main()
