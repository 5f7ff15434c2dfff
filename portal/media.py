"""The upload pipeline: images (real-image check, limits, EXIF stripped, re-encoded, thumbnails) and
other files (an allow-list of types recognised by their bytes, and a size limit).

Every image a member sends passes through :func:`store_image`; every other file through
:func:`store_file`. Nothing of the
original file is kept: the pixels are decoded (within a pixel budget, so that a
decompression bomb is refused before it is expanded), turned upright by their EXIF
orientation, and written anew without metadata, in a display size and a thumbnail.

Uploads are public by default (``/media/<key>`` serves them, e.g. avatars). Uploads stored
with ``private=True`` (an :class:`ImageSpec` flag, a :func:`store_file` argument) get keys under
``private/``, which :func:`public_path` refuses: they are served only by their owner's
access-checked route (e.g. a ticket's attachments), through :func:`stored_path`.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.db import utcnow
from portal.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
PRIVATE_PREFIX = "private"


class InvalidImage(ValidationFailed):
    """The upload is not an acceptable image; the message says why."""

    code = "invalid_image"


@dataclass(frozen=True)
class ImageSpec:
    """How one kind of upload is stored: its variants' bounding boxes and whether to crop square."""

    kind: str
    variants: dict[str, tuple[int, int]] = field(default_factory=lambda: {"display": (1600, 1600), "thumb": (320, 320)})
    square: bool = False
    private: bool = False  # kept out of /media/ (see public_path)


AVATAR = ImageSpec("avatars", {"display": (512, 512), "thumb": (96, 96)}, square=True)


@dataclass(frozen=True)
class StoredImage:
    """What was written: keys (paths relative to the uploads root) per variant, and the source size."""

    key: str
    width: int
    height: int
    variants: dict[str, str]

    def url_key(self, variant: str = "display") -> str:
        return self.variants[variant]


def uploads_root() -> Path:
    return Path(current_app.config["UPLOADS_ROOT"])


def _folder(kind: str, private: bool) -> str:
    return f"{PRIVATE_PREFIX}/{kind}" if private else kind


def _read_limited(stream: IO[bytes] | bytes, max_bytes: int) -> bytes:
    data = bytes(stream) if isinstance(stream, bytes | bytearray) else stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidImage(_l("The file is too large; the limit is %(mb)s MB.", mb=round(max_bytes / 1024 / 1024, 1)))
    if not data:
        raise InvalidImage(_l("The file is empty."))
    return data


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Opens and decodes the image, refusing non-images and anything over the pixel budget."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise InvalidImage(_l("Only JPEG, PNG, GIF and WebP images are accepted."))
            width, height = probe.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise InvalidImage(
                    _l(
                        "The image is %(w)s×%(h)s pixels; the limit is %(mp)s megapixels.",
                        w=width,
                        h=height,
                        mp=round(max_pixels / 1_000_000, 1),
                    )
                )
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage(_l("The image is too large to process.")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(_l("The file is not a valid image.")) from exc
    return image


def _normalise(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if getattr(image, "is_animated", False):
        image.seek(0)
    has_alpha = image.mode in {"RGBA", "LA"} or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _encode(image: Image.Image) -> tuple[bytes, str]:
    """Re-encodes without any metadata: JPEG for opaque images, PNG where transparency matters."""
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), "jpg"


def store_image(stream: IO[bytes] | bytes, spec: ImageSpec = AVATAR) -> StoredImage:
    """Checks, re-encodes and stores an uploaded image; raises :class:`InvalidImage` on bad input."""
    config = current_app.config
    data = _read_limited(stream, config["MAX_UPLOAD_BYTES"])
    image = _normalise(_open_checked(data, config["MAX_IMAGE_PIXELS"]))
    width, height = image.size
    now = utcnow()
    key = f"{_folder(spec.kind, spec.private)}/{now:%Y/%m}/{uuid.uuid4().hex}"
    directory = uploads_root() / Path(key).parent
    directory.mkdir(parents=True, exist_ok=True)
    variants: dict[str, str] = {}
    for name, box in spec.variants.items():
        if spec.square:
            variant = ImageOps.fit(image, box, Image.Resampling.LANCZOS)
        else:
            variant = image.copy()
            variant.thumbnail(box, Image.Resampling.LANCZOS)
        payload, ext = _encode(variant)
        relative = f"{key}_{name}.{ext}"
        (uploads_root() / relative).write_bytes(payload)
        variants[name] = relative
    return StoredImage(key=key, width=width, height=height, variants=variants)


def delete_stored(variants: dict[str, str] | None) -> None:
    """Removes the files of a stored image (e.g. a replaced avatar); missing files are fine."""
    root = uploads_root()
    for relative in (variants or {}).values():
        path = (root / relative).resolve()
        if root.resolve() in path.parents:
            path.unlink(missing_ok=True)


def describe_limits() -> dict[str, Any]:
    config = current_app.config
    return {
        "max_mb": round(config["MAX_UPLOAD_BYTES"] / 1024 / 1024, 1),
        "max_megapixels": round(config["MAX_IMAGE_PIXELS"] / 1_000_000, 1),
    }


# --- other files: an allow-list of types recognised by their first bytes ---------------------


class InvalidFile(ValidationFailed):
    """The upload is not of an accepted type, too large or empty; the message says why."""

    code = "invalid_file"


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: how it is named to people and served to browsers."""

    name: str
    content_type: str
    extension: str


PDF = FileType("PDF", "application/pdf", "pdf")
ZIP = FileType("ZIP", "application/zip", "zip")
TEXT = FileType("text", "text/plain; charset=utf-8", "txt")
DOCUMENT_TYPES = (PDF, TEXT, ZIP)
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
_TEXT_CONTROL = set(range(32)) - {9, 10, 12, 13}


@dataclass(frozen=True)
class StoredFile:
    """What :func:`store_file` wrote: the key under the uploads root, its type and size."""

    key: str
    file_type: FileType
    size: int


def looks_like_image(data: bytes) -> bool:
    """True when the bytes start like a JPEG, PNG, GIF or WebP (then :func:`store_image` decides)."""
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def sniff_file_type(data: bytes, allowed: tuple[FileType, ...] = DOCUMENT_TYPES) -> FileType | None:
    """The allowed type the bytes really are, whatever the file is called; None otherwise."""
    found: FileType | None = None
    if data.startswith(b"%PDF-"):
        found = PDF
    elif data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        found = ZIP
    elif b"\x00" not in data:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        if text is not None and not any(ord(ch) in _TEXT_CONTROL for ch in text):
            found = TEXT
    return found if found in allowed else None


def read_upload(stream: IO[bytes] | bytes, max_bytes: int | None = None) -> bytes:
    """Reads at most the upload limit (plus one byte, to tell that it is over), refusing empty files."""
    limit = max_bytes or current_app.config["MAX_UPLOAD_BYTES"]
    data = bytes(stream) if isinstance(stream, bytes | bytearray) else stream.read(limit + 1)
    if len(data) > limit:
        raise InvalidFile(_l("The file is too large; the limit is %(mb)s MB.", mb=round(limit / 1024 / 1024, 1)))
    if not data:
        raise InvalidFile(_l("The file is empty."))
    return data


def store_file(
    stream: IO[bytes] | bytes,
    kind: str,
    allowed: tuple[FileType, ...] = DOCUMENT_TYPES,
    max_bytes: int | None = None,
    private: bool = False,
) -> StoredFile:
    """Stores a non-image upload whose bytes are one of ``allowed``; raises :class:`InvalidFile` otherwise.

    The stored name is random and carries the detected type's extension, never the sender's.
    """
    data = read_upload(stream, max_bytes)
    file_type = sniff_file_type(data, allowed)
    if file_type is None:
        names = ", ".join(t.name for t in allowed)
        raise InvalidFile(_l("This type of file is not accepted. Accepted: %(types)s.", types=names))
    key = f"{_folder(kind, private)}/{utcnow():%Y/%m}/{uuid.uuid4().hex}.{file_type.extension}"
    path = uploads_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return StoredFile(key=key, file_type=file_type, size=len(data))


def stored_path(key: str) -> Path | None:
    """The file of a stored key, or None when the key points outside the uploads root or is gone."""
    root = uploads_root().resolve()
    path = (root / key).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def public_path(key: str) -> Path | None:
    """The file of a key that ``/media/`` may serve: like :func:`stored_path`, but never a private upload
    (however the key is spelt: the resolved path is checked, not the text)."""
    path = stored_path(key)
    if path is None or (uploads_root().resolve() / PRIVATE_PREFIX) in path.parents:
        return None
    return path
