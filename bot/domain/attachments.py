"""Files users send (issue 20, first step): what is accepted, told from the content and never
from the name a user gave it, and images re-encoded without their metadata.

Accepted: JPEG, PNG, GIF and WebP images and PDF documents up to a size the caller sets
(`check_attachment`). An image's EXIF (the camera, the time, often the GPS position of the
user's home), XMP, ICC and text chunks are dropped by decoding the picture and encoding it
again (Pillow, already pinned for the reports' charts): what is stored is the pixels alone,
turned the way the camera meant (EXIF orientation applied first). A picture that would
decode to more than `MAX_PIXELS` is refused before it is decoded (a decompression bomb). PDFs
are kept as sent: agents open them, the bot never renders them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Signatures at the start of each accepted type (WebP: "RIFF" .... "WEBP").
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "application/pdf": "pdf"}  # fmt: skip
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
MAX_PIXELS = 40_000_000  # a 40-megapixel screenshot or photo; more is refused undecoded
# Why a file is refused: the reason a reply in the user's language is chosen by.
TOO_BIG, WRONG_TYPE, UNREADABLE, EMPTY = "too_big", "wrong_type", "unreadable", "empty"


@dataclass(frozen=True)
class FileSettings:
    """`attachments:` in config.yml: the largest file taken, where files are kept, and for how
    long."""

    max_bytes: int = 10_000_000
    keep_days: int = 180  # then removed with their bytes by the lead worker's sweep
    folder: str = "var/attachments"  # the local store, when no bucket is named
    s3_bucket: str = ""  # named: files go to this S3-compatible bucket instead
    s3_prefix: str = "attachments/"
    s3_endpoint_url: str = ""  # "": AWS; e.g. http://minio:9000 for MinIO
    s3_region: str = ""


@dataclass(frozen=True)
class Upload:
    """A file as a channel received it: its bytes (None when the channel did not fetch them
    because `size`, as the platform told it, is over the limit, or it could not), and the name
    the user gave it (shown to agents; never used to tell the type)."""

    data: bytes | None
    name: str = ""
    size: int | None = None

    def checked(self, max_bytes: int) -> Attachment:
        """The file as the bot keeps it, or AttachmentRefused."""
        if self.data is None:
            if self.size is not None and self.size > max_bytes:
                raise AttachmentRefused(TOO_BIG, f"{self.size} bytes, at most {max_bytes}")
            raise AttachmentRefused(UNREADABLE, "the file could not be fetched")
        return check_attachment(self.data, max_bytes)


@dataclass(frozen=True)
class OutgoingFile:
    """A kept file on its way to a user (an agent attached it): what a channel sends."""

    name: str
    media_type: str
    data: bytes

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


class AttachmentRefused(ValueError):
    """A file the bot does not take; `reason` is one of TOO_BIG, WRONG_TYPE, UNREADABLE, EMPTY."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """An accepted file: its type (from the content), what to store (an image without its
    metadata; a PDF as sent) and the extension to store it under."""

    media_type: str
    data: bytes

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]


def media_type_of(data: bytes) -> str | None:
    """The accepted type `data` starts like, or None (the name a user gave it plays no part)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((media for signature, media in _SIGNATURES if data.startswith(signature)), None)


def check_attachment(data: bytes, max_bytes: int) -> Attachment:
    """The file as the bot keeps it, or AttachmentRefused saying why not."""
    if not data:
        raise AttachmentRefused(EMPTY, "no bytes")
    if len(data) > max_bytes:
        raise AttachmentRefused(TOO_BIG, f"{len(data)} bytes, at most {max_bytes}")
    media_type = media_type_of(data)
    if media_type is None:
        raise AttachmentRefused(WRONG_TYPE, "not a JPEG, PNG, GIF, WebP image or a PDF")
    if media_type == "application/pdf":
        return Attachment(media_type, data)
    return Attachment(media_type, without_metadata(data, media_type))


def without_metadata(data: bytes, media_type: str) -> bytes:
    """The picture encoded again with nothing but its pixels (animations keep their frames)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise AttachmentRefused(UNREADABLE, f"{image.width}x{image.height} pixels, at most {MAX_PIXELS}")
            image.load()
    except AttachmentRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:  # fmt: skip
        raise AttachmentRefused(UNREADABLE, f"the image cannot be read ({type(error).__name__})") from None
    animated = getattr(image, "is_animated", False)
    if not animated:
        image = ImageOps.exif_transpose(image)  # the way the camera meant it, before the EXIF goes
    out = io.BytesIO()
    options: dict = {"save_all": True} if animated else {}
    if media_type == "image/jpeg":
        image = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        options.update(quality=92)
    image.info.clear()  # text chunks, comments, ICC, XMP: none is carried over
    image.save(out, format=_PIL_FORMATS[media_type], **options)
    return out.getvalue()
