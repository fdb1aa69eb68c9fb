"""Checks refverify.py's canonicalizer against the reference's own outputs
(canon_random.json, made by the reference 1.24 CLI). Exits 1 on a mismatch."""
import json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
from refverify import jcs_bytes, sha

d = json.load(open(sys.argv[1], encoding="utf-8"))
n = 0
for v in d["vectors"]:
    got = jcs_bytes(json.loads(v["input"]))
    if got.decode("utf-8") != v["canonical"] or sha(got) != v["sha256"]:
        print("mismatch:", v["input"], got)
        sys.exit(1)
    n += 1
print("ok", n)
