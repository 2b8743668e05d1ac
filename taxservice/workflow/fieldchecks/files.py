"""What an uploaded attachment is, read from its first bytes (pure).

The name a file arrives with and the content type the client claims are never trusted:
a renamed executable called `scan.pdf` starts with `MZ`, not `%PDF-`, and is refused.
"""

from __future__ import annotations

from taxservice.workflow.fieldchecks.models import FileType

# Magic numbers: the first bytes of every file of the type.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", FileType.PDF),
    (b"\xff\xd8\xff", FileType.JPEG),
    (b"\x89PNG\r\n\x1a\n", FileType.PNG),
)
HEAD_BYTES = max(len(magic) for magic, _kind in SIGNATURES)


def sniff(head: bytes) -> str | None:
    """The content type of a file that starts with `head`, or None if it is not one we accept."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def clean_name(name: str) -> str:
    """The uploaded file's own name, kept only to offer it back on download: no folders,
    no control characters, at most 200 characters (keeping the extension when cutting)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"').strip() or "attachment"
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base
