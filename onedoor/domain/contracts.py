"""The contracts page (docs/contracts.md): every document in ``domain.documents.CONTRACTS`` rendered
as Markdown from its JSON schema, and its JSON schema for receivers to validate against.

Pure text in, text out: ``onedoor contracts --write`` does the file work, and
``tests/test_contracts.py`` fails when the models, docs/contracts.md or ``contracts/`` drift apart.
"""

import json
import re

from pydantic import BaseModel

from onedoor.domain import labels
from onedoor.domain.documents import CONTRACTS

BEGIN, END = "<!-- contracts:begin -->", "<!-- contracts:end -->"


def version_of(model: type[BaseModel]) -> str:
    """The document's format, e.g. ``onedoor.dispatch/v1``."""
    return model.model_fields["schema_version"].default


def schema_file(model: type[BaseModel]) -> str:
    """Where its JSON schema is kept under ``contracts/``: ``onedoor.dispatch/v1`` → ``dispatch.v1.json``."""
    name, version = version_of(model).removeprefix("onedoor.").split("/")
    return f"{name}.{version}.json"


def schema_text(model: type[BaseModel]) -> str:
    """The JSON schema a document must satisfy (its ``schema_version`` a constant in it), as kept in ``contracts/``."""
    return json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2) + "\n"


def render(models: list[type[BaseModel]] = CONTRACTS) -> str:
    """Each document (heading with its version, what it is, a table of its fields), then the
    object and enum types they share."""
    shared: dict[str, dict] = {}
    parts = []
    for model in models:
        schema = model.model_json_schema()
        shared.update(schema.get("$defs", {}))
        parts.append(section(f"`{version_of(model)}` · {model.__name__}", schema, field_table(schema)))
    for name in sorted(name for name, s in shared.items() if "properties" in s):
        parts.append(section(name, shared[name], field_table(shared[name])))
    for name in sorted(name for name, s in shared.items() if "enum" in s):
        parts.append(section(name, shared[name], enum_values(name, shared[name])))
    return "\n\n".join(parts) + "\n"


def section(title: str, schema: dict, body: str) -> str:
    return "\n\n".join(part for part in (f"## {title}", one_line(schema.get("description", "")), body) if part)


def field_table(schema: dict) -> str:
    required = set(schema.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, field in schema["properties"].items():
        needed = "yes" if name in required else "no" + (f" (default `{json.dumps(field['default'], ensure_ascii=False)}`)" if "default" in field else "")
        rows.append(f"| `{name}` | {cell(type_of(field))} | {needed} | {cell(field.get('description', ''))} |")
    return "\n".join(rows)


def type_of(schema: dict) -> str:
    """A field's type in a few words: constraints included, nested types linked to their table."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_of(schema["allOf"][0])
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        text = " or ".join(type_of(s) for s in options)
        return f"{text} or null" if len(options) < len(schema["anyOf"]) else text
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    limits = []
    if "pattern" in schema:
        limits.append(f"matching `{schema['pattern']}`")
    if "maxLength" in schema:
        limits.append(f"{schema.get('minLength', 0)}–{schema['maxLength']} chars" if "minLength" in schema else f"≤ {schema['maxLength']} chars")
    elif "minLength" in schema:
        limits.append(f"≥ {schema['minLength']} chars")
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in schema:
            limits.append(f"{sign} {schema[key]}")
    name = schema.get("format", kind)
    return f"{name} ({', '.join(limits)})" if limits else name


def enum_values(name: str, schema: dict) -> str:
    """Each code with its Chinese label when ``domain.labels`` has one."""
    enum = getattr(labels, name, None)
    label = {member.value: member.label for member in enum} if isinstance(enum, type) and issubclass(enum, labels.Labelled) else {}
    return " · ".join(f"`{value}` {label[value]}" if value in label else f"`{value}`" for value in schema["enum"])


def one_line(text: str) -> str:
    return " ".join(text.split())


def cell(text: str) -> str:
    """Table cells: one line, and a ``|`` (in a pattern, say) does not end the cell."""
    return one_line(text).replace("|", "\\|")


def block_of(page: str) -> str:
    """What the contracts page holds between the markers."""
    match = re.search(f"{re.escape(BEGIN)}\n(.*?){re.escape(END)}", page, re.DOTALL)
    if match is None:
        raise ValueError(f"the contracts page has no {BEGIN} … {END} section")
    return match.group(1)


def with_block(page: str, rendered: str) -> str:
    """The contracts page with the rendering between its markers."""
    block_of(page)  # the markers must be there
    start, end = page.index(BEGIN) + len(BEGIN), page.index(END)
    return page[:start] + "\n" + rendered + page[end:]

