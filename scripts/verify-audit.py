#!/usr/bin/env python3
"""Independent verifier of a Deputy audit export (docs/audit.md, "Verify it yourself").

Written from docs/audit.md alone, with the Python standard library only (no Deputy code, no third-party
package). It checks, in this order:

  * every entry: its seq follows the one before (from the header's `from`), its tenant is the header's, its hash
    recomputes from its content in the canonical form it records (`canon` 1 or 2), and its prev_hash is the hash
    of the entry before (or the header's anchor_hash);
  * every checkpoint: its ES256 signature (ECDSA P-256 / SHA-256, implemented here from FIPS 186-5 / SEC 1),
    trust starting from the JWKS given with --jwks and extended to keys that a trusted checkpoint endorses in its
    `keys` claim (RFC 7638 thumbprints); its signed tenant/seq/head equal the line's; it agrees with the entry at
    its seq; a checkpoint beyond the last entry of the range means the tail was cut (`truncated`);
  * that the last entry is covered by a signed checkpoint (`unsigned` otherwise);
  * with --witness FILE: every witnessed checkpoint of the tenant (the broker's witness file lines, or bare
    compact JWS lines as an HTTP sink receives them) verifies, and the export agrees with it: `rewritten` (another
    hash at a witnessed seq), `cut` (a witnessed seq beyond the end of an export that runs to the head),
    `extended` (such an export goes on past the last witnessed head).

Keys other than EC P-256 cannot be checked here: a checkpoint signed by one is reported as
`checkpoint_signature` ("unsupported key").

Usage: verify-audit.py EXPORT.jsonl --jwks JWKS.json [--witness FILE] [--no-signatures]
Prints one JSON object (ok, problem, first_bad_seq, message, counts); exit 0 when ok, 1 when not, 2 on bad usage.
"""
import base64
import hashlib
import json
import sys

GENESIS = "0" * 64


# --- canonical forms -------------------------------------------------------------------------------------------

def _v1_string(s):
    """v1 string form: JSON escapes with every non-ASCII UTF-16 code unit as upper-case \\uXXXX."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif c in (0x08, 0x09, 0x0A, 0x0C, 0x0D):
            out.append({8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r'}[c])
        elif c < 0x20:
            out.append('\\u%04X' % c)
        elif c < 0x80:
            out.append(ch)
        elif c > 0xFFFF:
            v = c - 0x10000
            out.append('\\u%04X\\u%04X' % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
        else:
            out.append('\\u%04X' % c)
    out.append('"')
    return ''.join(out)


def _jcs_string(s):
    """RFC 8785 §3.2.2.2: only '"', '\\' and U+0000..U+001F are escaped; short forms where JSON has them."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif c in (0x08, 0x09, 0x0A, 0x0C, 0x0D):
            out.append({8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r'}[c])
        elif c < 0x20:
            out.append('\\u%04x' % c)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def _jcs_number(x):
    """RFC 8785 §3.2.2.3 (ECMAScript Number.prototype.toString) for the values audit details carry."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number")
    if isinstance(x, int):
        if abs(x) > 2 ** 53:
            x = float(x)  # an IEEE 754 double, like every JSON number in RFC 8785
        else:
            return str(x)
    if x != x or x in (float('inf'), float('-inf')):
        raise ValueError("NaN/Infinity are not JSON")
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)  # shortest round-trip digits, like ECMAScript
    if 'e' in r:
        mant, exp = r.split('e')
        e = int(exp)
        if -7 < e < 21:
            return format(x, 'f').rstrip('0').rstrip('.')
        return mant.rstrip('0').rstrip('.') + 'e' + ('+' if e > 0 else '-') + str(abs(e))
    return r


def jcs(v):
    """RFC 8785 canonical JSON text of a parsed JSON value."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _jcs_string(v)
    if isinstance(v, (int, float)):
        return _jcs_number(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        # §3.2.3: members sorted by their names as arrays of UTF-16 code units
        keys = sorted(v.keys(), key=lambda k: k.encode('utf-16-be'))
        return "{" + ",".join(_jcs_string(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise TypeError("not JSON: %r" % (v,))


FIELDS = ["type", "outcome", "subject", "subject_iss", "actor", "agent_id", "client_id", "resource", "scopes",
          "correlation_id", "request_id", "source_ip"]


def _details_text(e):
    d = e.get("details")
    if d is None or isinstance(d, str):
        return d
    return None  # an object: handled per version below


def entry_hash(e):
    """The hash an exported entry should have (None when its content cannot be put in its canonical form)."""
    canon = e.get("canon", 1)
    details = e.get("details")
    if canon == 1:
        if details is not None and not isinstance(details, str):
            # served as an object: v1 hashed Jackson's key-sorted text of it (non-ASCII escaped)
            details = _v1_details(details)
        parts = [_v1_string(e["tenant"]), str(int(e["time"]))]
        for name in FIELDS + ["details"]:
            val = e.get("event_type") if name == "type" else (details if name == "details" else e.get(name))
            parts.append("null" if val is None else _v1_string(val))
        text = e["prev_hash"] + "|" + "[" + ",".join(parts) + "]"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    if canon == 2:
        if isinstance(details, str):
            try:
                details = json.loads(details)
            except ValueError:
                return None
        if details is not None and not isinstance(details, dict):
            return None
        obj = {"canon": 2, "tenant": e["tenant"], "time": int(e["time"]), "details": details,
               "prev_hash": e["prev_hash"]}
        for name in FIELDS:
            obj[name] = e.get("event_type") if name == "type" else e.get(name)
        return hashlib.sha256(jcs(obj).encode("utf-8")).hexdigest()
    return None


def _v1_details(d):
    if isinstance(d, dict):
        return "{" + ",".join(_v1_string(k) + ":" + _v1_value(d[k]) for k in sorted(d)) + "}"
    return _v1_value(d)


def _v1_value(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _v1_string(v)
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[" + ",".join(_v1_value(x) for x in v) + "]"
    return _v1_details(v)


# --- ES256 (ECDSA over P-256 with SHA-256), from the curve parameters of FIPS 186-5 / SEC 2 ---------------------

P = 2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1
A = P - 3
B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def _on_curve(q):
    x, y = q
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


# Jacobian coordinates (X, Y, Z) ~ (X/Z², Y/Z³); None is the point at infinity
def _jdouble(p1):
    if p1 is None:
        return None
    x, y, z = p1
    if y == 0:
        return None
    s = 4 * x * y * y % P
    m = (3 * x * x + A * pow(z, 4, P)) % P
    x3 = (m * m - 2 * s) % P
    y3 = (m * (s - x3) - 8 * pow(y, 4, P)) % P
    z3 = 2 * y * z % P
    return (x3, y3, z3)


def _jadd(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    if u1 == u2:
        return _jdouble(p1) if s1 == s2 else None
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    h2 = h * h % P
    h3 = h * h2 % P
    x3 = (r * r - h3 - 2 * u1 * h2) % P
    y3 = (r * (u1 * h2 - x3) - s1 * h3) % P
    z3 = h * z1 * z2 % P
    return (x3, y3, z3)


def _jmul(k, q):
    acc = None
    add = (q[0], q[1], 1)
    while k:
        if k & 1:
            acc = _jadd(acc, add)
        add = _jdouble(add)
        k >>= 1
    return acc


def es256_verify(x, y, message, sig):
    q = (x, y)
    if not _on_curve(q) or len(sig) != 64:
        return False
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        return False
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, N)
    pt = _jadd(_jmul(e * w % N, G), _jmul(r * w % N, q))
    if pt is None:
        return False
    X, _, Z = pt
    return (X * pow(Z * Z, -1, P)) % P % N == r


# --- JOSE bits ---------------------------------------------------------------------------------------------------

def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_enc(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def thumbprint(jwk):
    """RFC 7638 thumbprint (SHA-256, base64url) of a public JWK."""
    kty = jwk.get("kty")
    if kty == "EC":
        members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    elif kty == "RSA":
        members = {k: jwk[k] for k in ("e", "kty", "n")}
    elif kty == "OKP":
        members = {k: jwk[k] for k in ("crv", "kty", "x")}
    else:
        raise ValueError("unknown kty")
    text = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64u_enc(hashlib.sha256(text.encode("utf-8")).digest())


def parse_jws(jws):
    h, p, s = jws.split(".")
    return json.loads(b64u(h)), json.loads(b64u(p)), (h + "." + p).encode("ascii"), b64u(s)


def jws_problem(tenant, seq, head, jws, jwk, check_signatures):
    """None when the checkpoint JWS is well formed, verifies with jwk and says (tenant, seq, head)."""
    try:
        header, claims, signing_input, sig = parse_jws(jws)
    except (ValueError, KeyError):
        return "checkpoint %d: unreadable JWS" % seq
    if header.get("typ") != "deputy-audit-checkpoint+jwt":
        return "checkpoint %d has the wrong JWS typ" % seq
    if check_signatures:
        if header.get("alg") != "ES256" or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            return "checkpoint %d: unsupported key (this verifier checks ES256 / P-256 only)" % seq
        x = int.from_bytes(b64u(jwk["x"]), "big")
        y = int.from_bytes(b64u(jwk["y"]), "big")
        if not es256_verify(x, y, signing_input, sig):
            return "checkpoint %d: signature does not verify (forged or altered)" % seq
    if claims.get("tenant") != tenant or claims.get("seq") != seq or claims.get("head") != head:
        return "checkpoint %d: stored tenant/seq/head differ from what was signed (altered)" % seq
    return None


def verify_checkpoints(tenant, cps, roots, check_signatures):
    """Trust from the JWKS, extended by endorsement. Returns (problems by seq, trusted keys by thumbprint, n)."""
    trusted = {}
    for k in roots:
        try:
            trusted[thumbprint(k)] = k
        except (KeyError, ValueError):
            pass
    candidates, by_thumb, problems = {}, {}, {}
    for c in cps:
        try:
            k = json.loads(c["public_jwk"])
            t = thumbprint(k)
        except (ValueError, KeyError, TypeError):
            problems[c["seq"]] = "checkpoint %d carries an unreadable public key" % c["seq"]
            continue
        candidates[t] = k
        by_thumb.setdefault(t, []).append(c)
    work, done, verified = list(trusted), set(), 0
    while work:
        t = work.pop()
        if t in done:
            continue
        done.add(t)
        for c in by_thumb.get(t, []):
            p = jws_problem(tenant, c["seq"], c["head"], c["jws"], trusted[t], check_signatures)
            if p:
                problems[c["seq"]] = p
                continue
            verified += 1
            for endorsed in parse_jws(c["jws"])[1].get("keys", []):
                if endorsed in candidates and endorsed not in trusted:
                    trusted[endorsed] = candidates[endorsed]
                    work.append(endorsed)
    for t, lst in by_thumb.items():
        if t not in trusted:
            for c in lst:
                problems.setdefault(c["seq"], "checkpoint %d is signed by key %s, which is neither in the JWKS nor "
                                              "endorsed by a trusted checkpoint" % (c["seq"], c.get("kid")))
    return problems, trusted, verified


# --- the export ----------------------------------------------------------------------------------------------------

def verify(lines, jwks, witness_lines=None, check_signatures=True):
    res = {"ok": False, "tenant": None, "entries": 0, "signed_through": 0, "checkpoints_verified": 0,
           "witness_checked": 0, "witnessed_through": 0}

    def bad(problem, seq, message):
        res.update(ok=False, problem=problem, first_bad_seq=seq, message=message)
        return res

    header, cps, hashes = None, [], {}
    expected, prev, count, broken = 0, None, 0, None
    for raw in lines:
        if not raw.strip():
            continue
        m = json.loads(raw)
        kind = m.get("type")
        if kind == "header":
            header = m
            res.update(tenant=m["tenant"], **{"from": m["from"], "to": m["to"]})
            expected, prev = m["from"], m.get("anchor_hash")
        elif kind == "entry":
            if header is None:
                return bad("format", 0, "entry before header")
            if broken:
                continue
            seq = m["seq"]
            if seq != expected:
                broken = ("deleted", expected, "entries %d..%d are missing from the export" % (expected, seq - 1))
            elif m["tenant"] != header["tenant"]:
                broken = ("edited", seq, "entry %d is of another tenant" % seq)
            elif entry_hash(m) != m["hash"]:
                broken = ("edited", seq, "entry %d's content does not match its hash" % seq)
            elif prev is not None and prev != m["prev_hash"]:
                broken = ("broken_link", seq, "entry %d does not link to the entry before it" % seq)
            else:
                prev = m["hash"]
                hashes[seq] = m["hash"]
                expected += 1
                count += 1
        elif kind == "checkpoint":
            cps.append(m)
    res["entries"] = count
    if header is None:
        return bad("format", 0, "no header line")
    if broken:
        return bad(*broken)
    tenant, first, to = header["tenant"], header["from"], header["to"]
    last = expected - 1
    problems, trusted, verified = verify_checkpoints(tenant, cps, jwks.get("keys", []), check_signatures)
    res["checkpoints_verified"] = verified
    if problems:
        seq = next(iter(problems))  # noqa: the first reported
        seq = min(problems)
        return bad("checkpoint_signature", seq, problems[seq])
    signed = first - 1
    for c in cps:
        if first <= c["seq"] <= last:
            if c["head"] != hashes.get(c["seq"]):
                return bad("checkpoint_mismatch", c["seq"], "entry %d differs from the signed checkpoint" % c["seq"])
            signed = max(signed, c["seq"])
        elif last < c["seq"] <= to:
            return bad("truncated", last + 1, "a signed checkpoint records entry %d but the export ends at %d"
                       % (c["seq"], last))
    res["signed_through"] = signed
    if last < to:
        return bad("truncated", last + 1, "the header says the range ends at %d but the entries end at %d" % (to, last))
    outcome = None
    if signed < last:
        outcome = ("unsigned", signed + 1, "entries %d..%d are not covered by a signed checkpoint" % (signed + 1, last))
    if witness_lines is not None:
        w = check_witness(tenant, first, last, hashes, header.get("through_head") is True, witness_lines, jwks,
                          trusted, cps, check_signatures, res)
        if w:
            return bad(*w)
    if outcome:
        return bad(*outcome)
    res["ok"] = True
    return res


def check_witness(tenant, first, last, hashes, through_head, lines, jwks, trusted, cps, check_signatures, res):
    by_kid = {}
    for c in cps:
        try:
            k = json.loads(c["public_jwk"])
            if thumbprint(k) in trusted:
                by_kid[c["kid"]] = k
        except (ValueError, KeyError):
            pass
    for k in jwks.get("keys", []):
        by_kid[k.get("kid")] = k
    checked, through = 0, 0
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        try:
            if line.startswith("{"):
                m = json.loads(line)
                if m.get("type") != "checkpoint":
                    continue
                jws = m["jws"]
            else:
                jws = line
            header, claims, _, _ = parse_jws(jws)
        except (ValueError, KeyError):
            continue
        if claims.get("tenant") != tenant or not isinstance(claims.get("seq"), int):
            continue
        seq, head = claims["seq"], claims.get("head")
        key = by_kid.get(header.get("kid"))
        p = ("witnessed checkpoint %d is signed by key %s, which is neither in the JWKS nor endorsed by a trusted "
             "checkpoint" % (seq, header.get("kid"))) if key is None else \
            jws_problem(tenant, seq, head, jws, key, check_signatures)
        if p:
            return ("witness_signature", seq, p)
        checked += 1
        through = max(through, seq)
        res.update(witness_checked=checked, witnessed_through=through)
        if first <= seq <= last:
            if hashes.get(seq) != head:
                return ("rewritten", seq, "entry %d is not the entry the witness saw: the chain was rewritten at or "
                                          "before it" % seq)
        elif seq > last and through_head:
            return ("cut", last + 1, "the witness saw entry %d but the chain ends at %d: entries %d..%d were removed"
                    % (seq, last, last + 1, seq))
    if checked and through_head and last > through:
        return ("extended", through + 1, "entries %d..%d follow the last witnessed head (%d): not witnessed"
                % (through + 1, last, through))
    return None


def main(argv):
    args, opts, i = [], {}, 0
    while i < len(argv):
        a = argv[i]
        if a == "--no-signatures":
            opts["no-signatures"] = True
        elif a in ("--jwks", "--witness"):
            if i + 1 >= len(argv):
                return usage()
            opts[a[2:]] = argv[i + 1]
            i += 1
        else:
            args.append(a)
        i += 1
    if len(args) != 1 or "jwks" not in opts:
        return usage()
    with open(opts["jwks"], encoding="utf-8") as f:
        jwks = json.load(f)
    with open(args[0], encoding="utf-8") as f:
        lines = f.read().split("\n")
    witness = None
    if "witness" in opts:
        with open(opts["witness"], encoding="utf-8") as f:
            witness = f.read().split("\n")
    r = verify(lines, jwks, witness, not opts.get("no-signatures"))
    print(json.dumps(r, ensure_ascii=False))
    return 0 if r["ok"] else 1


def usage():
    sys.stderr.write("usage: verify-audit.py EXPORT.jsonl --jwks JWKS.json [--witness FILE] [--no-signatures]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
