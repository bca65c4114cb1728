"""Attacker-shaped values, bodies and request mutations for the fuzz tests.

Each function draws from the ``random.Random`` it is given, so a seed replays
the same inputs (see ``fuzzing``).
"""

from __future__ import annotations

import random

from webhookverify import InvalidRequest, WebhookRequest

from fuzzing import FORM_TYPE, JSON_BODY, URL

# -- attacker-shaped values ---------------------------------------------------------


def _digits(zero: int, number: str = "1700000000") -> str:
    """``number`` in another script's digits (``zero`` is that script's 0)."""
    return "".join(chr(zero + int(digit)) for digit in number)


TIMESTAMPS = [
    "",
    " ",
    "1700000000",
    " 1700000000",
    "1700000000 ",
    "+1700000000",
    "-1700000000",
    "-0",
    "01700000000",
    "1700000000.5",
    "1.7e9",
    "1.7E+9",
    "1_700_000_000",
    "0x6553f100",
    _digits(0x0660),  # Arabic-Indic digits: int() takes them, a header parser must not
    _digits(0xFF10),  # fullwidth digits
    "1700000000\x00",
    "9" * 40,
    "9" * 5000,
    "NaN",
    "inf",
    "-inf",
    "1700000000000",
    "2023-11-14T22:13:20Z",
    "2023-11-14T22:13:20+00:00",
    "2023-11-14T22:13:20.123456789123Z",
    "2023-11-14 22:13:20Z",
    "2023-11-14T22:13:20+25:00",
    "2023-13-45T99:99:99Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2023-11-14T22:13:20",
    _digits(0xFF10, "2023") + "-11-14T22:13:20Z",
]

TOKENS = [
    "",
    ",",
    ";",
    " ",
    "\t",
    "=",
    "==",
    "t=",
    "v1=",
    "v0=",
    "ts=",
    "h1=",
    "v1,",
    "v1a,",
    "sha256=",
    "sha1=",
    "Bearer ",
    "0" * 64,
    "A" * 43 + "=",
    "A" * 86 + "==",
    "%%",
    "\u00e9",
    "\u2028",
    "\ud800",
    "\x00",
    "\x7f",
    "\r\n",
    "1700000000",
    "-",
    "_",
    "+/",
]

SEPARATORS = [",", ";", " ", ", ", "\t", ",,", "", "=", "|"]


def signature_list(rng: random.Random) -> str:
    """A header such as ``t=..,v1=..``: many, empty or odd entries, odd separators."""
    count = rng.choice([0, 1, 2, 3, 10, 100, 2000])
    separator = rng.choice(SEPARATORS)
    return separator.join("".join(rng.choices(TOKENS, k=rng.randint(0, 4))) for _ in range(count))


def mutate_text(rng: random.Random, text: str) -> str:
    """One structured change of a header value."""
    choice = rng.randrange(9)
    index = rng.randint(0, len(text))
    if choice == 0 and text:  # replace a character
        index = min(index, len(text) - 1)
        return text[:index] + rng.choice("0aAz=,;. -+/_\u00e9\x00") + text[index + 1 :]
    if choice == 1:  # insert a token
        return text[:index] + rng.choice(TOKENS + SEPARATORS) + text[index:]
    if choice == 2 and text:  # delete a run
        return text[:index] + text[index + rng.randint(1, 8) :]
    if choice == 3:
        return rng.choice(TIMESTAMPS)
    if choice == 4:
        return signature_list(rng)
    if choice == 5:  # repeat the value as a list
        return rng.choice(SEPARATORS).join([text] * rng.randint(2, 50))
    if choice == 6:
        return text + rng.choice(SEPARATORS) + rng.choice(TOKENS) + rng.choice(TIMESTAMPS)
    if choice == 7:  # swap case
        return text.swapcase()
    return text[:index]  # truncate


# -- attacker-shaped bodies ---------------------------------------------------------


def _json_body(rng: random.Random) -> bytes:
    depth = rng.choice([10, 1000, 10_000])
    pick = rng.randrange(10)
    if pick == 0:
        return b"[" * depth + b"]" * depth
    if pick == 1:
        return b'{"a":' * depth + b"1" + b"}" * depth
    if pick == 2:
        return b'{"webhookTimestamp":' + b"9" * rng.choice([20, 5000]) + b"}"
    if pick == 3:
        return rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e99999", b'{"n":NaN}'])
    if pick == 4:  # duplicate keys, the signed one and a forged one
        return b'{"signature":{"token":"a"},"signature":{"token":"b"},"webhookTimestamp":1}'
    if pick == 5:
        return b"\xef\xbb\xbf" + JSON_BODY
    if pick == 6:
        return b'{"s":"\xff\xfe","t":"\\ud800"}'
    if pick == 7:
        return b'{"signature":{"token":' + b'"x"' + b',"timestamp":"1e3","signature":[]}}'
    if pick == 8:
        return b'{"a":"' + b"\\" * rng.randint(1, 3000) + b'"}'
    return b"[" * depth


def _form_body(rng: random.Random) -> bytes:
    pieces = [
        b"a=1",
        b"%",
        b"%Z",
        b"%zz",
        b"%C3",
        b"%C3%28",
        b"%00",
        b"+",
        b"++=+",
        b"&&",
        b"=",
        b"==",
        b"\xff",
        b"\xc3\x28",
        b"token=x",
        b"timestamp=1700000000",
        b"signature=" + b"0" * 64,
        b"mandrill_events=%5B%5D",
        b"a=%%",
        b";",
    ]
    count = rng.choice([1, 5, 50, 2000])
    joiner = rng.choice([b"&", b"", b"&&", b";"])
    return joiner.join(rng.choice(pieces) for _ in range(count))


def _multipart_body(rng: random.Random) -> tuple[bytes, str]:
    boundary = rng.choice(["b", "x" * 70, "", "a b", "\u00e9", "--", "b" * 300])
    parts = []
    for _ in range(rng.choice([0, 1, 3, 500])):
        head = rng.choice(
            [
                b'Content-Disposition: form-data; name="token"',
                b'Content-Disposition: form-data; name="signature"; filename="x"',
                b"Content-Disposition: form-data",
                b"Content-Disposition: form-data; name=",
                b'Content-Type: multipart/mixed; boundary="inner"',
                b"\xff\xfe: \x00",
                b"",
                b"no colon here",
            ]
        )
        parts.append(
            b"--"
            + boundary.encode("utf-8")
            + b"\r\n"
            + head
            + b"\r\n\r\n"
            + rng.choice([b"1700000000", b"x" * 100, b"--inner\r\n\r\n", b""])
            + b"\r\n"
        )
    tail = rng.choice([b"--" + boundary.encode("utf-8") + b"--\r\n", b"", b"--"])
    header = rng.choice(
        [
            f"multipart/form-data; boundary={boundary}",
            f'multipart/form-data; boundary="{boundary}"',
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/mixed; boundary=b; boundary=c",
        ]
    )
    return b"".join(parts) + tail, header


CONTENT_TYPES = [
    "application/json",
    FORM_TYPE,
    FORM_TYPE + "; charset=latin-1",
    "text/plain",
    "",
    "application/json; charset=utf-16",
    "multipart/form-data",
    "\u00e9/\u00e9",
]


def random_body(rng: random.Random) -> tuple[bytes, str]:
    """An attacker-shaped body and a Content-Type to send it with."""
    pick = rng.randrange(6)
    if pick == 0:
        return _json_body(rng), "application/json"
    if pick == 1:
        return _form_body(rng), FORM_TYPE
    if pick == 2:
        return _multipart_body(rng)
    if pick == 3:
        return "h\u00e9llo".encode(rng.choice(["latin-1", "utf-16", "utf-32"])), rng.choice(
            CONTENT_TYPES
        )
    if pick == 4:
        return rng.randbytes(rng.choice([0, 1, 64, 4096])), rng.choice(CONTENT_TYPES)
    return mutate_body(rng, JSON_BODY), rng.choice(CONTENT_TYPES)


def mutate_body(rng: random.Random, body: bytes) -> bytes:
    """One structured change of a body: flip, insert, delete, duplicate, truncate."""
    data = bytearray(body)
    index = rng.randint(0, len(data))
    pick = rng.randrange(8)
    if pick == 0 and data:
        index = min(index, len(data) - 1)
        data[index] ^= 1 << rng.randrange(8)
    elif pick == 1:
        data[index:index] = rng.choice(
            [
                b" ",
                b"\\",
                b"&",
                b"=",
                b"%",
                b"+",
                b"%41",
                b"\x00",
                b"\xff",
                b"\xc3\xa9",
                b"&a=1",
                b"\n",
            ]
        )
    elif pick == 2 and data:
        del data[index : index + rng.randint(1, 4)]
    elif pick == 3:
        data += data[index : index + rng.randint(1, 30)]
    elif pick == 4:
        del data[index:]
    elif pick == 5:  # swap two '&'-separated fields, or two halves
        cut = data.find(b"&")
        data = data[cut + 1 :] + b"&" + data[:cut] if cut >= 0 else data[index:] + data[:index]
    elif pick == 6 and data:
        data[index - 1 if index else 0] = rng.randrange(256)
    else:
        data = bytearray(data.replace(b"+", b"%20", 1) if b"+" in data else data + b" ")
    return bytes(data)


# -- mutated requests ---------------------------------------------------------------


UNSIGNED_HEADERS = ["X-Forwarded-For", "User-Agent", "X-GitHub-Delivery", "X-Request-Id"]


def mutate_request(rng: random.Random, request: WebhookRequest) -> tuple[str, WebhookRequest]:
    """One mutation of ``request`` and a label naming what was changed.

    Mutations that ``WebhookRequest`` itself refuses (``InvalidRequest``: a
    header with control characters, say) are drawn again: the adapters answer
    those with 400 before any verifier sees them.
    """
    while True:
        try:
            return _mutate_request(rng, request)
        except InvalidRequest:
            continue


def _mutate_request(rng: random.Random, request: WebhookRequest) -> tuple[str, WebhookRequest]:
    pairs = list(request.headers.raw_items())
    pick = rng.randrange(10)
    if pick <= 2:
        return "body", request.replace(body=mutate_body(rng, request.body))
    if pick <= 5 and pairs:
        index = rng.randrange(len(pairs))
        name, value = pairs[index]
        pairs[index] = (name, mutate_text(rng, value))
        return f"header {name}", request.replace(headers=pairs)
    if pick == 6 and pairs:
        name, value = rng.choice(pairs)
        copy = rng.choice([value, mutate_text(rng, value), ""])
        pairs.insert(rng.randint(0, len(pairs)), (rng.choice([name, name.upper()]), copy))
        return f"duplicate {name}", request.replace(headers=pairs)
    if pick == 7 and pairs:
        name, _ = pairs.pop(rng.randrange(len(pairs)))
        pairs.append((rng.choice(UNSIGNED_HEADERS), rng.choice(TOKENS)))
        return f"drop {name}", request.replace(headers=pairs)
    if pick == 8:
        url = rng.choice(
            [
                URL.replace("https:", "http:"),
                URL.replace("hooks.", "other."),
                URL + "&extra=1",
                URL.replace("/webhooks", "/webhookz"),
                URL.replace("fuzz", "fuzZ"),
                URL.split("?")[0],
                URL.replace(".test/", ".test:8443/"),
            ]
        )
        return "url", request.replace(url=url)
    return "method", request.replace(method=rng.choice(["PUT", "GET", "PATCH", "DELETE"]))
