"""Two memos for hot paths inside the Rasa server, measured with py-spy on `make bench`.

- `Event.resolve_by_type` walks every subclass of `Event` (calling `inspect.isabstract`
  on each) for every stored event it deserialises; loading a 200-turn conversation spent
  about a sixth of the server's time there. The memo maps a type name to its class; a
  name it does not know goes to Rasa's own lookup, so unknown names still raise.
- Every custom action's response is validated with `jsonschema.validate`, which checks
  the (constant) schema against the meta-schema each time before validating: about a
  tenth of the server's time. The memo builds the validator once; the response is
  validated exactly as before and errors are raised the same way.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Dict, Optional, Type

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

_resolve_original = Event.resolve_by_type
_validate_original = RemoteAction._validate_action_result
_by_name: dict[str, Type[Event]] = {}
_lock = threading.Lock()


def _resolve_by_type(type_name: str, default: Optional[Type[Event]] = None
                     ) -> Optional[Type[Event]]:
    found = _by_name.get(type_name)
    if found is not None:
        return found
    resolved = _resolve_original(type_name, default)
    if resolved is not None and getattr(resolved, "type_name", None) == type_name:
        with _lock:
            _by_name[type_name] = resolved
    return resolved


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    from jsonschema.exceptions import best_match

    if best_match(_response_validator().iter_errors(result)) is None:
        return True
    return _validate_original(self, result)  # Rasa's own message and logging for errors


def install() -> None:
    """Use the memos (idempotent)."""
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
