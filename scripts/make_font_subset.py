#!/usr/bin/env python3
"""Makes assets/fonts/NotoSansCJK-subset.otf from Debian's fonts-noto-cjk (SIL OFL 1.1).

The subset keeps what a planner's documents need: ASCII and Latin-1, CJK punctuation, GB2312, every
hanzi of GBK and Big5 (the encodings port-atlas reads besides UTF-8), and every character of the
built-in geodata, report and regional gazetteer. Run from the repo root:
  python3 scripts/make_font_subset.py   (needs: apt-get install fonts-noto-cjk; pip install fonttools)
"""
import pathlib, subprocess, sys

chars = set()
for lo, hi in [(0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2190, 0x21FF), (0x2500, 0x257F),
               (0x25A0, 0x25FF), (0x3000, 0x303F), (0xFF00, 0xFFEF)]:
    chars.update(chr(c) for c in range(lo, hi + 1))
# GB2312: rows 16-87 are hanzi (levels 1 and 2).
for row in range(0xB0, 0xF8):
    for col in range(0xA1, 0xFF):
        try:
            chars.add(bytes([row, col]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
# Every hanzi of GBK and of Big5 (frequent and less frequent sets): port-atlas reads reports in
# both encodings, so any character such a file can hold is drawn as a glyph (喆, 堃 and many place
# names are outside GB2312).
for lead in range(0x81, 0xFF):
    for trail in range(0x40, 0xFF):
        for enc in ("gbk", "big5"):
            try:
                c = bytes([lead, trail]).decode(enc)
            except UnicodeDecodeError:
                continue
            if len(c) == 1 and "\u3400" <= c <= "\u9fff":
                chars.add(c)
# Big5 frequently used characters (A440-C67E), symbols included.
for lead in range(0xA4, 0xC7):
    for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
        try:
            chars.add(bytes([lead, trail]).decode("big5"))
        except UnicodeDecodeError:
            pass
# Every character of the built-in geodata, the regional gazetteer's 4,400 place names included
# (甪直, 滸墅關, 弶港, 啓東 are outside GB2312 and the Big5 common set), and its sources' tables.
for p in [*pathlib.Path("geodata").glob("*"), *pathlib.Path("geodata/sources").glob("*.tsv")]:
    if p.suffix in (".json", ".geojson", ".txt", ".tsv"):
        chars.update(p.read_text(encoding="utf-8"))
chars = {c for c in chars if c.isprintable() or c == " "}
text = pathlib.Path("/tmp/font-subset-chars.txt")
text.write_text("".join(sorted(chars)), encoding="utf-8")
out = "assets/fonts/NotoSansCJK-subset.otf"
# Font number 3 in the TTC is Noto Sans CJK TC (the report is in traditional characters); it covers simplified too.
subprocess.run([sys.executable, "-m", "fontTools.subset", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "--font-number=3", f"--text-file={text}", f"--output-file={out}", "--layout-features=*",
                "--no-hinting"], check=True)
print(out, len(chars), "characters")
