"""Draw the application icon (a sun over two ridges in a rounded square) as resources/icons/landscape-studio.png.

Run: python packaging/make_icon.py [--size 256]. Drawn at 4× and downsampled, so the edges are smooth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons" / "landscape-studio.png"


def draw_icon(size: int = 256) -> Image.Image:
    s = size * 4
    sky = Image.new("RGBA", (s, s))
    px = ImageDraw.Draw(sky)
    for y in range(s):  # vertical gradient: deep blue at the top, warm near the horizon
        t = y / (s - 1)
        px.line([(0, y), (s, y)], fill=(int(40 + 200 * t), int(70 + 110 * t), int(160 - 40 * t), 255))
    d = ImageDraw.Draw(sky)
    d.ellipse([s * 0.55, s * 0.18, s * 0.80, s * 0.43], fill=(255, 214, 102, 255))  # the sun
    d.polygon([(0, s * 0.72), (s * 0.30, s * 0.38), (s * 0.55, s * 0.62), (s * 0.75, s * 0.48), (s, s * 0.70),
               (s, s), (0, s)], fill=(52, 92, 84, 255))  # far ridge
    d.polygon([(0, s * 0.86), (s * 0.40, s * 0.60), (s * 0.70, s * 0.80), (s, s * 0.66), (s, s), (0, s)],
              fill=(30, 58, 50, 255))  # near ridge
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, s - 1, s - 1], radius=s // 6, fill=255)
    icon = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    icon.paste(sky, (0, 0), mask)
    return icon.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw_icon(args.size).save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
