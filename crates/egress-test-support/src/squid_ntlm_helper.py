#!/usr/bin/python3
"""A Squid NTLM authentication helper (the ntlmssp helper protocol) whose
server side is PyPI's pyspnego: `YR token` starts a negotiation and `KK
token` continues it; the answer is `TT token` (a challenge), `AF user`
(accepted) or `NA reason` (rejected). Users come from the file in
NTLM_USER_FILE (`DOMAIN:USER:PASSWORD` a line); pyspnego from the folder
in EGRESS_PYSPNEGO (scripts/test installs it there, world-readable, since
Squid runs helpers as its own user)."""

import base64
import os
import sys

sys.path.insert(0, os.environ["EGRESS_PYSPNEGO"])
import spnego  # noqa: E402
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # noqa: E402


def hashed_store(path):
    """The users of `path` (DOMAIN:USER:PASSWORD) in the smbpasswd format,
    hashed once, in a file of this helper's own: pyspnego otherwise hashes
    the password (pure-Python MD4) on every authentication, which a real
    proxy's backend (Samba, a domain controller) does not."""
    import atexit
    import tempfile

    lines = []
    with open(path) as users:
        for line in users.read().splitlines():
            domain, user, password = line.split(":", 2)
            name = domain + "\\" + user if domain else user
            lm = base64.b16encode(lmowfv1(password)).decode()
            nt = base64.b16encode(ntowfv1(password)).decode()
            lines.append(f"{name}:0:{lm}:{nt}:[U]:LCT-00000000\n")
    fd, hashed = tempfile.mkstemp(prefix="egress-ntlm-users-")
    with os.fdopen(fd, "w") as out:
        out.writelines(lines)
    atexit.register(os.remove, hashed)
    return hashed


os.environ["NTLM_USER_FILE"] = hashed_store(os.environ["NTLM_USER_FILE"])

context = None
for line in sys.stdin:
    command, _, token = line.strip().partition(" ")
    try:
        if command == "YR":
            context = spnego.server(protocol="ntlm")
        if context is None:
            print("BH no negotiation started", flush=True)
            continue
        answer = context.step(base64.b64decode(token))
        if context.complete:
            print("AF " + context.client_principal, flush=True)
            context = None
        else:
            print("TT " + base64.b64encode(answer).decode(), flush=True)
    except Exception as error:  # a bad token or wrong credentials
        print("NA " + type(error).__name__, flush=True)
        context = None
