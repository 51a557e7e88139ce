"""The one image loader: every mode to upright RGB, every bad file to a reason."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import crafted_png_bomb, without_root_powers

from clipaware import images
from clipaware.errors import ImageLoadError
from clipaware.images import decode_image, load_image, read_file, to_rgb


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_rgb_passes_through_unchanged() -> None:
    img = Image.new("RGB", (8, 6), (10, 20, 30))
    assert to_rgb(img) is img


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.new("CMYK", (4, 4), (0, 255, 255, 0)), (255, 0, 0)),
        (Image.new("L", (4, 4), 77), (77, 77, 77)),
        (Image.new("1", (4, 4), 1), (255, 255, 255)),
        (Image.new("RGBA", (4, 4), (0, 0, 0, 0)), (255, 255, 255)),  # fully transparent → white
        (Image.new("RGBA", (4, 4), (0, 0, 255, 255)), (0, 0, 255)),  # opaque keeps its colour
        (Image.new("LA", (4, 4), (0, 0)), (255, 255, 255)),
        (Image.new("LA", (4, 4), (0, 255)), (0, 0, 0)),
    ],
)
def test_modes_become_rgb(img: Image.Image, expected: tuple[int, int, int]) -> None:
    out = to_rgb(img)
    assert out.mode == "RGB"
    assert out.getpixel((1, 1)) == expected


def test_half_transparent_pixel_is_composited_on_white() -> None:
    out = to_rgb(Image.new("RGBA", (2, 2), (0, 0, 0, 128)))
    assert out.getpixel((0, 0)) == pytest.approx((127, 127, 127), abs=1)


def test_palette_with_transparency_composites_on_white() -> None:
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.putpixel((0, 0), 1)
    pal.info["transparency"] = 0
    out = to_rgb(pal)
    assert out.getpixel((0, 0)) == (255, 0, 0)
    assert out.getpixel((2, 2)) == (255, 255, 255)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    arr = np.array([[0, 32896, 65535]], dtype=np.uint16)
    png = _encode(Image.fromarray(arr), "PNG")
    out = decode_image(png).image
    assert [out.getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]


def test_exif_orientation_is_applied_and_size_is_upright(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 10, 20))  # blue stripe on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs 90° clockwise
    decoded = decode_image(_encode(img, "JPEG", exif=exif, quality=95))
    assert decoded.image.size == (20, 40)
    assert (decoded.width, decoded.height) == (20, 40)
    r, _g, b = decoded.image.getpixel((10, 2))  # the stripe is now at the top
    assert b > 200 and r < 60


def test_animation_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50)
    out = decode_image(buf.getvalue()).image
    assert out.getpixel((4, 4)) == (255, 0, 0)


def test_large_jpeg_is_draft_decoded_but_never_below_target() -> None:
    big = Image.fromarray((np.random.default_rng(0).random((1500, 2000, 3)) * 255).astype(np.uint8))
    data = _encode(big, "JPEG", quality=85)
    decoded = decode_image(data, target_size=224)
    w, h = decoded.image.size
    assert min(w, h) >= 224 and w < 2000  # reduced in the decoder, still big enough for the model
    assert (decoded.width, decoded.height) == (2000, 1500)  # the file's real size is still reported
    assert decode_image(data).image.size == (2000, 1500)  # no target: full decode


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty file"),
        (b"hello, I am text", "not an image"),
        (crafted_png_bomb(), "decompression bomb"),
    ],
)
def test_bad_bytes_give_reasons(payload: bytes, reason: str) -> None:
    with pytest.raises(ImageLoadError) as info:
        decode_image(payload, "x")
    assert reason in info.value.reason


def test_truncated_jpeg_is_reported_not_padded() -> None:
    whole = _encode(Image.new("RGB", (256, 256), (1, 2, 3)).effect_spread(5), "JPEG")
    with pytest.raises(ImageLoadError) as info:
        decode_image(whole[: len(whole) // 2], "t.jpg")
    assert info.value.reason.startswith("truncated")


def test_bomb_guard_holds_even_if_pillow_check_is_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    monkeypatch.setattr(images, "MAX_PIXELS", 50)
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        decode_image(_encode(Image.new("RGB", (10, 10)), "PNG"))


def test_file_errors_become_reasons(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="file not found"):
        read_file(tmp_path / "missing.jpg")
    with pytest.raises(ImageLoadError, match="is a folder"):
        read_file(tmp_path)


def test_unreadable_file_is_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "locked.jpg"
    path.write_bytes(b"x")
    path.chmod(0)
    code = (
        "import sys\n"
        "from clipaware.errors import ImageLoadError\n"
        "from clipaware.images import read_file\n"
        "try:\n"
        "    read_file(sys.argv[1])\n"
        "except ImageLoadError as exc:\n"
        "    print(exc.reason)\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        without_root_powers([sys.executable, "-c", code, str(path)]), capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "unreadable: permission denied"


def test_load_image_accepts_paths_bytes_and_pil(tmp_path: Path) -> None:
    img = Image.new("L", (5, 5), 9)
    path = tmp_path / "a.png"
    img.save(path)
    for source in (path, str(path), path.read_bytes(), img):
        out = load_image(source)
        assert out.mode == "RGB" and out.getpixel((0, 0)) == (9, 9, 9)
