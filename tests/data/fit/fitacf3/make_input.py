#!/usr/bin/env python3
"""Derive a small rawacf test input for the FITACF 3.0 references (see MANIFEST).

usage: make_input.py IN OUT [options]
  --records A:B        keep records A..B-1 (a Python slice)
  --set name=value     rewrite a scalar in every record (its type is kept)
  --rec I name=value   rewrite a scalar in record I (after --records) only
  --scale F            multiply pwr0, acfd, xcfd, noise.search by F (float32 result)
  --pwr0 I R=V         set pwr0[R] of record I to V
  --unlist K           drop every K-th range from slist (and its acfd/xcfd columns), ROS style
  --cf-lags L          give acfd/xcfd L lags per range (first L kept, or zeros appended): RST then
                       reads the values with mixed strides
  --no-xcfd            remove the xcfd array (keeping xcf as it is)
  --ltab-extra N       append N rows of (0, 0) to the lag table
Needs dmap.py from ../shared/spec/tools ($RSTX_SHARED or ../shared beside the repository).
"""
import argparse, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get('RSTX_SHARED', os.path.join(here, '..', '..', '..', '..', '..', 'shared'))
sys.path.insert(0, os.path.join(shared, 'spec', 'tools'))
import dmap  # noqa: E402

f32 = lambda x: struct.unpack('<f', struct.pack('<f', x))[0]


def convert(t, v):
    return v if t == 9 else (float(v) if t in (4, 8) else int(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp'); ap.add_argument('out')
    ap.add_argument('--records'); ap.add_argument('--scale', type=float)
    ap.add_argument('--set', action='append', default=[])
    ap.add_argument('--rec', nargs=2, action='append', default=[])
    ap.add_argument('--pwr0', nargs=2, action='append', default=[])
    ap.add_argument('--unlist', type=int); ap.add_argument('--cf-lags', type=int)
    ap.add_argument('--no-xcfd', action='store_true'); ap.add_argument('--ltab-extra', type=int)
    a = ap.parse_args()
    recs = dmap.parse(open(a.inp, 'rb').read())
    if a.records:
        lo, hi = (int(x) if x else None for x in a.records.split(':'))
        recs = recs[lo:hi]
    out = []
    for i, (code, size, sc, ar) in enumerate(recs):
        mods = dict(s.split('=', 1) for s in a.set)
        mods.update(dict(s.split('=', 1) for r, s in a.rec if int(r) == i))
        sc = [(n, t, convert(t, mods[n]) if n in mods else v) for n, t, v in sc]
        if a.scale is not None:
            sc = [(n, t, f32(v * a.scale) if n == 'noise.search' else v) for n, t, v in sc]
        by = {x[0]: x for x in ar}
        keep = list(range(len(by['slist'][3]))) if 'slist' in by else []
        if a.unlist:
            keep = [k for k in keep if (k + 1) % a.unlist != 0]
        new = []
        for name, t, dims, v in ar:
            v = list(v)
            if name == 'pwr0':
                for r, s in a.pwr0:
                    if int(r) == i:
                        g, val = s.split('=')
                        v[int(g)] = f32(float(val))
            if name == 'slist':
                v = [v[k] for k in keep]; dims = (len(v),)
            if name in ('acfd', 'xcfd'):
                if name == 'xcfd' and a.no_xcfd:
                    continue
                per = dims[0] * dims[1]
                rows = [v[k * per:(k + 1) * per] for k in keep]
                if a.cf_lags is not None:
                    L = a.cf_lags
                    rows = [(r[:2 * L] + [0.0] * max(0, 2 * L - len(r))) for r in rows]
                    dims = (2, L, len(rows))
                else:
                    dims = (dims[0], dims[1], len(rows))
                v = [x for r in rows for x in r]
            if name == 'ltab' and a.ltab_extra:
                v = v + [0, 0] * a.ltab_extra; dims = (2, dims[1] + a.ltab_extra)
            if a.scale is not None and name in ('pwr0', 'acfd', 'xcfd'):
                v = [f32(x * a.scale) for x in v]
            new.append((name, t, dims, v))
        out.append(dmap.encode(sc, new))
    open(a.out, 'wb').write(b''.join(out))


if __name__ == '__main__':
    main()
