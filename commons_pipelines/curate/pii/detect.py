"""Pattern and checksum detectors for the PATTERN_PII types, with a vectorised pre-filter.

Each detector pairs a cheap RE2 pre-filter, run by pyarrow.compute over the whole Arrow array, with a Python
finder that validates candidates (checksums, `phonenumbers`, `ipaddress`). Only rows that pass a type's
pre-filter reach its finder, so clean text costs one RE2 pass per detector. The pre-filters are supersets of
what the finders accept: filtering never changes the result, it only skips rows that cannot match.

Overlaps between types are settled by PRIORITY (URL credentials, then e-mail, IBAN, national ID, card,
IP, phone): a card number is not also reported as a phone number. The finding kept takes the characters of those
it overlaps, so that no part of them is left once it is replaced. Calendar dates, sections of laws ("§ 12 Abs. 3",
"article L. 1234-5") and patent numbers ("EP 1 234 567 B1") are never phone numbers, whatever they parse as.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import iban, luhn
from stdnum.at import vnr as at_vnr
from stdnum.be import nn as be_nn
from stdnum.ch import ssn as ch_ssn
from stdnum.dk import cpr as dk_cpr
from stdnum.fi import hetu as fi_hetu
from stdnum.de import idnr as de_idnr
from stdnum.es import dni as es_dni, nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_cf
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.pt import nif as pt_nif
from stdnum.se import personnummer as se_pnr
from stdnum.us import ssn as us_ssn

from ...spec import PATTERN_PII

PRIORITY = ("URL_CREDENTIALS", "EMAIL", "IBAN", "NATIONAL_ID", "CARD", "IP", "PHONE", "PERSON", "ADDRESS")

PHONE_LENIENCY = phonenumbers.Leniency.POSSIBLE
"""Matches of a possible length, then kept when valid for the region or a phone word is near (see _phone):
VALID alone missed 73 % of Presidio's phones, POSSIBLE alone had precision 0.13-0.17 (benchmarks/results/pii.md)."""

LANGUAGE_REGIONS = {
    "en": ["GB", "US"], "fr": ["FR"], "es": ["ES"], "de": ["DE"], "pt": ["PT"], "it": ["IT"], "nl": ["NL"],
    "ca": ["ES"], "eu": ["ES"], "gl": ["ES"], "pl": ["PL"], "sv": ["SE"], "da": ["DK"], "fi": ["FI"],
    "nb": ["NO"], "no": ["NO"], "cs": ["CZ"], "el": ["GR"], "ro": ["RO"], "hu": ["HU"], "ga": ["IE"],
}


@dataclass(frozen=True)
class Match:
    """One finding: characters [start, end) of row `row`'s Python str are personal data of `type`."""
    row: int
    start: int
    end: int
    type: str
    canon: str = field(default="", compare=False, repr=False)  # canonical value, for pseudonyms; never printed


def default_regions(languages: Sequence[str]) -> list[str]:
    """Phone regions from BCP-47 tags: an explicit region wins (pt-BR -> BR), else LANGUAGE_REGIONS (en -> GB, US)."""
    out: list[str] = []
    for tag in languages:
        parts = tag.replace("_", "-").split("-")
        region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
        for r in [region] if region else LANGUAGE_REGIONS.get(parts[0].lower(), []):
            if r not in out:
                out.append(r)
    return out


# --- finders: text -> [(start, end, canonical)] ---------------------------------------------------------------

Found = list[tuple[int, int, str]]

_LOCAL = re.compile(r"[\w.%+-]{1,64}$")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])")


def _email(text: str, regions: Sequence[str]) -> Found:
    # from each '@' outwards: a regex that starts with the local part would try every position of the text
    out: Found = []
    at = text.find("@")
    passwords = [m.end(2) for m in _URL_CRED.finditer(text)] if "://" in text else []  # "://user:password@host"
    while at != -1:
        local = _LOCAL.search(text, max(0, at - 64), at)
        domain = _DOMAIN.match(text, at + 1)
        if local and domain and ".." not in text[local.start():domain.end()] and at not in passwords:
            out.append((local.start(), domain.end(), text[local.start():domain.end()].lower()))
        at = text.find("@", (domain.end() if domain else at + 1))
    return out


_URL_CRED = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^\s:/@]+):([^\s/@]+)@[^\s/@]")


def _url_credentials(text: str, regions: Sequence[str]) -> Found:
    return [(m.start(1), m.end(2), m.group(1) + ":" + m.group(2)) for m in _URL_CRED.finditer(text)]


_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
_IBAN_BODY = re.compile(r"(?: ?[A-Za-z0-9])+")


def _iban(text: str, regions: Sequence[str]) -> Found:
    out: Found = []
    pos = 0
    while m := _IBAN_START.search(text, pos):
        body = _IBAN_BODY.match(text, m.end())
        end = body.end() if body else m.end()
        hit = None
        # longest valid prefix first: an IBAN may be followed by other upper-case words or digits
        for stop in range(end, m.start() + 14, -1):
            if text[stop - 1] == " " or (stop < len(text) and text[stop].isalnum() and stop != end):
                continue
            compact = text[m.start():stop].replace(" ", "")
            if 15 <= len(compact) <= 34 and (compact.isupper() or compact.islower()) and iban.is_valid(compact):
                compact = compact.upper()
                hit = (m.start(), stop, compact)
                break
        if hit:
            out.append(hit)
            pos = hit[1]
        else:
            pos = m.start() + 1
    return out


_CARD = re.compile(r"\d(?<![\w.,-]\d)(?:[ -]?\d){11,18}(?![\d]|[.,]\d)")
_IIN = re.compile(r"4|5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720|3[47]|30[0-5]|3[5689]|6011|64[4-9]|65"
                  r"|62|5[06-9]|6[0-9]|0604|220[0-4]|1800|2131")


def _card(text: str, regions: Sequence[str]) -> Found:
    out: Found = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        seps = set(re.findall(r"\D", m.group()))
        if len(seps) > 1:
            continue
        # 12 digits only for Maestro (0604, 50, 56-69), which allows 12 to 19
        if not (13 <= len(digits) <= 19 or (len(digits) == 12 and _IIN.match(digits) and digits[0] in "056")):
            continue
        if _IIN.match(digits) and luhn.is_valid(digits):
            out.append((m.start(), m.end(), digits))
    return out


_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")


def _ip(text: str, regions: Sequence[str]) -> Found:
    out: Found = []
    for rx in (_IPV4, _IPV6):
        for m in rx.finditer(text):
            raw = m.group()
            if rx is _IPV6 and (raw.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", raw)):
                continue
            try:
                addr = ipaddress.ip_address(raw)
            except ValueError:
                continue
            if addr.is_loopback or addr.is_unspecified:
                continue
            out.append((m.start(), m.end(), addr.compressed))
    return out


_PHONE_CONTEXT = re.compile(
    r"(?i)(?<![^\W\d_])(?:phone|tel|t[eé]l[eé]phone|tel[eé]fono|telefone|telefon|tfno|tlf|fax|mobile?|m[oó]vil|cell"
    r"|portable|handy|call|sms|messages?|whats ?app|desk|contact|dial|ring|answering|appel\w*|ll[aá]m\w*)"
    r"(?![^\W\d_])")
_PHONE_AFTER = re.compile(rf"{_PHONE_CONTEXT.pattern}|^\W{{0,3}}(?:office|home|work)(?![^\W\d_])", re.I)
_NOT_PHONE = re.compile(r"(?i)(?<![^\W\d_])(?:NHC|historia|episodio|expediente|ISBN|ISSN|CIS|SIRE[NT]|EAN|NASS|NSS"
                        r"|n[º°o]? ?col|ref)\W{0,4}$")


_PHONE_SHAPE = re.compile(r"(?<![\w+])\+?(?:\(\d{1,4}\) ?)?\d(?:[ .-]?\d){6,14}(?![\w])")
_PHONE_LABEL = re.compile(r"(?<![^\W\d_])(?:phone|tel|t[eé]l[eé]phone|tel[eé]fono|telefone|telefon|tfno|tlf|fax|mobile?"
                          r"|m[oó]vil|cell|desk)\.?\W{0,3}$", re.I)


_DIGIT_RUN = re.compile(r"\d(?:[^\w\n]{0,3}\d){4,}")
# a calendar date (04.12.2017, 4/12/2017, 2017-12-04, 04-12-2017): never a phone number, whatever it parses as
_DATE = re.compile(r"(?:(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|1[0-2])\1(?:1[89]|20)\d\d"
                   r"|(?:1[89]|20)\d\d([./-])(?:0?[1-9]|1[0-2])\2(?:0?[1-9]|[12]\d|3[01]))")


def _date(raw: str) -> bool:
    return _DATE.fullmatch(raw.strip()) is not None


# A section of a law or a book ("§ 12", "Art. 123-4", "article L. 1234-5", "sección 2.3.4", "Rn. 12") or a patent
# ("EP 1 234 567 B1", "US 6,123,456 B2", "WO 2004/123456", "DE 10 2004 012 345 A1"): never a phone number. A patent
# is told by its office or the word patent before the number, which then has no '+', '-', '(' or '.' ("CALL US
# 1-800-..." is a phone), or by its kind code after it.
_SECTION = re.compile(
    r"(?:§§?|(?<![^\W\d_])(?i:art[st]?|artikel|articles?|art[íi]culos?|artigos?|articol[oi]|sec(?:t|tion|ci[óo]n|[çc][ãa]o)"
    r"|sez(?:ione)?|abschnitt|abs(?:atz)?|rn|rz|randn(?:r|ummer)|apartado|comma|pkt|ust|lid|kapitel|chapitre"
    r"|cap[íi]tulo|capitolo)\.?)[ \t]*(?:[LRDA]\.?[ \t]*)?$|(?<![^\W\d_])[LRD]\.[ \t]?$")
_PATENT = re.compile(
    r"(?<![^\W\d_])(?:(?:EP|US|WO|DE|FR|GB|ES|IT|NL|BE|CH|AT|PL|PT|SE|DK|FI|NO|JP|CN|KR|CA|AU)(?:-[A-Z]{1,2}-)?"
    r"|(?i:pat(?:ent)?\.?(?:[ \t]*(?:no|nr|n[º°o])\.?)?|brevets?|patente?s?|brevett[oi]|octrooi|patentschrift"
    r"|offenlegungsschrift))[ \t]*$")
_KIND = re.compile(r"[ \t]?(?:[ABCTUY][1-9]|[AB](?=[,;)\]]|$))(?!\w)")


def _cited(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 24):start]
    return (_SECTION.search(before) is not None or _KIND.match(text, end) is not None
            or (_PATENT.search(before) is not None and not re.search(r"[-+(.]", text[start:end])))


@lru_cache(maxsize=None)
def _region(region: str) -> tuple[int, str | None]:
    """The fewest digits of a national number of the region, and its trunk prefix (none for NANP's '1')."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    least = min(meta.general_desc.possible_length, default=4) if meta else 4
    return least, meta.national_prefix if meta and meta.country_code != 1 else None


def _least_digits(region: str) -> int:
    return _region(region)[0]


def _runs(text: str) -> list[tuple[int, int, int, bool]]:
    """Each digit run's window (with a '+' or '(' before it, 'ext 123' after it), its digits, and whether a '+'
    comes before it."""
    out = []
    for m in _DIGIT_RUN.finditer(text):
        start, end = max(0, m.start() - 4), min(len(text), m.end() + 12)
        out.append((start, end, sum(c.isdigit() for c in m.group()), "+" in text[start:m.start()]))
    return out


def _matches(text: str, region: str, runs: list[tuple[int, int, int, bool]]):
    """PhoneNumberMatcher on windows around digit runs only (its regex is slow on long prose), skipping runs with
    fewer digits than any national number of the region, unless written in international form."""
    least, trunk = _region(region)
    windows: list[list[int]] = []
    for start, end, digits, plus in runs:
        if digits < least and not plus:
            continue
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    for start, end in windows:
        window = text[start:end]
        for m in _window_hits(window, region) if len(window) <= 256 else _hits(window, region):
            # "313 200 000" in France: written nationally, a phone number starts with its trunk 0
            usual = not trunk or m.raw_string.lstrip("(").startswith(("+", "00", trunk))
            yield m._replace(start=m.start + start, end=m.end + start), usual


class _Hit(NamedTuple):
    start: int
    end: int
    raw_string: str
    number: phonenumbers.PhoneNumber  # shared by the cached hits of a window: read, never changed


def _hits(window: str, region: str) -> tuple[_Hit, ...]:
    return tuple(_Hit(m.start, m.end, m.raw_string, m.number)
                 for m in phonenumbers.PhoneNumberMatcher(window, region, PHONE_LENIENCY, max_tries=1000))


# A column repeats its dates, years and codes row after row ("2004-08-01", "1861-1865"), and parsing each window
# for each region was most of a catalogue's curation time.
_window_hits = lru_cache(maxsize=32768)(_hits)


_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+")


def _embedded(text: str, start: int, end: int) -> bool:
    """Digits that are part of a longer token (a URL, a path, a version or a handle such as "1840.20/36776" or
    "3.511-733") are not a phone number, however they parse."""
    before, after = text[start - 2:start], text[end:end + 2]
    if (len(before) == 2 and before[1] in "/.-_=#?&%" and before[0].isalnum()) or (
            after[:1] in ("/", "_", "=", "%") or (after[:1] in ".-" and after[1:2].isalnum())):
        return True
    return any(m.start() <= start < m.end() for m in _URL.finditer(text, max(0, start - 300), end))


def _phone(text: str, regions: Sequence[str]) -> Found:
    """Numbers valid for a region (with the trunk prefix where the region has one); numbers of a possible length
    (7+ digits) when a phone word is near; and any
    phone-shaped digits right after a label ("Phone:", "Fax:") or before one ("-Office"), whatever their region."""
    out: Found = []
    runs = _runs(text)
    for region in regions or ("ZZ",):
        for m, usual in _matches(text, region, runs):
            if (any(s < m.end and m.start < e for s, e, _ in out) or _embedded(text, m.start, m.end)
                    or _NOT_PHONE.search(text, max(0, m.start - 12), m.start) or _date(m.raw_string)
                    or _cited(text, m.start, m.end)):
                continue
            if not (usual and phonenumbers.is_valid_number(m.number)) and not (
                    len(phonenumbers.national_significant_number(m.number)) >= 7
                    and (_PHONE_CONTEXT.search(text, max(0, m.start - 30), m.start)
                         or _PHONE_AFTER.search(text[m.end:m.end + 12]))):
                continue
            out.append((m.start, m.end, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)))
    for m in _PHONE_SHAPE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e, _ in out) or _date(m.group()):
            continue
        if _PHONE_LABEL.search(text, max(0, m.start() - 16), m.start()) or re.match(
                r"\W{0,3}(?:office|home|work|mobile|fax)(?![^\W\d_])", text[m.end():m.end() + 12], re.I):
            digits = re.sub(r"\D", "", m.group())
            out.append((m.start(), m.end(), ("+" if m.group().startswith("+") else "") + digits))
    return out


# National identifiers: (name, pattern, validator, context). A context regex, when set, must occur in the 40
# characters before the number: for formats whose checksum is weak (9 and 11 digits that ordinary numbers share).
_SEP = r"[ .-]?"


def _nino(s: str) -> bool:
    return (s[0] not in "DFIQUV" and s[1] not in "DFIQUVO"
            and s[:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _es_nss(s: str) -> bool:
    prov, num, check = int(s[:2]), int(s[2:10]), int(s[10:])
    base = prov * 10**8 + num if num >= 10**7 else prov * 10**7 + num
    return 1 <= prov <= 99 and base % 97 == check


_NSS_WORDS = r"NASS|NSS|NAF|seguridad social|afiliaci[oó]n"
_SSN_WORDS = r"SSN|social security"
_IDNR_WORDS = r"Steuer-?ID|Steuer-?IdNr|IdNr|Steueridentifikationsnummer|Identifikationsnummer|tax id"
_NN_WORDS = r"NN|NRN|INSZ|NISS|Rijksregister\w*|registre national|num[ée]ro national|national number|Nationalregisternummer"
_BSN_WORDS = r"BSN|burgerservicenummer|sofi-?nummer"
_NIF_WORDS = r"NIF|contribuinte|identifica[çc][ãa]o fiscal"
_SVNR_WORDS = r"SVNR|VSNR|SV-?Nr|Versicherungsnummer|Sozialversicherungsnummer"
_PESEL_WORDS = r"PESEL"
_CPR_WORDS = r"CPR|CPR-?nr|personnummer"


@dataclass(frozen=True)
class NationalId:
    """One identifier format: the pattern (group 1, when present, is the number), its check, an optional context
    regex that must occur in the 40 characters before, and the RE2 row pre-filter the pattern implies."""
    name: str
    pattern: re.Pattern
    valid: Callable[[str], bool]
    context: str | None
    prefilter: str
    separators: str = r"[\s./-]"  # dropped before the check; FI HETU keeps its '-', '+' or 'A' (the century)

    def find(self, text: str, regions: Sequence[str] = ()) -> Found:
        out: Found = []
        ctx = re.compile(rf"(?<![^\W\d_])(?:{self.context})(?![^\W\d_])", re.I) if self.context else None
        for m in self.pattern.finditer(text):
            start, end = m.span(m.lastindex or 0)
            compact = re.sub(self.separators, "", text[start:end]).upper()
            if ctx and not ctx.search(text, max(0, start - 40), start):
                continue
            if self.valid(compact):
                out.append((start, end, f"{self.name.split()[0]}:{compact}"))
        return out


NATIONAL_IDS = [
    NationalId("FR NIR", re.compile(rf"(?<!\w)[12]{_SEP}\d\d{_SEP}(?:0[1-9]|1[0-2]|[2-9]\d){_SEP}(?:\d\d|2[AB])"
                                    rf"{_SEP}\d{{3}}{_SEP}\d{{3}}{_SEP}\d\d(?!\w)"), fr_nir.is_valid, None,
               r"[12][ .-]?\d\d[ .-]?\d\d[ .-]?(?:\d\d|2[AB])[ .-]?\d{3}[ .-]?\d{3}[ .-]?\d\d"),
    NationalId("ES DNI", re.compile(r"(?<!\w)\d{8}[ -]?[A-Z](?!\w)"), es_dni.is_valid, None, r"\d{8}[ -]?[A-Z]"),
    NationalId("ES NIE", re.compile(r"(?<!\w)[XYZ][ -]?\d{7}[ -]?[A-Z](?!\w)"), es_nie.is_valid, None,
               r"[XYZ][ -]?\d{7}[ -]?[A-Z]"),
    NationalId("ES NSS", re.compile(r"\d(?<![\w/.-]\d)\d[ /-]?\d{8}[ /-]?\d\d(?![\w/-])"), _es_nss, _NSS_WORDS,
               f"(?i){_NSS_WORDS}"),
    # a number right after its label ("NASS: ...") is the social security number even when its checksum fails
    NationalId("ES NSS", re.compile(r"N(?<![^\W\d_]N)(?:ASS|SS|AF)[:.]? ?(\d[\d /-]{6,16}\d)(?![\w/-])"),
               lambda s: 8 <= len(s) <= 14, None, r"(?:NASS|NSS|NAF)[:.]? ?\d"),
    NationalId("IT CF", re.compile(r"(?<!\w)[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                                   r"[0-9LMNPQRSTUV]{3}[A-Z](?!\w)"), it_cf.is_valid, None,
               r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"),
    NationalId("GB NINO", re.compile(r"(?<!\w)[A-CEGHJ-PR-TW-Z]{2} ?\d\d ?\d\d ?\d\d ?[A-D](?!\w)"), _nino, None,
               r"[A-Z]{2} ?\d\d ?\d\d ?\d\d ?[A-D]"),
    NationalId("US SSN", re.compile(r"(?<![\w-])\d{3}-\d\d-\d{4}(?![\w-])"), us_ssn.is_valid, None, r"\d{3}-\d\d-\d{4}"),
    NationalId("US SSN", re.compile(r"(?<![\w-])\d{3} ?\d\d ?\d{4}(?![\w-])"), us_ssn.is_valid, _SSN_WORDS,
               f"(?i){_SSN_WORDS}"),
    NationalId("DE IdNr", re.compile(r"(?<![\w-])\d\d ?\d{3} ?\d{3} ?\d{3}(?![\w-])"), de_idnr.is_valid, _IDNR_WORDS,
               f"(?i){_IDNR_WORDS}"),
    NationalId("BE NN", re.compile(r"\d(?<![\w-]\d)\d\.?\d\d\.?\d\d[ -]?\d{3}\.?\d\d(?![\w-])"), be_nn.is_valid,
               _NN_WORDS, f"(?i){_NN_WORDS}"),
    NationalId("NL BSN", re.compile(r"(?<![\w-])\d{4}\.?\d\d\.?\d{3}(?![\w-])"), nl_bsn.is_valid, _BSN_WORDS,
               f"(?i){_BSN_WORDS}"),
    # 756 and an EAN-13 check digit: strong enough without a label ("AHV-Nr.", "N° AVS")
    NationalId("CH AVS", re.compile(r"(?<![\w.-])756[ .]?\d{4}[ .]?\d{4}[ .]?\d\d(?![\w-])"), ch_ssn.is_valid, None,
               r"756[ .]?\d{4}[ .]?\d{4}[ .]?\d\d"),
    NationalId("AT SVNR", re.compile(r"(?<![\w-])\d{4} ?\d{6}(?![\w-])"), at_vnr.is_valid, _SVNR_WORDS,
               f"(?i){_SVNR_WORDS}"),
    NationalId("PL PESEL", re.compile(r"(?<![\w-])\d{11}(?![\w-])"), pl_pesel.is_valid, _PESEL_WORDS,
               f"(?i){_PESEL_WORDS}"),
    # a birth date, a separator and a Luhn check (SE) or a check character (FI): specific without a label
    NationalId("SE PNR", re.compile(r"(?<![\w-])(?:19|20)?\d{6}[-+]\d{4}(?![\w-])"), se_pnr.is_valid, None,
               r"\d{6}[-+]\d{4}"),
    NationalId("FI HETU", re.compile(r"(?<![\w-])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![\w-])"), fi_hetu.is_valid, None,
               r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", separators=r"\s"),
    # no check digit since 2007: only after its label
    NationalId("DK CPR", re.compile(r"(?<![\w-])\d{6}-?\d{4}(?![\w-])"), dk_cpr.is_valid, _CPR_WORDS,
               f"(?i){_CPR_WORDS}"),
    NationalId("PT NIF", re.compile(r"[1-35689](?<![\w-][1-35689])\d\d ?\d{3} ?\d{3}(?![\w-])"), pt_nif.is_valid, _NIF_WORDS,
               f"(?i){_NIF_WORDS}"),
]


# Detectors (type, RE2 pre-filter run by pyarrow.compute, finder). Each pre-filter is implied by its finder's
# pattern, so a row it rejects cannot hold a finding. NATIONAL_ID has one detector per identifier format.
DETECTORS: list[tuple[str, str, Callable[[str, Sequence[str]], Found]]] = [
    ("URL_CREDENTIALS", r"://[^\s:/@]+:[^\s/@]+@", _url_credentials),
    ("EMAIL", r"[^\s@]@[^\s@]+\.", _email),
    ("IBAN", r"[A-Za-z]{2}\d{2}", _iban),
    *[("NATIONAL_ID", n.prefilter, n.find) for n in NATIONAL_IDS],
    ("CARD", r"\d(?:[ -]?\d){11}", _card),
    ("IP", r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]?:[0-9A-Fa-f]*:", _ip),
    ("PHONE", r"\d(?:[^\pL]{0,3}\d){4}", _phone),
]
PATTERN_TYPES = tuple(dict.fromkeys(t for t, _, _ in DETECTORS))


def _strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"PII scan needs a string column, got {values.type}")
    return values


def resolve(found: Iterable[Match]) -> list[Match]:
    """One finding where several overlap: the one of highest priority, extended over the characters of the others,
    so that editing it leaves no part of them behind (the end of a phone number cut by a national ID). Sorted by
    row and start."""
    kept: dict[int, list[Match]] = {}
    for m in sorted(found, key=lambda m: (m.row, PRIORITY.index(m.type), m.start, -m.end)):
        row = kept.setdefault(m.row, [])
        hit = sorted((i for i, k in enumerate(row) if k.start < m.end and m.start < k.end), key=lambda i: row[i].start)
        if not hit:
            row.append(m)
            continue
        # the kept findings never overlap: each stretch of m between or beside them joins a neighbour (in a gap
        # between two, the one kept first, which has the higher priority)
        spans = {i: [row[i].start, row[i].end] for i in hit}
        spans[hit[0]][0] = min(row[hit[0]].start, m.start)
        spans[hit[-1]][1] = max(row[hit[-1]].end, m.end)
        for a, b in pairwise(hit):
            if a < b:
                spans[a][1] = row[b].start
            else:
                spans[b][0] = row[a].end
        for i, (start, end) in spans.items():
            row[i] = replace(row[i], start=start, end=end)
    return sorted((m for row in kept.values() for m in row), key=lambda m: (m.row, m.start))


TOKEN = re.compile(r"\[[A-Z_]+(?::[0-9a-f]{12})?\]")
"""The placeholders the Pii step writes ([EMAIL], [PHONE:3f9a1c2b7d0e]): never findings themselves, so a residual
check on published data does not flag them."""


def outside_tokens(text: str, hits: Found) -> Found:
    tokens = [m.span() for m in TOKEN.finditer(text)]
    return [h for h in hits if not any(s <= h[0] and h[1] <= e for s, e in tokens)]


def _masked(text: str | None) -> str | None:
    """The text with the digits of its placeholders as the letter a: a pseudonym's hex digits never join the digits
    written next to it ("[EMAIL:3f9a1c123456] 612 345 678" holds a phone number)."""
    if not text or "[" not in text:
        return text
    return TOKEN.sub(lambda m: re.sub(r"\d", "a", m.group()), text)


def _run(values: pa.Array, types: Iterable[str], regions: Sequence[str], prefilter: bool,
         first_only: bool) -> list[Match]:
    values = _strings(values)
    wanted = set(types)
    unknown = wanted - set(PATTERN_TYPES)
    if unknown:
        raise ValueError(f"no pattern detector for {', '.join(sorted(unknown))}; patterns cover {', '.join(PATTERN_TYPES)}")
    found: list[Match] = []
    texts: dict[int, str] = {}
    done = np.zeros(len(values), dtype=bool)  # with first_only: rows already known to hold PII
    detectors = [d for d in DETECTORS if d[0] in wanted]
    if prefilter:
        # one RE2 pass with every pre-filter at once, then each pre-filter only on the rows that passed it
        gate = "|".join(f"(?:{p})" for _, p, _ in detectors)
        subset = np.flatnonzero(pc.fill_null(pc.match_substring_regex(values, gate), False)
                                .to_numpy(zero_copy_only=False))
        candidates = values.take(pa.array(subset, pa.int64()))
    else:
        subset = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
    for t, pattern, finder in detectors:
        if prefilter:
            mask = pc.fill_null(pc.match_substring_regex(candidates, pattern), False).to_numpy(zero_copy_only=False)
            if t == "PHONE":  # a bare code or date with fewer digits than any phone number of the regions
                k = min(_least_digits(r) for r in regions or ("ZZ",))
                short = rf"^[\s./-]*(?:\d[\s./-]*){{0,{k - 1}}}$"
                mask &= ~pc.fill_null(pc.match_substring_regex(candidates, short), False).to_numpy(zero_copy_only=False)
            rows = subset[mask]
        else:
            rows = subset
        rows = rows[~done[rows]].tolist()
        missing = [r for r in rows if r not in texts]
        if missing:
            texts.update(zip(missing, map(_masked, values.take(pa.array(missing, pa.int64())).to_pylist()),
                             strict=True))
        for r in rows:
            hits = finder(texts[r], regions)
            if hits and "[" in texts[r]:
                hits = outside_tokens(texts[r], hits)
            found.extend(Match(r, s, e, t, c) for s, e, c in hits)
            if first_only and hits:
                done[r] = True
    return found


def scan(values: pa.Array, types: Iterable[str] = PATTERN_PII, regions: Sequence[str] = (),
         prefilter: bool = True) -> list[Match]:
    """Every PII finding in a string array; `prefilter=False` runs the finders on every row (for tests)."""
    return resolve(_run(values, types, regions, prefilter, first_only=False))


def contains(values: pa.Array, types: Iterable[str] = PATTERN_PII, regions: Sequence[str] = ()) -> pa.BooleanArray:
    """True where a value holds any finding of `types` (null stays False); stops at a row's first finding."""
    hit = np.zeros(len(values), dtype=bool)
    for m in _run(values, types, regions, prefilter=True, first_only=True):
        hit[m.row] = True
    return pa.array(hit, pa.bool_())
