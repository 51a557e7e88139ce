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


# ------------------------------------------------------------------ hostile files (issue 15)
def _read_in_thread(path: Path, seconds: float = 10.0) -> ImageLoadError:
    """read_file on ``path``, failing the test (instead of hanging it) if the read blocks."""
    import threading

    outcome: list[BaseException | bytes] = []

    def target() -> None:
        try:
            outcome.append(read_file(path))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"read_file({path}) blocked for {seconds}s"
    assert isinstance(outcome[0], ImageLoadError), outcome[0]
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_named_like_a_photo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    assert "named pipe" in _read_in_thread(fifo).reason


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_symlink_to_a_device_is_refused_not_read_until_memory_runs_out(tmp_path: Path, device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    link = tmp_path / "endless.jpg"
    link.symlink_to(device)
    assert "character device" in _read_in_thread(link).reason


def test_a_sparse_giant_is_refused_by_its_size_before_a_byte_is_read(tmp_path: Path) -> None:
    giant = tmp_path / "giant.jpg"
    with open(giant, "wb") as f:
        f.truncate(30 * 1024**3)  # 30 GB of holes: costs no disk, but read_bytes() would allocate it all
    assert "too large" in _read_in_thread(giant).reason


def test_the_size_cap_is_an_argument(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(b"\0" * (3 * 1024 * 1024))
    assert len(read_file(path)) == 3 * 1024 * 1024  # under the default
    with pytest.raises(ImageLoadError, match=r"too large: 3 MB is over the 2 MB limit .*--max-file-mb"):
        read_file(path, max_bytes=2 * 1024 * 1024)
    assert len(read_file(path, max_bytes=3 * 1024 * 1024)) == 3 * 1024 * 1024


@pytest.mark.parametrize("name", ["drawing.svg", "IMG_0001.CR2", "photo.dng", "art.xcf"])
def test_formats_we_cannot_decode_are_named_in_the_reason(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"<svg/>" * 10)
    with pytest.raises(ImageLoadError, match=r"unsupported image format \(\.\w+\)"):
        read_file(path)


@pytest.mark.parametrize(("fmt", "suffix"), [("AVIF", ".avif"), ("HEIF", ".heic")])
def test_avif_and_heic_photos_decode(tmp_path: Path, fmt: str, suffix: str) -> None:
    if fmt == "HEIF" and not images.HEIF_AVAILABLE:
        pytest.skip("pillow-heif not installed")
    src = Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1)), "L").convert("RGB")
    path = tmp_path / f"phone{suffix}"
    src.save(path, fmt, quality=90)
    assert suffix in images.IMAGE_SUFFIXES
    decoded = decode_image(read_file(path), str(path))
    assert (decoded.width, decoded.height, decoded.image.mode) == (64, 48, "RGB")
    diff = np.abs(np.asarray(decoded.image, np.int16) - np.asarray(src, np.int16))
    assert diff.mean() < 8  # lossy, but the same picture


def test_decoding_holds_a_pixel_budget_across_threads() -> None:
    """Eight threads decoding 0.64-megapixel PNGs under a 1-megapixel budget: one at a time, all decoded."""
    from concurrent.futures import ThreadPoolExecutor

    payload = _encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (800, 800, 4), np.uint8)), "PNG")
    budget = images.PixelBudget(1_000_000)
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda _: decode_image(payload, "x.png", budget=budget).image.size, range(16)))
    assert sizes == [(800, 800)] * 16
    assert budget.peak == 640_000 and budget.in_flight == 0
    budget = images.PixelBudget(2_000_000)  # room for three at once
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: decode_image(payload, "x.png", budget=budget), range(16)))
    assert 640_000 <= budget.peak <= 2_000_000
    assert images.DECODING.limit == images.DEFAULT_DECODE_MEGAPIXELS * 1_000_000  # the shared default


def test_an_image_over_the_whole_budget_still_decodes_alone() -> None:
    big = _encode(Image.new("RGB", (1500, 1000), (5, 6, 7)), "PNG")
    assert decode_image(big, "big.png", budget=images.PixelBudget(1_000_000)).image.size == (1500, 1000)


def test_pillow_warnings_about_accepted_images_stay_off_stderr() -> None:
    """A big-but-allowed image (DecompressionBombWarning) and corrupt EXIF: used, and nothing printed."""
    import subprocess
    import sys

    code = """
import io
from PIL import Image
import clipaware.images as images
Image.MAX_IMAGE_PIXELS = 1000  # 40x40 = 1600 px: over Pillow's warning line, under its error line
buf = io.BytesIO()
Image.new("RGB", (40, 40)).save(buf, "PNG")
assert images.decode_image(buf.getvalue(), "big.png").image.size == (40, 40)
buf = io.BytesIO()
Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=b"Exif\\x00\\x00II*\\x00\\x08\\x00\\x00\\x00\\x05\\x00\\x0f\\x01\\x02")
assert images.decode_image(buf.getvalue(), "exif.jpg").image.size == (8, 8)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
