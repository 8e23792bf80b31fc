"""croissant.json: MLCommons Croissant 1.0 metadata (JSON-LD) for one published version.

Croissant's `version` is N.0.0 for tag vN: every new version changes the data, which Croissant calls a MAJOR change.
A multilingual dataset keeps one FileSet over every language folder (data/*/*.parquet) and one RecordSet: its
`_lang` column tells the language, so the record set stays the same whatever languages a version holds.
"""

from __future__ import annotations

import pyarrow as pa

from ..licences import OPEN_LICENCES
from ..spec import SourceSpec
from ..urls import public_url
from .card import creators
from .shards import DATA_DIR, ShardSet
from .targets import Version

CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
FILE_SET = "parquet-files"
RECORD_SET = "default"


def data_type(t: pa.DataType) -> str:
    """The schema.org type Croissant uses for values of an Arrow type (lists and structs are handled by the caller)."""
    if pa.types.is_dictionary(t):
        return data_type(t.value_type)
    if pa.types.is_boolean(t):
        return "sc:Boolean"
    if pa.types.is_integer(t):
        return "sc:Integer"
    if pa.types.is_floating(t):
        return "sc:Float"
    if pa.types.is_decimal(t):
        return "sc:Number"
    if pa.types.is_date(t):
        return "sc:Date"
    if pa.types.is_timestamp(t):
        return "sc:DateTime"
    if pa.types.is_time(t):
        return "sc:Time"
    return "sc:Text"  # strings, and anything without a closer schema.org type (binary, durations, null)


def _field(field: pa.Field, prefix: str, column: str, path: tuple[str, ...] = ()) -> dict:
    t, repeated = field.type, False
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        t, repeated = t.value_type, True
    node = {"@type": "cr:Field", "@id": f"{prefix}/{field.name}", "name": field.name}
    if pa.types.is_struct(t):
        node["subField"] = [_field(t.field(i), node["@id"], column, (*path, t.field(i).name)) for i in range(t.num_fields)]
    else:
        node["dataType"] = data_type(t)
    if repeated:
        node["repeated"] = True
    node["source"] = {"fileSet": {"@id": FILE_SET}, "extract": {"column": column}}
    if path:
        node["source"]["transform"] = {"jsonPath": ".".join(path)}
    return node


def croissant(spec: SourceSpec, shards: ShardSet, version: Version, url: str | None = None) -> dict:
    url = url or (public_url(spec.homepage) if spec.homepage else None)
    files = [{"@type": "cr:FileObject", "@id": s.path, "name": s.path, "contentUrl": s.path,
              "encodingFormat": PARQUET, "contentSize": f"{s.bytes} B", "sha256": s.sha256} for s in shards.shards]
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": spec.id,
        "alternateName": spec.title,
        "description": spec.description.strip(),
        "license": OPEN_LICENCES[spec.licence].url,
        **({"url": url} if url else {}),
        **({"creator": [{"@type": "sc:Organization", "name": c} for c in creators(spec)],
            "citeAs": spec.attribution.citation.strip()} if spec.attribution else {}),
        "version": f"{version.number}.0.0",
        "datePublished": version.date,
        "inLanguage": list(spec.languages),
        "keywords": [spec.domain.value],
        "distribution": files + [{
            "@type": "cr:FileSet", "@id": FILE_SET, "name": FILE_SET,
            "encodingFormat": PARQUET,
            "includes": f"{DATA_DIR}/*/*.parquet" if shards.per_language else f"{DATA_DIR}/*.parquet",
        }],
        "recordSet": [{
            "@type": "cr:RecordSet", "@id": RECORD_SET, "name": RECORD_SET,
            "description": f"{shards.rows} rows, split 'train'."
            + (f" One folder per language: {', '.join(shards.languages)}." if shards.per_language else ""),
            "field": [_field(f, RECORD_SET, f.name) for f in shards.schema],
        }],
    }
