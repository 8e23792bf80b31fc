import json
import unicodedata

import pyarrow as pa
import pytest

from commons_pipelines.curate.normalize import NormalizeText
from commons_pipelines.spec import NormalizeConfig

from .conftest import SHARED_DATA

UDHR = SHARED_DATA / "language" / "udhr_151_languages.jsonl"


@pytest.fixture(scope="module")
def udhr() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for line in UDHR.open(encoding="utf-8"):
        row = json.loads(line)
        texts.setdefault(row["iso639_1"], []).append(row["text"])
    return texts


def run(values, config=NormalizeConfig(), kind=pa.string()) -> list:
    batch = pa.RecordBatch.from_pydict({"text": pa.array(values, kind), "n": list(range(len(values)))})
    out = NormalizeText(config).process(batch)
    assert out.schema == batch.schema and out.column("n").to_pylist() == list(range(len(values)))
    return out.column("text").to_pylist()


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_mojibake_from_real_text_is_repaired(udhr, kind):
    originals = [unicodedata.normalize("NFC", t) for lang in ("fr", "de", "es", "pt", "pl", "cs", "vi")
                 for t in udhr[lang][:5]]
    broken = [t.encode("utf-8").decode("latin-1") for t in originals]
    for t in originals:  # cp1252 leaves 5 bytes undefined: keep the texts it can read
        try:
            broken.append(t.encode("utf-8").decode("cp1252"))
        except UnicodeDecodeError:
            continue
    assert sum(b != o for b, o in zip(broken, originals)) >= 30
    expected = originals + [t for t in originals if _cp1252_ok(t)]
    assert run(broken, kind=kind) == [" ".join(t.split()) if "  " in t else t.strip() for t in expected]


def _cp1252_ok(text: str) -> bool:
    try:
        text.encode("utf-8").decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def test_text_without_mojibake_is_untouched_by_the_repair(udhr):
    texts = [unicodedata.normalize("NFC", t).strip() for lang in ("fr", "ru", "zh", "ar", "el", "hi") for t in udhr[lang][:3]]
    texts = [t for t in texts if "  " not in t]
    assert run(texts) == texts
    broken = "Dâ€™accord, câ€™est lâ€™Ã©tÃ©"
    off = NormalizeConfig(fix_mojibake=False)
    assert run([broken], off) == [broken] and run([broken]) == ["D’accord, c’est l’été"]  # curly quotes stay


def test_unicode_forms():
    decomposed = "e\u0301le\u0300ve \ufb01n"  # é, è as base + combining accent; the fi ligature
    assert run([decomposed]) == ["élève \ufb01n"]
    assert run([decomposed], NormalizeConfig(unicode_form="NFKC")) == ["élève fin"]
    assert run([decomposed], NormalizeConfig(unicode_form="none", whitespace=False)) == [decomposed]


def test_control_characters_and_whitespace():
    values = ["  Article 1.\u00a0\u00a0 All\t\t humans\x00 are\x07 born free. \r\n\r\n\r\n\r\nThey are\x1b endowed\x85 \n",
              "a\rb\r\nc\x0cd", "col1\tcol2", "prix\u00a0: 5\u00a0€", None, "   ", "x\n\n\ny"]
    assert run(values) == ["Article 1. All humans are born free.\n\nThey are endowed", "a\nb\nc\nd", "col1\tcol2",
                           "prix\u00a0: 5\u00a0€", None, "", "x\n\ny"]
    assert run(values[:1], NormalizeConfig(whitespace=False))[0] == values[0]
