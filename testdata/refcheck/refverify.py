"""An independent, stdlib-only re-statement of the reference verifier's
reading rules (assay-ai 1.24, pack-format.md §2 and §5.3), used to check
that packs built by the Go code would pass the Python reference:

* lines split with str.splitlines() (the reference's rule, DECISIONS 7),
* receipts parsed with json.loads and canonicalized by the reference's
  profile, written here in Python (Python floats and repr, not Go's),
* head_hash, attestation hash, D12, file hashes, Ed25519 over the canonical
  manifest (RFC 8032 reference arithmetic, no third-party module).

Prints "PASS" and exits 0, or prints each error and exits 2.
"""
import base64, hashlib, json, math, os, sys

# --- the reference's canonical JSON profile (pack-format.md §2.1) ---------

def _key(k):
    return k.encode("utf-16-be")

def _num(f):
    if math.isinf(f) or math.isnan(f):
        raise ValueError("non-finite")
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    r = repr(abs(f))
    if "e" in r:
        mant, exp = r.split("e")
        exp = int(exp)
    else:
        mant, exp = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = (ip + fp).lstrip("0")
    # decimal exponent of the first significant digit
    if ip.strip("0"):
        adj = len(ip.lstrip("0")) - 1 + exp
    else:
        adj = -(len(fp) - len(fp.lstrip("0"))) - 1 + exp
    digits = digits.rstrip("0") or "0"
    if -6 <= adj <= 20:
        if adj < 0:
            s = "0." + "0" * (-adj - 1) + digits
        elif len(digits) <= adj + 1:
            s = digits + "0" * (adj + 1 - len(digits))
        else:
            s = digits[: adj + 1] + "." + digits[adj + 1 :]
    else:
        s = digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + "E" + str(adj)
    return sign + s

def jcs(v, ascii_keys=False):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(jcs(e, ascii_keys) for e in v) + "]"
    if isinstance(v, dict):
        for k in v:
            if ascii_keys and not k.isascii():
                raise ValueError("non-ASCII key")
        items = sorted(v.items(), key=lambda kv: _key(kv[0]))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jcs(x, ascii_keys) for k, x in items) + "}"
    raise TypeError(type(v))

def jcs_bytes(v, ascii_keys=False):
    return jcs(v, ascii_keys).encode("utf-8")

def sha(b):
    return hashlib.sha256(b).hexdigest()

# --- Ed25519 verification (RFC 8032 §5.1.7, reference arithmetic) ---------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
I = pow(2, (P - 1) // 4, P)

def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * I % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x

G_Y = 4 * pow(5, P - 2, P) % P
G = (_recover_x(G_Y, 0), G_Y, 1, _recover_x(G_Y, 0) * G_Y % P)

def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)

def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q

def _eq(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0

def _decompress(b):
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)

def ed25519_verify(pub, msg, sig):
    if len(pub) != 32 or len(sig) != 64:
        return False
    a = _decompress(pub)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % L
    return _eq(_mul(s, G), _add(r, _mul(h, a)))

# --- the verifier's stages (pack-format.md §5.3) ---------------------------

STRIP_V0 = ("signatures", "signature", "cose_signature", "receipt_hash", "anchor")

def verify(d):
    errs = []
    man = json.load(open(os.path.join(d, "pack_manifest.json"), encoding="utf-8"))
    att = man["attestation"]
    for f in man["files"]:
        p = os.path.realpath(os.path.join(d, f["path"]))
        if not p.startswith(os.path.realpath(d) + os.sep):
            errs.append("E_PATH_ESCAPE " + f["path"])
            continue
        if not os.path.exists(p):
            errs.append("E_MANIFEST_TAMPER missing " + f["path"])
        elif sha(open(p, "rb").read()) != f["sha256"]:
            errs.append("E_MANIFEST_TAMPER hash " + f["path"])
    for n in man["expected_files"]:
        if not os.path.exists(os.path.join(d, n)):
            errs.append("E_MANIFEST_TAMPER expected missing " + n)
    text = open(os.path.join(d, "receipt_pack.jsonl"), "rb").read().decode("utf-8")
    receipts = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            receipts.append(json.loads(line))
        except ValueError:
            errs.append("E_MANIFEST_TAMPER invalid JSON at line %d" % (i + 1))
            break
    if man["receipt_count_expected"] != len(receipts):
        errs.append("E_PACK_OMISSION_DETECTED %d != %d" % (man["receipt_count_expected"], len(receipts)))
    ok, seen = True, set()
    for r in receipts:
        if not r.get("receipt_id") or not r.get("type") or not r.get("timestamp"):
            ok = False
        try:
            jcs_bytes({k: v for k, v in r.items() if k not in STRIP_V0}, True)
        except (ValueError, TypeError):
            ok = False
        if r.get("receipt_id") in seen:
            ok = False
        seen.add(r.get("receipt_id"))
    if ("PASS" if ok else "FAIL") != att.get("receipt_integrity"):
        errs.append("E_MANIFEST_TAMPER receipt_integrity")
    if receipts:
        head = sha(jcs_bytes({k: v for k, v in receipts[-1].items() if k not in STRIP_V0}, True))
    else:
        head = sha(b"empty")
    if head != att.get("head_hash"):
        errs.append("E_MANIFEST_TAMPER head_hash")
    if sha(jcs_bytes(att)) != man["attestation_sha256"]:
        errs.append("E_MANIFEST_TAMPER attestation_sha256")
    sig = base64.b64decode(man["signature"])
    if open(os.path.join(d, "pack_signature.sig"), "rb").read() != sig:
        errs.append("E_PACK_SIG_INVALID detached")
    pub = base64.b64decode(man["signer_pubkey"])
    if sha(pub) != man["signer_pubkey_sha256"]:
        errs.append("E_PACK_SIG_INVALID fingerprint")
    msg = jcs_bytes({k: v for k, v in man.items() if k not in ("signature", "pack_root_sha256")})
    if not ed25519_verify(pub, msg, sig):
        errs.append("E_PACK_SIG_INVALID signature")
    if man["pack_root_sha256"] != man["attestation_sha256"]:
        errs.append("E_MANIFEST_TAMPER d12")
    return errs

if __name__ == "__main__":
    errors = verify(sys.argv[1])
    if errors:
        print("\n".join(errors))
        sys.exit(2)
    print("PASS")
