#!/usr/bin/env python3
"""Writes the report fixtures of src/text/extract (tests/fixtures/reports/) with independent tools,
and next to each fixture `NAME.expected.txt`: the paragraphs a reader should get, one per line, UTF-8.

Re-runnable: `python3 scripts/make-report-fixtures.py` (from the repository root) rewrites them all.
Tools, pinned (pip install into a venv):
    python-docx==1.2.0 fpdf2==2.8.9 reportlab==5.1.0 pypdf==7.1.1 fonttools==4.68.0 cryptography==50.0.2
plus a Noto Sans CJK collection (fonts-noto-cjk: /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc).

PDFs are checked here against pypdf, an independent extractor: every expected paragraph, with
whitespace removed, must occur in pypdf's text of the pages, whitespace removed.
"""
import io
import os
import sys
import re
import datetime

# Written into the files' metadata, so a re-run changes nothing that need not change.
FIXED_DATE = datetime.datetime(2021, 3, 5, tzinfo=datetime.timezone.utc)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "reports")
os.makedirs(OUT, exist_ok=True)

TITLE = "太仓港总体规划（2021—2035年）说明"
DATE = "2021年3月5日"
SIMPLIFIED = [
    "太仓港位于长江入海口南岸，是苏州市对外开放的重要门户。规划提出，以太仓港区为核心，统筹沙溪镇、浏河镇的临港产业布局，推动港城融合发展。",
    "沙溪镇作为历史文化名镇，应严格保护古镇风貌，控制沿河建筑高度，引导物流仓储用地向港区集中。",
    "浏河镇依托浏河口渔港和长江岸线资源，重点发展滨江文旅与现代渔业，岸线开发须落实生态保护红线要求。",
    "昆山市千灯镇与苏州工业园区之间的产业协作通道，应结合沪通铁路和沿江高速公路予以优化，形成“一港两区多节点”的空间格局。",
]
TRADITIONAL = [
    "太倉港總體規劃強調，沙溪鎮與瀏河鎮應共同承擔港口腹地的產業配套功能。",
    "蘇州工業園區與崑山市千燈鎮之間的交通聯繫，將以軌道交通為骨幹加以完善。",
]
LATIN = ("The Taicang Port master plan coordinates the riverside industries of Shaxi and Liuhe "
         "with the container terminals at Fuqiao, and asks for an environmental assessment of every "
         "development along the Yangtze shoreline before construction begins.")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def expect(name, paragraphs):
    write(name + ".expected.txt", ("\n".join(paragraphs) + "\n").encode("utf-8"))


# ---- plain text -------------------------------------------------------------------------------
def plain():
    lines = [TITLE, DATE, ""] + SIMPLIFIED
    gbk_text = "\r\n".join(lines[:3] + [SIMPLIFIED[0], "", "   ", SIMPLIFIED[1]] + SIMPLIFIED[2:]) + "\r\n"
    write("report-gbk.txt", gbk_text.encode("gbk"))
    expect("report-gbk.txt", [TITLE, DATE] + SIMPLIFIED)
    big5_text = "\n".join(["太倉港總體規劃說明", DATE, ""] + TRADITIONAL) + "\n"
    write("report-big5.txt", big5_text.encode("big5"))
    expect("report-big5.txt", ["太倉港總體規劃說明", DATE] + TRADITIONAL)
    write("report-utf8-bom.txt", b"\xef\xbb\xbf" + "\n".join([TITLE, "", SIMPLIFIED[3]]).encode("utf-8"))
    expect("report-utf8-bom.txt", [TITLE, SIMPLIFIED[3]])
    write("report-utf16le.txt", "\r\n".join([TITLE, TRADITIONAL[0]]).encode("utf-16"))  # BOM + LE
    expect("report-utf16le.txt", [TITLE, TRADITIONAL[0]])


# ---- HTML (gb2312, declared in a meta http-equiv) -----------------------------------------------
def html():
    page = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>太仓市人民政府 - 通知公告</title>
<style>p { text-indent: 2em; } .x > a { color: red }</style>
<script type="text/javascript">var s = "<p>不是正文</p>"; if (a < b && c > d) {}</script>
</head>
<body>
<!-- 导航 <p>注释里的段落</p> -->
<div class="nav"><a href="/">首页</a> &gt; <a href="/tzgg">通知公告</a></div>
<h1>关于太仓港总体规划（2021&mdash;2035年）的公示</h1>
<p class="date">发布日期：2021年3月5日&nbsp;&nbsp;来源：太仓市自然资源和规划局</p>
<p>太仓港位于长江入海口南岸，是苏州市对外开放的重要门户。规划提出，以太仓港区为核心，
统筹沙溪镇、浏河镇的临港产业布局，推动港城融合发展。</p>
<p>沙溪镇作为历史文化名镇，应严格保护古镇风貌<br>控制沿河建筑高度，引导物流仓储用地向港区集中。
<p>请于&ldquo;公示期&rdquo;内提出意见 &amp; 建议；联系电话 0512&#8209;53521234，地址：&#x592A;&#20179;市县府东街 &unknown; 1 < 2。
<ul><li>浮桥作业区：集装箱</li><li>浏河作业区：散货、件杂货</ul>
<table><tr><td>港区</td><td>岸线（公里）</td></tr><tr><td>浮桥</td><td>12.5</td></tr></table>
<noscript><p>请启用脚本</p></noscript>
<p>Taicang   Port
   master plan, <b>public</b> notice.</p>
<p><![CDATA[旧式内容]]></p>
<p>   </p>
</body>
</html>
"""
    write("notice-gb2312.html", page.encode("gb2312"))
    expect("notice-gb2312.html", [
        "首页 > 通知公告",
        "关于太仓港总体规划（2021—2035年）的公示",
        "发布日期：2021年3月5日\u00a0\u00a0来源：太仓市自然资源和规划局",
        SIMPLIFIED[0],
        "沙溪镇作为历史文化名镇，应严格保护古镇风貌",
        "控制沿河建筑高度，引导物流仓储用地向港区集中。",
        "请于“公示期”内提出意见 & 建议；联系电话 0512\u201153521234，地址：太仓市县府东街 &unknown; 1 < 2。",
        "浮桥作业区：集装箱",
        "浏河作业区：散货、件杂货",
        "港区",
        "岸线（公里）",
        "浮桥",
        "12.5",
        "Taicang Port master plan, public notice.",
        "旧式内容",
    ])


# ---- Word ---------------------------------------------------------------------------------------
def docx():
    import docx as pydocx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = pydocx.Document()
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph(DATE)
    p = doc.add_paragraph()
    # Runs split mid-sentence, as Word writes them after edits and spell checks.
    p.add_run("太仓港位于长江入海口南岸，")
    p.add_run("是苏州市对外").bold = True
    p.add_run("开放的重要门户。规划提出，以太仓港区为核心，统筹沙溪镇、浏河镇的临港产业布局，推动港城融合发展。")
    doc.add_paragraph("")  # empty: not counted
    doc.add_paragraph("表1\t港区功能分区")
    t = doc.add_table(rows=3, cols=3)
    for r, row in enumerate([["港区", "主要功能", "规划岸线（公里）"],
                             ["浮桥作业区", "集装箱", "12.5"],
                             ["浏河作业区", "散货、件杂货", "8.2"]]):
        for c, text in enumerate(row):
            t.cell(r, c).text = text
    t.cell(2, 1).add_paragraph("兼顾滚装")  # a second paragraph in one cell
    # Tracked changes: the inserted run is kept, the deleted one is not.
    tracked = parse_xml(
        '<w:p %s><w:r><w:t xml:space="preserve">沙溪镇作为历史文化名镇，</w:t></w:r>'
        '<w:del w:id="1" w:author="规划科" w:date="2021-03-05T00:00:00Z"><w:r><w:delText>可以适当</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="规划科" w:date="2021-03-05T00:00:00Z"><w:r><w:t>应严格</w:t></w:r></w:ins>'
        '<w:r><w:t>保护古镇风貌。</w:t></w:r></w:p>' % nsdecls("w"))
    doc.element.body.insert(len(doc.element.body) - 1, tracked)
    p = doc.add_paragraph()
    r = p.add_run("Taicang Port")
    r.add_break()
    p.add_run("master plan")
    p = doc.add_paragraph()
    r = p.add_run("浏河镇依托浏河口渔港，")
    r.add_break()
    p.add_run("重点发展滨江文旅。")
    doc.core_properties.created = FIXED_DATE
    doc.core_properties.modified = FIXED_DATE
    buf = io.BytesIO()
    doc.save(buf)
    write("report.docx", buf.getvalue())
    expect("report.docx", [
        TITLE, DATE, SIMPLIFIED[0], "表1\t港区功能分区",
        "港区", "主要功能", "规划岸线（公里）", "浮桥作业区", "集装箱", "12.5", "浏河作业区", "散货、件杂货", "兼顾滚装", "8.2",
        "沙溪镇作为历史文化名镇，应严格保护古镇风貌。",
        "Taicang Port master plan",
        "浏河镇依托浏河口渔港，重点发展滨江文旅。",
    ])


# ---- PDF ----------------------------------------------------------------------------------------
def pypdf_check(name, expected):
    from pypdf import PdfReader
    reader = PdfReader(os.path.join(OUT, name))
    # pypdf reads fpdf2's 2-byte codes with a NUL before each character: dropped with the whitespace.
    text = re.sub(r"[\s\x00]+", "", "".join(page.extract_text() or "" for page in reader.pages))
    for para in expected:
        squeezed = re.sub(r"\s+", "", para)
        assert squeezed in text, f"{name}: pypdf does not read {para!r}"


def cid_pdf():
    """reportlab's built-in CID fonts (STSong-Light: UniGB-UCS2-H, MSung-Light: UniCNS-UCS2-H) and
    Helvetica (WinAnsi), laid out line by line here, so the layout is known exactly: paragraphs
    with a two-character indent, one crossing from page 1 to 2, a hyphenated Latin wrap, page numbers
    at the bottom ("- 1 -") and top ("第2页"), and a third page with only a drawn rectangle."""
    from reportlab.pdfgen import canvas
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdfmetrics.registerFont(UnicodeCIDFont("MSung-Light"))
    W, H = 595, 842
    left, size, lead = 72, 12, 18
    per_line = 36
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H), invariant=1)
    c.setTitle(TITLE)
    state = {"y": H - 80, "page": 1}

    def new_page():
        c.setFont("Helvetica", 10)
        c.drawCentredString(W / 2, 40, f"- {state['page']} -")
        c.showPage()
        state["page"] += 1
        state["y"] = H - 80
        c.setFont("STSong-Light", 10)
        c.drawCentredString(W / 2, H - 40, f"第{state['page']}页")

    def line(font, text, x):
        if state["y"] < 90:
            new_page()
        c.setFont(font, size)
        c.drawString(x, state["y"], text)
        state["y"] -= lead

    def chinese(font, para):
        first = per_line - 2
        line(font, para[:first], left + 2 * size)
        rest = para[first:]
        while rest:
            line(font, rest[:per_line], left)
            rest = rest[per_line:]

    # Title centred, date right-aligned, then body paragraphs.
    c.setFont("STSong-Light", 16)
    c.drawCentredString(W / 2, state["y"], TITLE)
    state["y"] -= 30
    c.setFont("STSong-Light", size)
    c.drawRightString(W - left, state["y"], DATE)
    state["y"] -= 30
    for para in SIMPLIFIED * 5:
        chinese("STSong-Light", para)
    for para in TRADITIONAL:
        chinese("MSung-Light", para)
    # Latin, wrapped at 60 characters with a hyphenated word.
    lat = ["The Taicang Port master plan coordinates the riverside",
           "industries of Shaxi and Liuhe with the container ter-",
           "minals at Fuqiao."]
    line("Helvetica", lat[0], left + 24)
    for t in lat[1:]:
        line("Helvetica", t, left)
    c.setFont("Helvetica", 10)
    c.drawCentredString(W / 2, 40, f"- {state['page']} -")
    c.showPage()
    c.rect(100, 100, 300, 400, fill=1)  # a "scanned" page: no text
    c.showPage()
    c.save()
    write("report-cid.pdf", buf.getvalue())
    expected = [TITLE, DATE] + SIMPLIFIED * 5 + TRADITIONAL + [
        "The Taicang Port master plan coordinates the riverside industries of Shaxi and Liuhe with the "
        "container terminals at Fuqiao."]
    expect("report-cid.pdf", expected)
    pypdf_check("report-cid.pdf", [p for p in expected if not p.startswith("The ")])
    return state["page"]


def noto_sc_otf():
    """Noto Sans CJK SC out of the system's collection, as one OpenType file fpdf2 can embed."""
    from fontTools.ttLib import TTCollection
    path = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    out = "/tmp/NotoSansCJKsc-Regular.otf"
    if not os.path.exists(out):
        for font in TTCollection(path).fonts:
            if font["name"].getDebugName(1) == "Noto Sans CJK SC":
                font.save(out)
                break
    return out


def fpdf_pdf():
    """fpdf2 embedding a subset of Noto Sans CJK SC (Type0, Identity-H, ToUnicode), wrapping the
    paragraphs itself (character wrap), with an indent of two ideographic spaces and a footer "- N -"."""
    from fpdf import FPDF

    class Report(FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font("Noto", size=9)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")

    pdf = Report(format="A4")
    pdf.add_font("Noto", fname=noto_sc_otf())
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    pdf.set_font("Noto", size=16)
    pdf.multi_cell(0, 10, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", size=12)
    pdf.multi_cell(0, 8, DATE, align="R", new_x="LMARGIN", new_y="NEXT")
    paras = SIMPLIFIED * 4 + TRADITIONAL
    for para in paras:
        pdf.multi_cell(0, 8, "\u3000\u3000" + para, wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.set_title(TITLE)
    pdf.set_creation_date(FIXED_DATE)
    data = bytes(pdf.output())
    write("report-fpdf.pdf", data)
    expected = [TITLE, DATE] + paras
    expect("report-fpdf.pdf", expected)
    pypdf_check("report-fpdf.pdf", expected)


def scanned_pdf():
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842), invariant=1)
    for _ in range(2):
        c.rect(50, 50, 495, 742, fill=1)
        c.showPage()
    c.save()
    write("scanned.pdf", buf.getvalue())


def encrypted_pdfs():
    from reportlab.pdfgen import canvas
    from reportlab.lib import pdfencrypt
    for name, user in [("encrypted.pdf", "secret"), ("permissions-only.pdf", "")]:
        buf = io.BytesIO()
        enc = pdfencrypt.StandardEncryption(user, ownerPassword="owner", canPrint=1, canModify=0, canCopy=0)
        c = canvas.Canvas(buf, pagesize=(595, 842), invariant=1, encrypt=enc)
        c.setFont("Helvetica", 12)
        c.drawString(72, 760, "Taicang Port: protected copy.")
        c.showPage()
        c.save()
        write(name, buf.getvalue())
    expect("permissions-only.pdf", ["Taicang Port: protected copy."])


if __name__ == "__main__":
    plain()
    html()
    docx()
    pages = cid_pdf()
    fpdf_pdf()
    scanned_pdf()
    encrypted_pdfs()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, report-cid.pdf has {pages} pages", file=sys.stderr)
