"""Files users send (issue 20, first step): the type from the content whatever the name says,
the size limit, and images stored without what their metadata tells about the user."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from bot.domain.attachments import (
    EMPTY,
    TOO_BIG,
    UNREADABLE,
    WRONG_TYPE,
    AttachmentRefused,
    check_attachment,
    media_type_of,
)  # fmt: skip

LIMIT = 5 * 1024 * 1024
GPS = 0x8825  # the EXIF block with the position a phone wrote


def photo(fmt: str = "JPEG", size=(64, 48), **save) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def phone_photo() -> bytes:
    """A JPEG as a phone writes it: the camera, the time, where the user stood, turned by EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # make
    exif[0x0132] = "2026:12:07 08:00:00"  # date and time
    exif[0x0112] = 6  # orientation: turn 90 degrees to show
    exif[GPS] = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (139.0, 41.0, 30.0)}
    return photo(size=(64, 48), exif=exif.tobytes(), comment=b"home wifi: HomeNet-5G")


def test_a_phone_photo_is_kept_without_its_camera_time_and_position_and_turned_upright():
    kept = check_attachment(phone_photo(), LIMIT)
    assert kept.media_type == "image/jpeg" and kept.extension == "jpg"
    stored = Image.open(io.BytesIO(kept.data))
    assert not stored.getexif() and "exif" not in stored.info and "comment" not in stored.info
    assert b"PhoneMaker" not in kept.data and b"HomeNet" not in kept.data
    assert stored.size == (48, 64), "the EXIF orientation applied before it was dropped"


def test_a_png_loses_its_text_chunks_and_keeps_its_pixels():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "alice@example.com")
    kept = check_attachment(photo("PNG", pnginfo=info), LIMIT)
    assert kept.media_type == "image/png" and b"alice@example.com" not in kept.data
    assert Image.open(io.BytesIO(kept.data)).getpixel((3, 3)) == (200, 30, 30)


def test_a_pdf_is_kept_as_sent_and_webp_and_gif_are_told_by_their_content():
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    assert check_attachment(pdf, LIMIT).data == pdf
    assert media_type_of(photo("WEBP")) == "image/webp" and media_type_of(photo("GIF")) == "image/gif"
    assert check_attachment(photo("GIF"), LIMIT).extension == "gif"


@pytest.mark.parametrize("named, data", [
    ("statement.pdf.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),  # a Windows program
    ("photo.jpg", b"<html><script>alert(1)</script></html>"),
    ("id-card.png", b"PK\x03\x04" + b"\x00" * 40),  # a zip (or a .docx)
    ("scan.pdf", b"#!/bin/sh\nrm -rf ~\n"),
])  # fmt: skip
def test_a_file_whose_name_says_image_or_pdf_but_whose_content_does_not_is_refused(named, data):
    with pytest.raises(AttachmentRefused) as refused:
        check_attachment(data, LIMIT)
    assert refused.value.reason == WRONG_TYPE, named


def test_too_big_empty_cut_short_and_a_decompression_bomb_are_refused_with_their_reason():
    for data, reason in ((photo() + b"\x00" * LIMIT, TOO_BIG), (b"", EMPTY), (phone_photo()[:200], UNREADABLE)):
        with pytest.raises(AttachmentRefused) as refused:
            check_attachment(data, LIMIT)
        assert refused.value.reason == reason
    bomb = photo("PNG", size=(10_000, 10_000))  # 100 megapixels of one colour: a few hundred KB
    assert len(bomb) < LIMIT
    with pytest.raises(AttachmentRefused) as refused:
        check_attachment(bomb, LIMIT)
    assert refused.value.reason == UNREADABLE
