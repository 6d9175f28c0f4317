"""Entity schemas: field types, required fields and the natural key.

Built-in entities are products, customers, inventory and prices. Another
entity is added by declaring an ``EntitySchema`` and either calling
``register_entity`` or publishing it under the ``ferry.entities`` entry-point
group (the entry point loads an EntitySchema or a list of them); the engine
itself does not change.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib.metadata import entry_points

log = logging.getLogger(__name__)

FIELD_TYPES = ("string", "integer", "decimal", "boolean", "date", "datetime", "list", "email")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "string"
    required: bool = False
    description: str = ""
    # Personal data: masked wherever a run's evidence shows it (samples,
    # rejected rows, error messages).
    personal: bool = False


@dataclass(frozen=True)
class EntitySchema:
    name: str
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    description: str = ""
    field_map: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_map", {f.name: f for f in self.fields})
        if not _NAME.match(self.name):
            raise ValueError(f"entity name {self.name!r} must be lower-case snake_case")
        for f in self.fields:
            if f.type not in FIELD_TYPES:
                raise ValueError(f"{self.name}.{f.name}: unknown type {f.type!r}")
            if not _NAME.match(f.name) or f.name.startswith("_"):
                raise ValueError(f"{self.name}: bad field name {f.name!r}")
        if not self.key:
            raise ValueError(f"{self.name}: a natural key is required")
        for k in self.key:
            if k not in self.field_map:
                raise ValueError(f"{self.name}: key field {k!r} is not a field")

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.personal)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required or f.name in self.key)


def _f(
    name: str, type_: str = "string", required: bool = False, description: str = "",
    personal: bool = False,
) -> FieldSpec:
    return FieldSpec(name, type_, required, description, personal)


PRODUCTS = EntitySchema(
    name="products",
    description="Catalogue items, one row per SKU (variants are their own SKU).",
    key=("sku",),
    fields=(
        _f("sku", required=True, description="Stock keeping unit; case is kept."),
        _f("name", required=True),
        _f("description"),
        _f("short_description"),
        _f("product_type", description="simple, variable, variation, ..."),
        _f("parent_sku", description="SKU of the parent product of a variant."),
        _f("handle", description="Groups variants (Shopify handle)."),
        _f("price", "decimal"),
        _f("sale_price", "decimal"),
        _f("compare_at_price", "decimal"),
        _f("currency"),
        _f("quantity", "integer"),
        _f("active", "boolean"),
        _f("status"),
        _f("brand"),
        _f("barcode"),
        _f("weight", "decimal"),
        _f("weight_unit"),
        _f("categories", "list"),
        _f("tags", "list"),
        _f("images", "list"),
        _f("options", "list", description="Variant option values, e.g. [Green, S]."),
        _f("url"),
        _f("updated_at", "datetime"),
    ),
)

CUSTOMERS = EntitySchema(
    name="customers",
    description="Customers keyed by e-mail (trimmed, lower case).",
    key=("email",),
    fields=(
        _f("email", "email", required=True, personal=True),
        _f("first_name", personal=True),
        _f("last_name", personal=True),
        _f("phone", personal=True),
        _f("company", personal=True),
        _f("address", personal=True),
        _f("city", personal=True),
        _f("postcode", personal=True),
        _f("country"),
        _f("accepts_marketing", "boolean"),
        _f("tags", "list"),
        _f("created_at", "datetime"),
    ),
)

INVENTORY = EntitySchema(
    name="inventory",
    description="Stock level per SKU and location.",
    key=("sku", "location"),
    fields=(
        _f("sku", required=True),
        _f("location", required=True),
        _f("quantity", "integer", required=True),
        _f("updated_at", "datetime"),
    ),
)

PRICES = EntitySchema(
    name="prices",
    description="Price per SKU, currency and price list.",
    key=("sku", "currency", "price_list"),
    fields=(
        _f("sku", required=True),
        _f("currency", required=True),
        _f("price_list", required=True),
        _f("price", "decimal", required=True),
        _f("compare_at_price", "decimal"),
        _f("valid_from", "date"),
        _f("valid_to", "date"),
    ),
)

_BUILTIN = (PRODUCTS, CUSTOMERS, INVENTORY, PRICES)
_registered: dict[str, EntitySchema] = {}
_plugins: dict[str, EntitySchema] | None = None


def register_entity(schema: EntitySchema) -> None:
    """Add (or replace) an entity in this process."""
    _registered[schema.name] = schema


def _load_plugins() -> dict[str, EntitySchema]:
    global _plugins
    if _plugins is None:
        found: dict[str, EntitySchema] = {}
        for ep in entry_points(group="ferry.entities"):
            try:
                obj = ep.load()
                obj = obj() if callable(obj) and not isinstance(obj, EntitySchema) else obj
                for schema in obj if isinstance(obj, list | tuple) else [obj]:
                    if isinstance(schema, EntitySchema):
                        found[schema.name] = schema
            except Exception:  # a broken plugin must not break every profile
                log.exception("entity plugin %s cannot be loaded", ep.name)
        _plugins = found
    return _plugins


def reload_plugins() -> None:
    """Forget discovered plugins (tests, or after installing a plugin)."""
    global _plugins
    _plugins = None


def list_entities() -> list[EntitySchema]:
    merged = {s.name: s for s in _BUILTIN}
    merged.update(_load_plugins())
    merged.update(_registered)
    return sorted(merged.values(), key=lambda s: s.name)


def get_entity(name: str) -> EntitySchema:
    for schema in list_entities():
        if schema.name == name:
            return schema
    raise KeyError(name)
