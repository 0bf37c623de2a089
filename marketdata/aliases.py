from brokers import registry

from .models import SymbolAlias
from .resolution import bump_version

ANY = {"*", "any", ""}


def import_aliases(data, *, known_brokers: set[str]) -> tuple[int, int]:
    """Upsert aliases from {"<broker or *>": {"<exchange>": {"<from>": "<to>"}}}."""
    if not isinstance(data, dict):
        raise ValueError("the file must hold an object of brokers")
    created = updated = 0
    for broker_key, exchanges in data.items():
        broker = "" if broker_key.lower() in ANY else broker_key
        if broker and broker not in known_brokers:
            raise ValueError(
                f"unknown broker {broker_key!r} (known: {', '.join(sorted(known_brokers))})"
            )
        if not isinstance(exchanges, dict):
            raise ValueError(f"{broker_key}: expected an object of exchanges")
        for exchange, mapping in exchanges.items():
            if not isinstance(mapping, dict):
                raise ValueError(f"{broker_key}.{exchange}: expected an object of symbols")
            for source, target in mapping.items():
                if not isinstance(target, str) or not target.strip():
                    raise ValueError(f"{broker_key}.{exchange}.{source}: target must be a symbol")
                _, was_created = SymbolAlias.objects.update_or_create(
                    broker=broker,
                    exchange=exchange.upper(),
                    source=source.strip().upper(),
                    defaults={"target": target.strip()},
                )
                created += was_created
                updated += not was_created
    for adapter in registry.all_adapters():
        bump_version(adapter.name)
    return created, updated
