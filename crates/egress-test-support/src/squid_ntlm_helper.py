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
